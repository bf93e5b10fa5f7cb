package monitor_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/monitor"
)

type captureReporter struct {
	mu     sync.Mutex
	panics []monitor.Panic
}

func (c *captureReporter) Report(_ context.Context, p monitor.Panic) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.panics = append(c.panics, p)
}

func (c *captureReporter) all() []monitor.Panic {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]monitor.Panic(nil), c.panics...)
}

// routeMux is a stand-in for authz.Mux: it announces the matched pattern up
// the writer chain through SetRoute.
type routeMux struct{ *http.ServeMux }

func (m routeMux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, pattern := m.Handler(r)
	for x := w; x != nil; {
		if s, ok := x.(interface{ SetRoute(string) }); ok {
			s.SetRoute(pattern)
		}
		u, ok := x.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			break
		}
		x = u.Unwrap()
	}
	m.ServeMux.ServeHTTP(w, r)
}

func TestRecoveryAnswersProblemAndReportsOnce(t *testing.T) {
	rep := &captureReporter{}
	mux := http.NewServeMux()
	const secret = "db password is hunter2"
	mux.HandleFunc("GET /boom/{id}", func(http.ResponseWriter, *http.Request) { panic(secret) })
	mux.HandleFunc("GET /ok", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "fine") })
	rc := &monitor.Recovery{Reporter: rep, RequestID: func(r *http.Request) string { return "req-1" }}
	srv := httptest.NewServer(rc.Handler(routeMux{mux}))
	defer srv.Close()

	req, err := http.NewRequest("GET", srv.URL+"/boom/42?token=abc", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer sekrit")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, http.StatusInternalServerError, res.StatusCode)
	assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
	var prob map[string]any
	require.NoError(t, json.Unmarshal(body, &prob))
	assert.Equal(t, "about:blank", prob["type"])
	assert.EqualValues(t, 500, prob["status"])
	// Attack: the panic value and the stack must not reach the client.
	assert.NotContains(t, string(body), "hunter2")
	assert.NotContains(t, string(body), "goroutine")

	got := rep.all()
	require.Len(t, got, 1)
	p := got[0]
	assert.Equal(t, secret, p.Value)
	assert.Equal(t, "GET", p.Method)
	assert.Equal(t, "GET /boom/{id}", p.Route)
	assert.Equal(t, "req-1", p.RequestID)
	assert.Contains(t, string(p.Stack), "monitor_test.TestRecoveryAnswersProblemAndReportsOnce")

	// The server keeps serving.
	res, err = http.Get(srv.URL + "/ok")
	require.NoError(t, err)
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "fine", string(body))
	assert.Len(t, rep.all(), 1)
}

func TestRecoveryAfterResponseStartedAborts(t *testing.T) {
	rep := &captureReporter{}
	h := monitor.Recover(rep).Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "partial")
		panic("late")
	}))
	rec := httptest.NewRecorder()
	assert.PanicsWithValue(t, http.ErrAbortHandler, func() { h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil)) })
	assert.Len(t, rep.all(), 1)
}

func TestRecoveryPassesAbortHandlerUnreported(t *testing.T) {
	rep := &captureReporter{}
	h := monitor.Recover(rep).Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }))
	assert.PanicsWithValue(t, http.ErrAbortHandler, func() { h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil)) })
	assert.Empty(t, rep.all())
}

type panickyReporter struct{}

func (panickyReporter) Report(context.Context, monitor.Panic) { panic("reporter broke") }

func TestRecoverySurvivesBrokenReporter(t *testing.T) {
	h := monitor.Recover(panickyReporter{}).Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("x") }))
	rec := httptest.NewRecorder()
	assert.NotPanics(t, func() { h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil)) })
	assert.Equal(t, 500, rec.Code)
}

func TestRecoveryIsWalkable(t *testing.T) {
	inner := http.NewServeMux()
	h := (&monitor.Recovery{}).Handler(inner)
	rh, ok := h.(*monitor.RecoveryHandler)
	require.True(t, ok)
	assert.Same(t, inner, rh.Unwrap())
	assert.IsType(t, monitor.SlogReporter{}, rh.Reporter())
}

