package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// standIn is a small portal for the command's tests: login with a cookie,
// a client list, ticket creation, logout, and /version behind a token.
// The portal-level tests (examples/deploy) run the real portal.
type standIn struct {
	brokenTickets atomic.Bool
	revision      string
	token         string
	loggedIn      sync.Map
	logins        atomic.Int32
}

func (s *standIn) start(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/login", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Email, Password string }
		if json.NewDecoder(r.Body).Decode(&in) != nil || in.Password != "stand-in-pass" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		n := s.logins.Add(1)
		tok := fmt.Sprint("sess-", n)
		s.loggedIn.Store(tok, true)
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: tok, Path: "/"})
		_, _ = w.Write([]byte(`{"role":"support"}`))
	})
	signed := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			c, err := r.Cookie("sid")
			if err != nil {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			if _, ok := s.loggedIn.Load(c.Value); !ok {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			h(w, r)
		}
	}
	mux.HandleFunc("GET /api/clients", signed(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`[{"id":"client-a"}]`)) }))
	mux.HandleFunc("POST /api/clients/{id}/tickets", signed(func(w http.ResponseWriter, r *http.Request) {
		if s.brokenTickets.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":7,"subject":"synthetic"}`))
	}))
	mux.HandleFunc("POST /api/logout", signed(func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Cookie("sid")
		s.loggedIn.Delete(c.Value)
		w.WriteHeader(http.StatusNoContent)
	}))
	mux.HandleFunc("GET /version", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+s.token {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"revision": s.revision})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

const standInFlows = `flows:
  - name: agent opens a ticket
    covers: [login, workflow]
    steps:
      - name: login
        request: POST /api/login
        json: {email: agent@acme.test, password: "${STANDIN_PASSWORD}"}
        status: 200
      - name: client lookup
        request: GET /api/clients
        capture: {client: "$[0].id"}
      - name: ticket creation
        request: POST /api/clients/{{client}}/tickets
        json: {subject: synthetic}
        status: 201
      - name: logout
        request: POST /api/logout
        status: 204
        always: true
`

func writeFlows(t *testing.T) string {
	t.Setenv("STANDIN_PASSWORD", "stand-in-pass")
	p := filepath.Join(t.TempDir(), "flows.yaml")
	require.NoError(t, os.WriteFile(p, []byte(standInFlows), 0o600))
	return p
}

func TestVerifyPasses(t *testing.T) {
	s := &standIn{}
	srv := s.start(t)
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"verify", "-flows", writeFlows(t), srv.URL}, &out, &errOut)
	assert.Equal(t, exitOK, code, errOut.String())
	assert.Contains(t, out.String(), `PASS flow "agent opens a ticket" (4 steps`)
}

func TestVerifyFailsNamingTheStep(t *testing.T) {
	s := &standIn{}
	s.brokenTickets.Store(true)
	srv := s.start(t)
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"verify", "-flows", writeFlows(t), "-attempts", "2", "-wait", "1ms", srv.URL}, &out, &errOut)
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, out.String(), `FAIL flow "agent opens a ticket" at step "ticket creation"`)
	assert.Contains(t, out.String(), "FAIL ticket creation: unexpected status: got 500, want 201")
	assert.Contains(t, out.String(), "ok   logout")
	assert.Contains(t, errOut.String(), "try 1 of flow")
	assert.EqualValues(t, 2, s.logins.Load(), "one sign-in per try")
}

func TestVerifyRelease(t *testing.T) {
	s := &standIn{revision: strings.Repeat("c0ffee", 6) + "abcd", token: strings.Repeat("t", 40)}
	srv := s.start(t)
	flowsFile := writeFlows(t)
	t.Setenv(releaseTokenEnv, s.token)

	var out bytes.Buffer
	code := run(context.Background(), []string{"verify", "-flows", flowsFile, "-expect-revision", s.revision[:10], srv.URL}, &out, io.Discard)
	assert.Equal(t, exitOK, code, out.String())
	assert.Contains(t, out.String(), "PASS release c0ffeec0ffee is live")

	out.Reset()
	code = run(context.Background(), []string{"verify", "-flows", flowsFile, "-attempts", "2", "-wait", "1ms", "-expect-revision", "deadbeef", srv.URL}, &out, io.Discard)
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, out.String(), "answers with revision c0ffeec0ffee, not deadbeef")

	t.Setenv(releaseTokenEnv, "wrong")
	out.Reset()
	code = run(context.Background(), []string{"verify", "-flows", flowsFile, "-attempts", "1", "-expect-revision", s.revision, srv.URL}, &out, io.Discard)
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, out.String(), "status 401 (set LAUNCHREADY_RELEASE_TOKEN")
}

