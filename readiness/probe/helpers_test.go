package probe_test

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/session"
)

// corsMux is a minimal route inventory standing in for authz.Mux.
type corsMux struct {
	*http.ServeMux
	routes []string
}

func newCORSMux(patterns ...string) *corsMux {
	m := &corsMux{ServeMux: http.NewServeMux(), routes: patterns}
	for _, p := range patterns {
		m.Handle(p, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	}
	return m
}

func (m *corsMux) EachRoute(fn func(string, http.Handler)) {
	for _, p := range m.routes {
		h, _ := m.Handler(&http.Request{Method: strings.Fields(p)[0], URL: &url.URL{Path: strings.Fields(p)[1]}})
		fn(p, h)
	}
}

// corsRaw serves through a third-party middleware but unwraps to what it
// wraps, as an adapter would.
type corsRaw struct{ serve, next http.Handler }

func (s corsRaw) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.serve.ServeHTTP(w, r) }
func (s corsRaw) Unwrap() http.Handler                             { return s.next }

func newSessManager(t *testing.T, cfg session.Config) *session.Manager {
	t.Helper()
	mgr, err := session.New(cfg)
	require.NoError(t, err)
	return mgr
}

// sessIDs runs the checks and returns the sorted, distinct SESS (and
// PROBE001) IDs found.
func sessIDs(t *testing.T, target readiness.Target) ([]string, *readiness.Report) {
	t.Helper()
	r, err := readiness.Run(context.Background(), target)
	require.NoError(t, err)
	seen := map[string]bool{}
	var ids []string
	for _, id := range r.IDs() {
		if (strings.HasPrefix(id, "SESS") || id == "PROBE001") && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids, r
}

func sessServer(h http.Handler) *http.Server { return &http.Server{Handler: h} }

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