func TestHealthReadinessFlipsLivenessDoesNot(t *testing.T) {
	var mu sync.Mutex
	dbErr := error(nil)
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	h, err := monitor.NewHealth(monitor.HealthConfig{
		Dependencies: []monitor.Dependency{{Name: "db", Timeout: time.Second, Ping: func(context.Context) error {
			mu.Lock()
			defer mu.Unlock()
			return dbErr
		}}},
		Detail: func(r *http.Request) bool { return r.Header.Get("X-Admin") == "yes" },
		Now:    clock,
	})
	require.NoError(t, err)
	h.SetBoot(nil)

	get := func(hh http.Handler, admin bool) (int, string) {
		r := httptest.NewRequest("GET", "/", nil)
		if admin {
			r.Header.Set("X-Admin", "yes")
		}
		rec := httptest.NewRecorder()
		hh.ServeHTTP(rec, r)
		return rec.Code, rec.Body.String()
	}
	code, body := get(h.Readiness(), false)
	assert.Equal(t, 200, code)
	assert.JSONEq(t, `{"status":"ready"}`, body)

	mu.Lock()
	dbErr = errors.New("dial tcp 10.0.0.7:5432: connection refused")
	now = now.Add(2 * time.Second) // past the cache
	mu.Unlock()

	code, body = get(h.Readiness(), false)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.JSONEq(t, `{"status":"unavailable"}`, body)
	// Attack: anonymous callers learn no names, addresses or error text.
	assert.NotContains(t, body, "10.0.0.7")
	assert.NotContains(t, body, "db")

	code, body = get(h.Liveness(), false)
	assert.Equal(t, 200, code)
	assert.JSONEq(t, `{"status":"ok"}`, body)

	code, body = get(h.Readiness(), true)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Contains(t, body, `"name":"db"`)
	assert.Contains(t, body, "connection refused")
	assert.Error(t, h.Check(context.Background()))
}

func TestHealthBootVerdictAndTimeout(t *testing.T) {
	h, err := monitor.NewHealth(monitor.HealthConfig{})
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	h.Readiness().ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	assert.Equal(t, 503, rec.Code, "not ready before the boot verdict")
	h.SetBoot(nil)
	assert.NoError(t, h.Check(context.Background()))
	h.SetBoot(errors.New("blocked"))
	assert.ErrorContains(t, h.Check(context.Background()), "blocked")

	hang, err := monitor.NewHealth(monitor.HealthConfig{
		Boot: func() error { return nil },
		Dependencies: []monitor.Dependency{{Name: "mail", Timeout: time.Millisecond, Ping: func(ctx context.Context) error {
			<-ctx.Done()
			return ctx.Err()
		}}},
	})
	require.NoError(t, err)
	assert.ErrorContains(t, hang.Check(context.Background()), "mail")
}

func TestHealthConfigErrors(t *testing.T) {
	ping := func(context.Context) error { return nil }
	tests := []struct {
		name string
		deps []monitor.Dependency
		want string
	}{
		{"no name", []monitor.Dependency{{Timeout: time.Second, Ping: ping}}, "Name is empty"},
		{"dup", []monitor.Dependency{{Name: "a", Timeout: time.Second, Ping: ping}, {Name: "a", Timeout: time.Second, Ping: ping}}, "used twice"},
		{"no timeout", []monitor.Dependency{{Name: "a", Ping: ping}}, "Timeout is 0s"},
		{"no ping", []monitor.Dependency{{Name: "a", Timeout: time.Second}}, "Ping is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := monitor.NewHealth(monitor.HealthConfig{Dependencies: tt.deps})
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "monitor: "))
		})
	}
}

func TestCountersByRouteAndKind(t *testing.T) {
	c := monitor.NewCounters()
	mux := http.NewServeMux()
	for _, code := range []int{200, 401, 403, 404, 429, 500, 503} {
		mux.HandleFunc("GET /s/"+http.StatusText(code), func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) })
	}
	mux.HandleFunc("POST /csrf", func(w http.ResponseWriter, r *http.Request) {
		c.CrossOriginDenied(nil).ServeHTTP(w, r)
	})
	mux.HandleFunc("GET /panic", func(http.ResponseWriter, *http.Request) { panic("x") })
	h := monitor.Recover(&captureReporter{}).Handler(c.Handler(routeMux{mux}))
	do := func(method, path string) {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, path, nil))
	}
	for _, code := range []int{200, 401, 403, 404, 429, 500, 503} {
		do("GET", "/s/"+strings.ReplaceAll(http.StatusText(code), " ", "%20"))
	}
	do("POST", "/csrf")
	do("GET", "/panic")
	do("GET", "/nowhere")

	assert.EqualValues(t, 1, c.Value("GET /s/Unauthorized", monitor.AuthFailure))
	assert.EqualValues(t, 1, c.Value("GET /s/Forbidden", monitor.Denied))
	assert.EqualValues(t, 1, c.Value("GET /s/Too Many Requests", monitor.RateLimited))
	assert.EqualValues(t, 1, c.Value("GET /s/Internal Server Error", monitor.ServerError))
	assert.EqualValues(t, 1, c.Value("GET /s/Service Unavailable", monitor.ServerError))
	assert.EqualValues(t, 1, c.Value("POST /csrf", monitor.CrossOrigin))
	assert.EqualValues(t, 0, c.Value("POST /csrf", monitor.Denied))
	assert.EqualValues(t, 1, c.Value("GET /panic", monitor.ServerError))
	assert.EqualValues(t, 3, c.Total(monitor.ServerError))
	assert.Len(t, c.Snapshot(), 7, "200 and 404 are not counted")
}