func TestVerifyCannotRun(t *testing.T) {
	for name, args := range map[string][]string{
		"no flows":      {"verify", "http://127.0.0.1:1"},
		"no url":        {"verify", "-flows", "x.yaml"},
		"missing file":  {"verify", "-flows", filepath.Join(t.TempDir(), "none.yaml"), "http://127.0.0.1:1"},
		"bad url":       {"verify", "-flows", "x.yaml", "ftp://x"},
		"short rev":     {"verify", "-flows", "x.yaml", "-expect-revision", "abc", "http://127.0.0.1:1"},
		"zero attempts": {"verify", "-flows", "x.yaml", "-attempts", "0", "http://127.0.0.1:1"},
	} {
		assert.Equal(t, exitCantRun, run(context.Background(), args, io.Discard, io.Discard), name)
	}
}

// lines is a concurrency-safe writer whose lines a test can wait for.
type lines struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lines) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }
func (l *lines) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// alertSink records webhook posts.
type alertSink struct {
	mu    sync.Mutex
	posts []map[string]any
}

func (a *alertSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m map[string]any
	_ = json.NewDecoder(r.Body).Decode(&m)
	a.mu.Lock()
	a.posts = append(a.posts, m)
	a.mu.Unlock()
}

func (a *alertSink) got() []map[string]any {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]map[string]any(nil), a.posts...)
}

func scrape(t *testing.T, url string) string {
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

func TestMonitorAlertsRecoversAndStops(t *testing.T) {
	s := &standIn{}
	srv := s.start(t)
	sink := &alertSink{}
	hook := httptest.NewServer(sink)
	t.Cleanup(hook.Close)
	var out lines
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"monitor", "-flows", writeFlows(t), "-every", "1s", "-jitter", "0", "-fail-after", "2",
			"-listen", "127.0.0.1:0", "-webhook", hook.URL, "-webhook-format", "json", srv.URL}, &out, io.Discard)
	}()
	var metricsURL string
	require.Eventually(t, func() bool {
		m := regexp.MustCompile(`metrics on (\S+)`).FindStringSubmatch(out.String())
		if m != nil {
			metricsURL = m[1]
		}
		return m != nil
	}, 10*time.Second, 5*time.Millisecond)
	success := fmt.Sprintf(`probe_success{instance="%s",flow="agent opens a ticket"}`, srv.URL)
	require.Eventually(t, func() bool { return strings.Contains(scrape(t, metricsURL), success+" 1") }, 10*time.Second, 10*time.Millisecond)

	s.brokenTickets.Store(true)
	require.Eventually(t, func() bool { return len(sink.got()) == 1 }, 20*time.Second, 10*time.Millisecond)
	assert.Equal(t, "firing", sink.got()[0]["status"])
	assert.Equal(t, "ticket creation", sink.got()[0]["step"])
	metrics := scrape(t, metricsURL)
	assert.Contains(t, metrics, success+" 0")
	assert.Contains(t, metrics, `step="ticket creation"} 500`)

	s.brokenTickets.Store(false)
	require.Eventually(t, func() bool { return len(sink.got()) == 2 }, 20*time.Second, 10*time.Millisecond)
	assert.Equal(t, "resolved", sink.got()[1]["status"])

	cancel() // what SIGTERM does through main's signal context
	select {
	case code := <-done:
		assert.Equal(t, exitOK, code)
	case <-time.After(15 * time.Second):
		t.Fatal("monitor did not stop")
	}
	assert.Len(t, sink.got(), 2, "one alert, one recovery")
	assert.Contains(t, out.String(), "monitor stopped")
	_, err := http.Get(metricsURL)
	assert.Error(t, err, "the metrics server is shut down")
}

func TestMonitorCannotRun(t *testing.T) {
	f := writeFlows(t)
	for name, args := range map[string][]string{
		"no urls":     {"monitor", "-flows", f},
		"fast":        {"monitor", "-flows", f, "-every", "10ms", "http://127.0.0.1:1"},
		"bad format":  {"monitor", "-flows", f, "-webhook", "http://127.0.0.1:1", "-webhook-format", "xml", "http://127.0.0.1:1"},
		"bad listen":  {"monitor", "-flows", f, "-listen", "256.0.0.1:0", "http://127.0.0.1:1"},
		"bad target":  {"monitor", "-flows", f, "file:///etc/passwd"},
		"bad webhook": {"monitor", "-flows", f, "-webhook", "ftp://x", "http://127.0.0.1:1"},
	} {
		assert.Equal(t, exitCantRun, run(context.Background(), args, io.Discard, io.Discard), name)
	}
}
