package flows_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/flows"
)

// app is a tiny portal: a cookie session from POST /api/login, a client
// list, ticket creation and logout. breakTickets makes ticket creation
// answer 500; echo makes login echo the password in its answer.
type app struct {
	password     string
	breakTickets atomic.Bool
	echo         atomic.Bool
	mu           sync.Mutex
	sessions     map[string]bool
	issued       int
	loggedOut    atomic.Int32
	tickets      atomic.Int32
}

func newApp(t *testing.T, password string) (*app, *httptest.Server) {
	a := &app{password: password, sessions: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/login", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Email, Password string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Password != a.password {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		a.mu.Lock()
		a.issued++
		tok := fmt.Sprintf("session-%d", a.issued)
		a.sessions[tok] = true
		a.mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: tok, Path: "/", HttpOnly: true})
		out := map[string]string{"role": "support", "email": in.Email}
		if a.echo.Load() {
			out["role"] = "support " + in.Password
		}
		_ = json.NewEncoder(w).Encode(out)
	})
	signed := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			c, err := r.Cookie("sid")
			a.mu.Lock()
			ok := err == nil && a.sessions[c.Value]
			a.mu.Unlock()
			if !ok {
				http.Error(w, "sign in", http.StatusUnauthorized)
				return
			}
			h(w, r)
		}
	}
	mux.HandleFunc("GET /api/clients", signed(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`[{"id":"client-a","name":"A"},{"id":"client-b","name":"B"}]`))
	}))
	mux.HandleFunc("POST /api/clients/{id}/tickets", signed(func(w http.ResponseWriter, r *http.Request) {
		if a.breakTickets.Load() || r.PathValue("id") != "client-a" {
			http.Error(w, "broken", http.StatusInternalServerError)
			return
		}
		var in struct{ Subject string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		a.tickets.Add(1)
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{"id": 41 + a.tickets.Load(), "subject": in.Subject})
	}))
	mux.HandleFunc("POST /api/logout", signed(func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Cookie("sid")
		a.mu.Lock()
		delete(a.sessions, c.Value)
		a.mu.Unlock()
		a.loggedOut.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return a, srv
}

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func loadPortal(t *testing.T) flows.Flow {
	t.Helper()
	f, err := flows.Load("testdata/portal.yaml")
	require.NoError(t, err)
	require.Len(t, f.Flows, 1)
	return f.Flows[0]
}

// canaryPassword is built at test time so no secret-looking literal sits in
// the repository.
func canaryPassword() string { return "canary-" + strings.Repeat("Zq7", 6) + "-pw" }

func TestRunPassesAndCarriesTheSession(t *testing.T) {
	pw := canaryPassword()
	a, srv := newApp(t, pw)
	rn := &flows.Runner{BaseURL: srv.URL, LookupEnv: env(map[string]string{"FLOW_PASSWORD": pw})}
	res := rn.Run(context.Background(), loadPortal(t))
	require.NoError(t, res.Err)
	assert.True(t, res.OK())
	require.Len(t, res.Steps, 4)
	for _, s := range res.Steps {
		assert.True(t, s.OK(), s.Name)
	}
	assert.Equal(t, 201, res.Steps[2].Status)
	assert.EqualValues(t, 1, a.tickets.Load())
	assert.EqualValues(t, 1, a.loggedOut.Load(), "logout ran with the session cookie")
	assert.Contains(t, res.String(), "ok (4 steps")
}

func TestRunNamesTheFailingStepAndStillSignsOut(t *testing.T) {
	pw := canaryPassword()
	a, srv := newApp(t, pw)
	a.breakTickets.Store(true)
	rn := &flows.Runner{BaseURL: srv.URL, LookupEnv: env(map[string]string{"FLOW_PASSWORD": pw})}
	res := rn.Run(context.Background(), loadPortal(t))
	require.Error(t, res.Err)
	assert.Equal(t, "create ticket", res.FailedStep())
	assert.ErrorIs(t, res.Err, flows.ErrStatus)
	var se *flows.StepError
	require.ErrorAs(t, res.Err, &se)
	assert.Equal(t, 500, se.Status)
	assert.Contains(t, res.Err.Error(), `step "create ticket"`)
	assert.Contains(t, res.Err.Error(), "got 500, want 201")
	assert.True(t, res.Steps[3].OK(), "logout is marked always and still runs")
	assert.EqualValues(t, 1, a.loggedOut.Load())
}

func TestRunWrongPasswordFailsAtLogin(t *testing.T) {
	a, srv := newApp(t, canaryPassword())
	rn := &flows.Runner{BaseURL: srv.URL, LookupEnv: env(map[string]string{"FLOW_PASSWORD": "wrong-" + canaryPassword()})}
	res := rn.Run(context.Background(), loadPortal(t))
	assert.Equal(t, "login", res.FailedStep())
	assert.True(t, res.Steps[1].Skipped)
	assert.True(t, res.Steps[2].Skipped)
	assert.False(t, res.Steps[3].OK(), "logout ran (always) and was refused: no session")
	assert.Zero(t, a.tickets.Load())
}

func TestRunMissingEnvironmentFailsWithoutSending(t *testing.T) {
	a, srv := newApp(t, canaryPassword())
	rn := &flows.Runner{BaseURL: srv.URL, LookupEnv: env(nil)}
	res := rn.Run(context.Background(), loadPortal(t))
	require.Error(t, res.Err)
	assert.Equal(t, "login", res.FailedStep())
	assert.Contains(t, res.Err.Error(), "FLOW_PASSWORD is not set")
	assert.Zero(t, a.tickets.Load())
}

// The attack: the app echoes the submitted password into a field an
// assertion quotes. The message must not carry it.
func TestRunMessagesNeverCarryTheSecret(t *testing.T) {
	pw := canaryPassword()
	a, srv := newApp(t, pw)
	a.echo.Store(true)
	rn := &flows.Runner{BaseURL: srv.URL, LookupEnv: env(map[string]string{"FLOW_PASSWORD": pw})}
	res := rn.Run(context.Background(), loadPortal(t))
	require.Error(t, res.Err)
	assert.ErrorIs(t, res.Err, flows.ErrAssertion)
	assert.Contains(t, res.Err.Error(), "[REDACTED]")
	assert.NotContains(t, res.Err.Error(), pw)
	for _, s := range res.Steps {
		if s.Err != nil {
			assert.NotContains(t, s.Err.Error(), pw)
		}
	}
}

func TestRunStepTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	f, err := flows.Parse([]byte(`{"flows":[{"name":"slow","steps":[{"name":"hang","request":"GET /","timeout":"50ms"}]}]}`), "f.json")
	require.NoError(t, err)
	rn := &flows.Runner{BaseURL: srv.URL}
	res := rn.Run(context.Background(), f.Flows[0])
	assert.Equal(t, "hang", res.FailedStep())
	assert.ErrorIs(t, res.Err, context.DeadlineExceeded)
}

