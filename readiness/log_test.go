package readiness_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/readiness/probe"
	"github.com/launchready/launchready/redact"
)

// fakeInventory stands in for authz.Mux.
type fakeInventory struct {
	mux      *http.ServeMux
	patterns []string
}

func newLogInventory(routes map[string]http.HandlerFunc) *fakeInventory {
	inv := &fakeInventory{mux: http.NewServeMux()}
	for p, h := range routes {
		inv.mux.Handle(p, h)
		inv.patterns = append(inv.patterns, p)
	}
	return inv
}

func (f *fakeInventory) ServeHTTP(w http.ResponseWriter, r *http.Request) { f.mux.ServeHTTP(w, r) }
func (f *fakeInventory) EachRoute(fn func(string, http.Handler)) {
	for _, p := range f.patterns {
		h, _ := f.mux.Handler(mustReq(p))
		fn(p, h)
	}
}

func mustReq(pattern string) *http.Request {
	m, _, p := readiness.ParsePattern(pattern)
	if m == "" {
		m = "GET"
	}
	r, _ := http.NewRequest(m, "http://portal.example.com"+p, nil)
	return r
}

// leakyAccessLog is a third-party access logger that records raw URLs.
type leakyAccessLog struct{ next http.Handler }

func (l leakyAccessLog) ServeHTTP(w http.ResponseWriter, r *http.Request) { l.next.ServeHTTP(w, r) }
func (l leakyAccessLog) Unwrap() http.Handler                             { return l.next }
func (leakyAccessLog) LogsQuery() bool                                    { return true }
func (leakyAccessLog) LogsHeaders() bool                                  { return false }

func TestLogging(t *testing.T) {
	plainDebug := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelDebug}))
	redacting := slog.New(redact.NewHandler(slog.NewJSONHandler(io.Discard, nil), nil))
	inv := newLogInventory(map[string]http.HandlerFunc{"GET /api/me": func(http.ResponseWriter, *http.Request) {}})
	lines, err := redact.NewAccessLogWriter(inv, io.Discard, nil, redact.AccessLogConfig{})
	require.NoError(t, err)
	tests := []struct {
		name    string
		env     readiness.Env
		handler http.Handler
		checks  []readiness.Check
		want    []string
	}{
		{"plain debug logger in production", readiness.Production, inv, []readiness.Check{readiness.Logging{Logger: plainDebug}}, []string{"LOG001", "LOG004"}},
		{"plain debug logger in development", readiness.Development, inv, []readiness.Check{readiness.Logging{Logger: plainDebug}}, []string{"LOG001"}},
		{"redacting logger", readiness.Production, inv, []readiness.Check{readiness.Logging{Logger: redacting}}, nil},
		{"leaky access log", readiness.Production, leakyAccessLog{inv}, nil, []string{"LOG003"}},
		{"access log without redaction", readiness.Production, redact.NewAccessLog(inv, redact.AccessLogConfig{Logger: plainDebug}), nil, []string{"LOG001"}},
		{"redacting access log", readiness.Production, redact.NewAccessLog(inv, redact.AccessLogConfig{Logger: redacting}), nil, nil},
		{"line-writing access log", readiness.Production, lines, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, ids := runIDs(t, readiness.Target{Env: tc.env, Server: serverWith(tc.handler), Checks: tc.checks}, "LOG")
			assert.Equal(t, tc.want, ids)
		})
	}
}

func TestLogCanaryProbe(t *testing.T) {
	build := func(logger *slog.Logger) http.Handler {
		return newLogInventory(map[string]http.HandlerFunc{
			"POST /api/login": func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				logger.Info("login attempt", "body", string(body))
			},
			"GET /api/clients/{id}": func(w http.ResponseWriter, r *http.Request) {
				logger.Info("request", "url", r.URL.String(), "auth", r.Header.Get("Authorization"),
					"headers", r.Header)
			},
		})
	}
	t.Run("leaky app", func(t *testing.T) {
		capture := &probe.LogCapture{}
		logger := slog.New(slog.NewJSONHandler(capture, nil))
		probe := probe.LogCanary{Capture: capture}
		rep, ids := runIDs(t, readiness.Target{Server: serverWith(build(logger)), Checks: []readiness.Check{probe}}, "LOG002")
		require.NotEmpty(t, ids)
		assert.Len(t, ids, 6, "%v", rep.ByID("LOG002"))
	})
	t.Run("redacting app", func(t *testing.T) {
		capture := &probe.LogCapture{}
		logger := slog.New(redact.NewHandler(slog.NewJSONHandler(capture, nil), nil))
		probe := probe.LogCanary{Capture: capture}
		_, ids := runIDs(t, readiness.Target{Server: serverWith(build(logger)), Checks: []readiness.Check{probe}}, "LOG002")
		assert.Empty(t, ids)
		assert.Contains(t, capture.String(), "login attempt", "the probe reached the handlers")
	})
	t.Run("gate refuses the probe", func(t *testing.T) {
		var _ readiness.ProbeOnly = probe.LogCanary{}
	})
}

// blockingWriter never returns from Write until released.
type blockingWriter struct{ release chan struct{} }

func (w blockingWriter) Write(p []byte) (int, error) { <-w.release; return len(p), nil }

// LOG005: a batched access log that dropped lines (its writer stalled) is
// reported; one that dropped none is not.
func TestLoggingDroppedAccessLogLines(t *testing.T) {
	inv := newLogInventory(map[string]http.HandlerFunc{"GET /api/me": func(http.ResponseWriter, *http.Request) {}})
	stalled := blockingWriter{release: make(chan struct{})}
	queue, err := redact.NewBatchWriter(stalled, redact.BatchConfig{QueueBytes: 512})
	require.NoError(t, err)
	defer func() { close(stalled.release); assert.NoError(t, queue.Close()) }()
	al, err := redact.NewAccessLogWriter(inv, queue, nil, redact.AccessLogConfig{})
	require.NoError(t, err)
	_, ids := runIDs(t, readiness.Target{Env: readiness.Production, Server: serverWith(al)}, "LOG")
	assert.Empty(t, ids, "nothing dropped yet")
	for range 20 {
		al.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/me", nil))
	}
	require.NotZero(t, queue.Dropped())
	_, ids = runIDs(t, readiness.Target{Env: readiness.Production, Server: serverWith(al)}, "LOG")
	assert.Equal(t, []string{"LOG005"}, ids)
}
