package readiness_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/authz"
	"github.com/launchready/launchready/readiness"
)

// miniRouter is a hand-written router like chi or gorilla: it registers
// patterns with Handle and dispatches on the path.
type miniRouter struct{ routes map[string]http.Handler }

func (m *miniRouter) Handle(pattern string, h http.Handler) {
	if m.routes == nil {
		m.routes = map[string]http.Handler{}
	}
	m.routes[pattern] = h
}

func (m *miniRouter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h, ok := m.routes[r.URL.Path]; ok {
		h.ServeHTTP(w, r)
		return
	}
	http.NotFound(w, r)
}

func subtreeFindings(t *testing.T, register func(m *authz.Mux)) []readiness.Finding {
	t.Helper()
	m := newMux(t)
	m.HandleFunc("GET /healthz", authz.Public("uptime monitor"), noop)
	register(m)
	return runAuth(t, m).ByID("AUTH012")
}

func TestAuthSubtreeDispatchers(t *testing.T) {
	withDot := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(withDot, "css"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(withDot, "css", "app.css"), []byte("body{}"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(withDot, "css", ".env"), []byte("X=1"), 0o644))
	clean := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(clean, "app.js"), []byte("//"), 0o644))

	router := &miniRouter{}
	router.Handle("/api/v1/tickets/t1", http.HandlerFunc(noop))
	inner := http.NewServeMux()
	inner.HandleFunc("/tickets/", noop)

	for _, tc := range []struct {
		name     string
		register func(m *authz.Mux)
		route    string
		seen     string
		sev      readiness.Severity
	}{
		{"router on a subtree", func(m *authz.Mux) {
			m.Handle("GET /api/v1/", authz.Authenticated(), router)
		}, "GET /api/v1/", "/api/v1/* is handed to a router (*readiness_test.miniRouter)", readiness.Blocker},
		{"router on a rest wildcard", func(m *authz.Mux) {
			m.Handle("/legacy/{rest...}", authz.Authenticated(), router)
		}, "/legacy/{rest...}", "/legacy/* is handed to a router", readiness.Blocker},
		{"StripPrefix over a mux", func(m *authz.Mux) {
			m.Handle("GET /v2/", authz.Authenticated(), http.StripPrefix("/v2", inner))
		}, "GET /v2/", "/v2/* is handed to http.StripPrefix", readiness.Warning},
		{"FileServer over a directory with a dotfile", func(m *authz.Mux) {
			m.Handle("GET /static/", authz.Public("page assets"), http.StripPrefix("/static/", http.FileServer(http.Dir(withDot))))
		}, "GET /static/", "/static/* is handed to http.StripPrefix", readiness.Warning},
		{"bare FileServer with a dotfile", func(m *authz.Mux) {
			m.Handle("GET /assets/", authz.Public("page assets"), http.FileServer(http.Dir(withDot)))
		}, "GET /assets/", "holds /css/.env", readiness.Blocker},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := subtreeFindings(t, tc.register)
			require.Len(t, fs, 1)
			assert.Equal(t, tc.route, fs[0].Route)
			assert.Equal(t, tc.sev, fs[0].Severity)
			assert.Contains(t, fs[0].Seen, tc.seen)
		})
	}

	// Correct apps: no finding.
	for name, register := range map[string]func(m *authz.Mux){
		"leaf handler on the root page": func(m *authz.Mux) {
			m.HandleFunc("GET /", authz.Public("browser page"), noop)
		},
		"FileServer over a clean directory": func(m *authz.Mux) {
			m.Handle("GET /assets/", authz.Public("page assets"), http.FileServer(http.Dir(clean)))
		},
		"router on an exact pattern": func(m *authz.Mux) {
			m.Handle("GET /api/v1/tickets/t1", authz.Authenticated(), router)
		},
		"nested authz.Mux (an inventory of its own)": func(m *authz.Mux) {
			m.Handle("GET /{$}", authz.Public("browser page"), http.HandlerFunc(noop))
		},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Empty(t, subtreeFindings(t, register))
		})
	}
}

// The attack AUTH012 is about: behind one authenticated subtree route, the
// hand-written router serves another tenant's ticket to any signed-in user,
// and no object-level check ran.
func TestAuthSubtreeRouterBypassesObjectChecks(t *testing.T) {
	router := &miniRouter{}
	router.Handle("/api/v1/tickets/t2", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ticket of client-b")
	}))
	m := newMux(t)
	m.Handle("GET /api/v1/", authz.Authenticated(), router)
	req := httptest.NewRequest("GET", "/api/v1/tickets/t2", nil)
	signIn("alice")(req) // alice is a client user of client-a
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, req)
	assert.Equal(t, 200, rec.Code, "the router served it")
	assert.Equal(t, "ticket of client-b", rec.Body.String())
	fs := runAuth(t, m).ByID("AUTH012")
	require.Len(t, fs, 1, "and readiness reports the subtree")
	assert.Contains(t, fs[0].Seen, "/api/v1/*")
}