func TestRunDownServerIsAFailureNotAPanic(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	rn := &flows.Runner{BaseURL: url, LookupEnv: env(map[string]string{"FLOW_PASSWORD": "x"})}
	res := rn.Run(context.Background(), loadPortal(t))
	assert.Equal(t, "login", res.FailedStep())
	assert.Contains(t, res.Err.Error(), "request failed")
}

// The attack: a redirect to another host would carry the flow (and its
// secrets in later steps) away. It is not followed.
func TestRunDoesNotFollowRedirectsToAnotherHost(t *testing.T) {
	var reached atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached.Store(true) }))
	t.Cleanup(other.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/steal", http.StatusFound)
	}))
	t.Cleanup(srv.Close)
	f, err := flows.Parse([]byte("flows:\n- name: r\n  steps:\n  - {name: go, request: GET /}\n"), "f.yaml")
	require.NoError(t, err)
	res := (&flows.Runner{BaseURL: srv.URL}).Run(context.Background(), f.Flows[0])
	assert.Equal(t, "go", res.FailedStep())
	assert.ErrorIs(t, res.Err, flows.ErrStatus)
	assert.False(t, reached.Load())
}

func TestRunBadBaseURL(t *testing.T) {
	res := (&flows.Runner{BaseURL: "ftp://x"}).Run(context.Background(), loadPortal(t))
	require.Error(t, res.Err)
	assert.Contains(t, res.Err.Error(), "base URL")
}

