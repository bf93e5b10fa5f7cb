package sentry_test

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/authz"
	"github.com/launchready/launchready/monitor"
	"github.com/launchready/launchready/monitor/sentry"
)

// ingest is a local endpoint acting as Sentry: it records every envelope
// posted to /api/<project>/envelope/.
type ingest struct {
	mu        sync.Mutex
	envelopes []string
	paths     []string
}

func (in *ingest) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	in.mu.Lock()
	in.envelopes = append(in.envelopes, string(b))
	in.paths = append(in.paths, r.URL.Path)
	in.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"id":"00000000000000000000000000000000"}`))
}

func (in *ingest) all() []string {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]string(nil), in.envelopes...)
}

// canary is a secret-shaped value built at test time.
func canary(tag string) string { return "cnry" + tag + hex.EncodeToString([]byte("Zq7-secret-"+tag)) }

type portal struct {
	srv    *httptest.Server
	in     *ingest
	rep    *sentry.Reporter
	revert func()
}

func start(t *testing.T) *portal {
	in := &ingest{}
	sink := httptest.NewServer(in)
	t.Cleanup(sink.Close)
	dsn := strings.Replace(sink.URL, "http://", "http://"+hex.EncodeToString([]byte("public-key-0001"))+"@", 1) + "/42"
	rep, err := sentry.New(sentry.Config{
		DSN: dsn, Environment: "staging", Release: "portal@0123456789ab",
		RequestID:    func(r *http.Request) string { return r.Header.Get("X-Request-Id") },
		AllowHeaders: []string{"User-Agent", "X-Request-Id"},
	})
	require.NoError(t, err)
	mux, err := authz.NewMux(authz.Config{Authenticate: func(*http.Request) (authz.Principal, error) {
		return authz.Principal{}, authz.ErrUnauthenticated
	}})
	require.NoError(t, err)
	mux.Handle("POST /api/clients/{id}/boom", authz.Public("test"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		panic(fmt.Sprintf("handler failed with password=%s while reading %d bytes", canary("panic"), len(body)))
	}))
	mux.Handle("GET /api/clients/{id}/fail", authz.Public("test"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}))
	mux.Handle("GET /api/ok", authz.Public("test"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
	}))
	rc := monitor.Recover(rep)
	rc.RequestID = func(r *http.Request) string { return r.Header.Get("X-Request-Id") }
	srv := httptest.NewServer(rc.Handler(rep.Handler(mux)))
	t.Cleanup(srv.Close)
	return &portal{srv: srv, in: in, rep: rep}
}

// attack sends a request carrying canaries everywhere Sentry's SDK would
// look by default: cookie, Authorization, an API-key header, the query
// string and the body.
func (p *portal) attack(t *testing.T, method, path string) *http.Response {
	req, err := http.NewRequest(method, p.srv.URL+path+"?token="+canary("query")+"&email=alice%40client-a.test", bytes.NewReader([]byte(`{"password":"`+canary("body")+`"}`)))
	require.NoError(t, err)
	req.Header.Set("Cookie", "__Host-session="+canary("cookie"))
	req.Header.Set("Authorization", "Bearer "+canary("auth"))
	req.Header.Set("X-Api-Key", canary("apikey"))
	req.Header.Set("X-Request-Id", "req-7f3a")
	req.Header.Set("User-Agent", "portal-test/1.0")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func assertNoCanary(t *testing.T, envelopes []string) {
	t.Helper()
	for _, e := range envelopes {
		for _, tag := range []string{"panic", "query", "body", "cookie", "auth", "apikey"} {
			assert.NotContains(t, e, canary(tag), "canary %s reached Sentry", tag)
		}
		assert.NotContains(t, e, "alice%40client-a.test")
		assert.NotContains(t, e, "alice@client-a.test")
		assert.NotContains(t, e, "/api/clients/client-a", "the raw path (object IDs) is not sent, the route pattern is")
	}
}

func TestPanicReachesSentryWithoutSecrets(t *testing.T) {
	p := start(t)
	resp := p.attack(t, "POST", "/api/clients/client-a/boom")
	assert.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	require.True(t, p.rep.Flush(10*time.Second))
	envs := p.in.all()
	require.Len(t, envs, 1, "one event for the panic (the 500 it became is not reported twice)")
	e := envs[0]
	assert.Contains(t, p.in.paths[0], "/api/42/envelope/")
	assert.Contains(t, e, `"route":"POST /api/clients/{id}/boom"`)
	assert.Contains(t, e, `"request_id":"req-7f3a"`)
	assert.Contains(t, e, `"release":"portal@0123456789ab"`)
	assert.Contains(t, e, `"environment":"staging"`)
	assert.Contains(t, e, `"type":"panic"`)
	assert.Contains(t, e, "handler failed with")
	assert.Contains(t, e, "[REDACTED")
	assert.Contains(t, e, "sentry_test.go", "the stack of the panicking handler")
	assertNoCanary(t, envs)
}

func TestServerErrorReachesSentryWithoutSecrets(t *testing.T) {
	p := start(t)
	assert.Equal(t, http.StatusBadGateway, p.attack(t, "GET", "/api/clients/client-a/fail").StatusCode)
	assert.Equal(t, http.StatusNotFound, p.attack(t, "GET", "/api/ok").StatusCode)
	require.True(t, p.rep.Flush(10*time.Second))
	envs := p.in.all()
	require.Len(t, envs, 1, "only the 5xx is an event")
	e := envs[0]
	assert.Contains(t, e, `"message":"502 Bad Gateway on GET /api/clients/{id}/fail"`)
	assert.Contains(t, e, `"status":"502"`)
	assert.Contains(t, e, `"request_id":"req-7f3a"`)
	assert.Contains(t, e, `"User-Agent":"portal-test/1.0"`)
	assert.NotContains(t, e, "X-Api-Key")
	assert.NotContains(t, e, "Authorization")
	assert.NotContains(t, e, "Cookie")
	assertNoCanary(t, envs)
}

func TestNewRefusesBadConfig(t *testing.T) {
	for name, tc := range map[string]struct {
		cfg  sentry.Config
		want string
	}{
		"no DSN":         {sentry.Config{Environment: "production", Release: "r"}, "Config.DSN is empty"},
		"no environment": {sentry.Config{DSN: "http://k@127.0.0.1:1/1", Release: "r"}, "Config.Environment"},
		"bad DSN":        {sentry.Config{DSN: "not a dsn", Environment: "production", Release: "r"}, "Config.DSN"},
		"cookie header":  {sentry.Config{DSN: "http://k@127.0.0.1:1/1", Environment: "production", Release: "r", AllowHeaders: []string{"cookie"}}, "Config.AllowHeaders lists Cookie"},
		"auth header":    {sentry.Config{DSN: "http://k@127.0.0.1:1/1", Environment: "production", Release: "r", AllowHeaders: []string{"Authorization"}}, "Config.AllowHeaders lists Authorization"},
		"no release":     {sentry.Config{DSN: "http://k@127.0.0.1:1/1", Environment: "production"}, "Config.Release"},
	} {
		_, err := sentry.New(tc.cfg)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), tc.want, name)
	}
}