func TestCountersExactUnderConcurrency(t *testing.T) {
	c := monitor.NewCounters()
	rep := &captureReporter{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /a", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(401) })
	mux.HandleFunc("GET /b", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(500) })
	mux.HandleFunc("GET /c", func(http.ResponseWriter, *http.Request) { panic("c") })
	h := c.Handler(monitor.Recover(rep).Handler(routeMux{mux}))
	const workers, per = 8, 200
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < per; j++ {
				for _, p := range []string{"/a", "/b", "/c"} {
					h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", p, nil))
				}
				_ = c.Snapshot() // readers run alongside writers
			}
		}()
	}
	wg.Wait()
	assert.EqualValues(t, workers*per, c.Value("GET /a", monitor.AuthFailure))
	assert.EqualValues(t, workers*per, c.Value("GET /b", monitor.ServerError))
	assert.EqualValues(t, workers*per, c.Value("GET /c", monitor.ServerError))
	assert.Len(t, rep.all(), workers*per)
}

func TestWritersKeepUnwrap(t *testing.T) {
	c := monitor.NewCounters()
	var sawFlusher bool
	h := monitor.Recover(nil).Handler(c.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		sawFlusher = http.NewResponseController(w).Flush() == nil
	})))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	assert.True(t, sawFlusher)
}

func TestHealthBootFlipsUnderConcurrentRequests(t *testing.T) {
	h, err := monitor.NewHealth(monitor.HealthConfig{CacheFor: -1})
	require.NoError(t, err)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				rec := httptest.NewRecorder()
				h.Readiness().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
				if rec.Code != 200 && rec.Code != 503 {
					t.Errorf("status %d", rec.Code)
				}
			}
		}()
	}
	for i := range 200 {
		if i%2 == 0 {
			h.SetBoot(nil)
		} else {
			h.SetBoot(errors.New("gate blocked"))
		}
	}
	h.SetBoot(nil)
	close(stop)
	wg.Wait()
	rec := httptest.NewRecorder()
	h.Readiness().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	assert.Equal(t, 200, rec.Code)
}

func TestRecoveryCustomProblem(t *testing.T) {
	rc := &monitor.Recovery{
		Reporter: &captureReporter{},
		Problem: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusServiceUnavailable)
		}),
	}
	rec := httptest.NewRecorder()
	rc.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("x") })).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	assert.Equal(t, 503, rec.Code)
}

func TestSlogReporterLogsWithoutRequestData(t *testing.T) {
	var buf strings.Builder
	rep := monitor.SlogReporter{Logger: slog.New(slog.NewJSONHandler(&buf, nil))}
	h := monitor.Recover(rep).Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("nil map") }))
	r := httptest.NewRequest("POST", "/login?password=hunter2", strings.NewReader("password=hunter2"))
	r.Header.Set("Cookie", "session=abc123")
	h.ServeHTTP(httptest.NewRecorder(), r)
	out := buf.String()
	assert.Contains(t, out, "nil map")
	assert.Contains(t, out, `"method":"POST"`)
	assert.Contains(t, out, "goroutine")
	// Attack: nothing from the query string, body or headers is reported.
	assert.NotContains(t, out, "hunter2")
	assert.NotContains(t, out, "abc123")
}

func TestPackageLiveness(t *testing.T) {
	rec := httptest.NewRecorder()
	monitor.Liveness().ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	assert.Equal(t, 200, rec.Code)
	assert.JSONEq(t, `{"status":"ok"}`, rec.Body.String())
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
}