func TestParseRefuses(t *testing.T) {
	for name, tc := range map[string]struct{ file, want string }{
		"literal password":     {`{"flows":[{"name":"f","steps":[{"name":"s","request":"POST /l","json":{"password":"hunter2hunter2"}}]}]}`, "environment reference"},
		"password with suffix": {`{"flows":[{"name":"f","steps":[{"name":"s","request":"POST /l","json":{"password":"${PW}x"}}]}]}`, "environment reference"},
		"literal token header": {`{"flows":[{"name":"f","steps":[{"name":"s","request":"GET /","headers":{"Authorization":"Bearer abc"}}]}]}`, "environment reference"},
		"absolute URL":         {`{"flows":[{"name":"f","steps":[{"name":"s","request":"GET https://evil.test/"}]}]}`, "must start with"},
		"scheme-relative":      {`{"flows":[{"name":"f","steps":[{"name":"s","request":"GET //evil.test/"}]}]}`, "must start with"},
		"lower-case method":    {`{"flows":[{"name":"f","steps":[{"name":"s","request":"get /"}]}]}`, "upper case"},
		"unknown field":        {`{"flows":[{"name":"f","steps":[{"name":"s","request":"GET /","asert":{}}]}]}`, "unknown field"},
		"capture before use":   {`{"flows":[{"name":"f","steps":[{"name":"s","request":"GET /c/{{id}}"}]}]}`, "not captured by an earlier step"},
		"bad path":             {`{"flows":[{"name":"f","steps":[{"name":"s","request":"GET /","capture":{"id":"id"}}]}]}`, "must start with $"},
		"bad regexp":           {`{"flows":[{"name":"f","steps":[{"name":"s","request":"GET /","assert":{"$.a":"("}}]}]}`, "regular expression"},
		"duplicate flow":       {`{"flows":[{"name":"f","steps":[{"name":"s","request":"GET /"}]},{"name":"f","steps":[{"name":"s","request":"GET /"}]}]}`, "used twice"},
		"no flows":             {`{"flows":[]}`, "no flows"},
		"cookie header":        {`{"flows":[{"name":"f","steps":[{"name":"s","request":"GET /","headers":{"Cookie":"a=b"}}]}]}`, "cookie jar"},
		"env in path":          {`{"flows":[{"name":"f","steps":[{"name":"s","request":"GET /x?t=${TOKEN}"}]}]}`, "not allowed in paths"},
		"status":               {`{"flows":[{"name":"f","steps":[{"name":"s","request":"GET /","status":999}]}]}`, "not an HTTP status"},
		"timeout":              {`{"flows":[{"name":"f","steps":[{"name":"s","request":"GET /","timeout":"1h"}]}]}`, "timeout"},
		"two documents":        {"flows: []\n---\nflows: []\n", "more than one document"},
		"yaml literal secret":  {"flows:\n- name: f\n  steps:\n  - name: s\n    request: POST /\n    json: {token: abc}\n", "environment reference"},
	} {
		t.Run(name, func(t *testing.T) {
			fname := "f.json"
			if !strings.HasPrefix(tc.file, "{") {
				fname = "f.yaml"
			}
			_, err := flows.Parse([]byte(tc.file), fname)
			require.Error(t, err)
			assert.ErrorIs(t, err, flows.ErrInvalid)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestParseJSONAndYAMLAgree(t *testing.T) {
	y, err := flows.Load("testdata/portal.yaml")
	require.NoError(t, err)
	b, err := json.Marshal(y)
	require.NoError(t, err)
	j, err := flows.Parse(b, "portal.json")
	require.NoError(t, err)
	assert.Equal(t, y, j)
	assert.True(t, j.Flows[0].Covering(flows.CoverLogin))
	assert.Equal(t, flows.Duration(5*time.Second), j.Flows[0].Steps[2].Timeout)
}

func TestLoadMissingFile(t *testing.T) {
	_, err := flows.Load("testdata/none.yaml")
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestRunConcurrentRunsKeepTheirOwnSessions(t *testing.T) {
	pw := canaryPassword()
	a, srv := newApp(t, pw)
	rn := &flows.Runner{BaseURL: srv.URL, LookupEnv: env(map[string]string{"FLOW_PASSWORD": pw})}
	fl := loadPortal(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- rn.Run(context.Background(), fl).Err }()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	assert.EqualValues(t, 8, a.tickets.Load())
}
