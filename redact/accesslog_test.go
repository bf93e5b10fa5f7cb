package redact_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/redact"
)

// annotate mimics authz.Mux: it walks the writer chain and annotates.
func annotate(w http.ResponseWriter, pattern, id, tenant string) {
	for w != nil {
		if s, ok := w.(interface{ SetRoute(string) }); ok {
			s.SetRoute(pattern)
		}
		if s, ok := w.(interface{ SetPrincipal(string, string) }); ok {
			s.SetPrincipal(id, tenant)
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return
		}
		w = u.Unwrap()
	}
}

func TestAccessLog(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(redact.NewHandler(slog.NewJSONHandler(&buf, nil), nil))
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { now = now.Add(5 * time.Millisecond); return now }
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		annotate(w, "GET /api/clients/{id}", "user-7", "client-a")
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte("hello"))
	})
	al := redact.NewAccessLog(app, redact.AccessLogConfig{
		Logger: logger, Now: clock,
		ClientIP:  func(*http.Request) string { return "203.0.113.9" },
		RequestID: func(r *http.Request) string { return "req-1" },
	})
	req := httptest.NewRequest("GET", "/api/clients/42?token=reset-Abc123Def456Ghi789&q=x", nil)
	req.Header.Set("Authorization", "Bearer abc.def.ghi")
	req.Header.Set("Cookie", "session=Zm9vYmFyYmF6cXV4cXV1eGNvcmdl")
	rec := httptest.NewRecorder()
	al.ServeHTTP(rec, req)
	require.Equal(t, http.StatusTeapot, rec.Code)
	out := buf.String()
	for _, want := range []string{`"method":"GET"`, `"route":"GET /api/clients/{id}"`, `"status":418`, `"bytes":5`,
		`"client_ip":"203.0.113.9"`, `"principal":"user-7"`, `"tenant":"client-a"`, `"request_id":"req-1"`, `"duration":5000000`} {
		assert.Contains(t, out, want)
	}
	for _, never := range []string{"token", "reset-Abc", "Bearer", "session=", "/api/clients/42", "q=x"} {
		assert.NotContains(t, out, never, "access log must not record %q", never)
	}
	assert.NotNil(t, al.Unwrap())
	assert.False(t, al.LogsQuery())
	assert.False(t, al.LogsHeaders())
	assert.Contains(t, al.Fields(), "request_id")
}

func TestAccessLogUnmatchedAndPeerIP(t *testing.T) {
	var buf bytes.Buffer
	al := redact.NewAccessLog(http.NotFoundHandler(), redact.AccessLogConfig{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	req := httptest.NewRequest("GET", "/nope", nil)
	req.RemoteAddr = "[2001:db8::1]:4242"
	req.Header.Set("X-Forwarded-For", "198.51.100.1") // spoofable: never used without ClientIP
	al.ServeHTTP(httptest.NewRecorder(), req)
	assert.Contains(t, buf.String(), "route=(unmatched)")
	assert.Contains(t, buf.String(), "client_ip=2001:db8::1")
	assert.NotContains(t, buf.String(), "198.51.100.1")
}

func TestAccessLogConcurrent(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	al := redact.NewAccessLog(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		annotate(w, "GET /x", "u", "t")
	}), redact.AccessLogConfig{Logger: slog.New(slog.NewTextHandler(&lockedWriter{&mu, &buf}, nil))})
	srv := httptest.NewServer(al)
	defer srv.Close()
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(srv.URL + "/x")
			if err == nil {
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 20, strings.Count(buf.String(), "route=\"GET /x\""))
}