// Recovery and counters share one writer when stacked directly; the counts
// must not depend on the order, and a cross-origin rejection behind a
// recovery handler without counters must still be counted.
func TestCountersWithRecoveryInEitherOrder(t *testing.T) {
	build := map[string]func(c *monitor.Counters, next http.Handler) http.Handler{
		"recovery outside": func(c *monitor.Counters, next http.Handler) http.Handler {
			return monitor.Recover(&captureReporter{}).Handler(c.Handler(next))
		},
		"counters outside": func(c *monitor.Counters, next http.Handler) http.Handler {
			return c.Handler(monitor.Recover(&captureReporter{}).Handler(next))
		},
		"two counters": func(c *monitor.Counters, next http.Handler) http.Handler {
			return c.Handler(monitor.Recover(&captureReporter{}).Handler(monitor.NewCounters().Handler(next)))
		},
	}
	for name, stack := range build {
		t.Run(name, func(t *testing.T) {
			c := monitor.NewCounters()
			mux := http.NewServeMux()
			mux.HandleFunc("POST /csrf", func(w http.ResponseWriter, r *http.Request) { c.CrossOriginDenied(nil).ServeHTTP(w, r) })
			mux.HandleFunc("GET /panic", func(http.ResponseWriter, *http.Request) { panic("x") })
			h := stack(c, routeMux{mux})
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("POST", "/csrf", nil))
			assert.Equal(t, http.StatusForbidden, rec.Code)
			rec = httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/panic", nil))
			assert.Equal(t, http.StatusInternalServerError, rec.Code)
			assert.EqualValues(t, 1, c.Value("POST /csrf", monitor.CrossOrigin))
			assert.EqualValues(t, 0, c.Value("POST /csrf", monitor.Denied))
			assert.EqualValues(t, 1, c.Value("GET /panic", monitor.ServerError))
		})
	}
	t.Run("recovery without counters", func(t *testing.T) {
		c := monitor.NewCounters()
		h := monitor.Recover(&captureReporter{}).Handler(c.CrossOriginDenied(nil))
		r := httptest.NewRequest("POST", "/csrf", nil)
		r.Pattern = "POST /csrf"
		h.ServeHTTP(httptest.NewRecorder(), r)
		assert.EqualValues(t, 1, c.Value("POST /csrf", monitor.CrossOrigin), "counted directly, not left to a writer no counter reads")
	})
}

// An optional dependency (one with a fallback, such as a breaker-guarded
// enrichment API) that fails shows as degraded to admins, but the replica
// stays ready: every replica shares the dependency, and taking them all out
// of the load balancer would turn a degraded page into an outage.
func TestHealthOptionalDependencyDegradesWithoutFailingReadiness(t *testing.T) {
	crmErr := errors.New("egress: crm is failing; its circuit breaker is open")
	dbErr := error(nil)
	var mu sync.Mutex
	h, err := monitor.NewHealth(monitor.HealthConfig{
		Dependencies: []monitor.Dependency{
			{Name: "db", Timeout: time.Second, Ping: func(context.Context) error { mu.Lock(); defer mu.Unlock(); return dbErr }},
			{Name: "crm", Timeout: time.Second, Optional: true, Ping: func(context.Context) error { return crmErr }},
		},
		Detail:   func(r *http.Request) bool { return r.Header.Get("X-Admin") == "yes" },
		CacheFor: -1,
	})
	require.NoError(t, err)
	h.SetBoot(nil)
	get := func(admin bool) (int, string) {
		r := httptest.NewRequest("GET", "/readyz", nil)
		if admin {
			r.Header.Set("X-Admin", "yes")
		}
		rec := httptest.NewRecorder()
		h.Readiness().ServeHTTP(rec, r)
		return rec.Code, rec.Body.String()
	}
	code, body := get(false)
	assert.Equal(t, http.StatusOK, code)
	assert.JSONEq(t, `{"status":"ready"}`, body)
	code, body = get(true)
	assert.Equal(t, http.StatusOK, code)
	var detail struct {
		Status       string
		Dependencies []monitor.DependencyState
	}
	require.NoError(t, json.Unmarshal([]byte(body), &detail))
	assert.Equal(t, "degraded", detail.Status)
	require.Len(t, detail.Dependencies, 2)
	assert.False(t, detail.Dependencies[1].OK)
	assert.True(t, detail.Dependencies[1].Optional)
	assert.Contains(t, detail.Dependencies[1].Error, "circuit breaker is open")
	assert.NoError(t, h.Check(context.Background()))

	// A required dependency still fails readiness.
	mu.Lock()
	dbErr = errors.New("db down")
	mu.Unlock()
	code, _ = get(false)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	err = h.Check(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "db down")
	assert.NotContains(t, err.Error(), "crm", "optional dependencies do not make the replica unready")
}

func TestReleaseFromBuildInfo(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
		{Key: "vcs.time", Value: "2026-12-01T10:00:00Z"},
		{Key: "vcs.modified", Value: "true"},
	}}
	rel := monitor.ReleaseFrom(bi)
	assert.Equal(t, "0123456789abcdef0123456789abcdef01234567", rel.Revision)
	assert.True(t, rel.Modified)
	assert.Equal(t, 2026, rel.Time.Year())
	assert.Equal(t, "0123456789abcdef0123456789abcdef01234567+modified (v1.2.3)", rel.String())
	assert.Equal(t, monitor.Release{}, monitor.ReleaseFrom(nil))

	rec := httptest.NewRecorder()
	monitor.NewVersionHandler(rel).ServeHTTP(rec, httptest.NewRequest("GET", "/version", nil))
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	var got monitor.Release
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
	assert.Equal(t, rel, got)
}
