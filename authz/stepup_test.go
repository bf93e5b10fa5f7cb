package authz_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/authz"
)

// stepUpServer serves an MFA admin route and a fresh export route; the
// principal is chosen by X-Test-User, its factors by X-Test-Factors.
func stepUpServer(t *testing.T, now func() time.Time) *httptest.Server {
	t.Helper()
	login := now()
	factors := map[string][]authz.Factor{
		"pwd":       {{Method: "pwd", At: login}},
		"pwd+otp":   {{Method: "pwd", At: login}, {Method: "otp", At: login.Add(time.Minute)}},
		"otp-stale": {{Method: "pwd", At: login}, {Method: "otp", At: login.Add(-time.Hour)}},
		"none":      nil,
	}
	mux, err := authz.NewMux(authz.Config{Now: now, Authenticate: func(r *http.Request) (authz.Principal, error) {
		p, ok := users[r.Header.Get("X-Test-User")]
		if !ok {
			return authz.Principal{}, authz.ErrUnauthenticated
		}
		p.Factors = factors[r.Header.Get("X-Test-Factors")]
		return p, nil
	}})
	require.NoError(t, err)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("secret admin data")) })
	mux.Handle("GET /admin/audit", authz.Role("admin").RequireMFA(), ok)
	mux.Handle("GET /api/export", authz.Role("admin", "support").RequireMFA().Fresh(15*time.Minute), ok)
	mux.Handle("POST /api/password", authz.Authenticated().Fresh(5*time.Minute), ok)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	StepUp string `json:"step_up"`
	MaxAge int    `json:"max_age"`
}

func call(t *testing.T, srv *httptest.Server, method, path, user, factors string) (int, problem) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, nil)
	require.NoError(t, err)
	req.Header.Set("X-Test-User", user)
	req.Header.Set("X-Test-Factors", factors)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var p problem
	if resp.StatusCode != http.StatusOK {
		assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&p))
	}
	return resp.StatusCode, p
}

func TestRequireMFAOverHTTP(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	srv := stepUpServer(t, clock)

	for _, tc := range []struct {
		name, method, path, user, factors string
		status                            int
		stepUp                            string
		maxAge                            int
	}{
		{"anonymous", "GET", "/admin/audit", "", "", 401, "", 0},
		{"password-only admin is refused", "GET", "/admin/audit", "admin", "pwd", 401, "mfa", 0},
		{"admin without known factors is refused", "GET", "/admin/audit", "admin", "none", 401, "mfa", 0},
		{"agent is forbidden, MFA or not", "GET", "/admin/audit", "agent", "pwd+otp", 403, "", 0},
		{"admin with a second factor gets in", "GET", "/admin/audit", "admin", "pwd+otp", 200, "", 0},
		{"export needs the factor", "GET", "/api/export", "agent", "pwd", 401, "mfa", 900},
		{"export with a recent factor", "GET", "/api/export", "agent", "pwd+otp", 200, "", 0},
		{"export with a stale factor", "GET", "/api/export", "agent", "otp-stale", 401, "reauthenticate", 900},
		{"fresh password", "POST", "/api/password", "alice", "pwd", 200, "", 0},
		{"no factors: not fresh", "POST", "/api/password", "alice", "none", 401, "reauthenticate", 300},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, p := call(t, srv, tc.method, tc.path, tc.user, tc.factors)
			assert.Equal(t, tc.status, status)
			assert.Equal(t, tc.stepUp, p.StepUp)
			assert.Equal(t, tc.maxAge, p.MaxAge)
			if tc.stepUp != "" {
				assert.Equal(t, authz.StepUpProblemType, p.Type)
			}
		})
	}

	// Time passes: the password is 10 minutes old, the second factor 9.
	mu.Lock()
	now = now.Add(10 * time.Minute)
	mu.Unlock()
	status, p := call(t, srv, "POST", "/api/password", "alice", "pwd")
	assert.Equal(t, 401, status)
	assert.Equal(t, "reauthenticate", p.StepUp)
	status, _ = call(t, srv, "GET", "/api/export", "agent", "pwd+otp")
	assert.Equal(t, 200, status, "the second factor is 9 minutes old, within 15")
	mu.Lock()
	now = now.Add(7 * time.Minute)
	mu.Unlock()
	status, p = call(t, srv, "GET", "/api/export", "agent", "pwd+otp")
	assert.Equal(t, 401, status)
	assert.Equal(t, "reauthenticate", p.StepUp)
	status, _ = call(t, srv, "GET", "/admin/audit", "admin", "pwd+otp")
	assert.Equal(t, 200, status, "RequireMFA without Fresh does not age")
}

func TestStepUpPolicyInventory(t *testing.T) {
	p := authz.Role("admin").RequireMFA().Fresh(15 * time.Minute)
	assert.True(t, p.RequiresMFA())
	assert.Equal(t, 15*time.Minute, p.Freshness())
	assert.Equal(t, "role(admin) mfa fresh(15m0s)", p.String())
	assert.Equal(t, "authenticated mfa", authz.Authenticated().RequireMFA().String())
	assert.False(t, authz.Role("admin").RequiresMFA())

	mux, err := authz.NewMux(authz.Config{Authenticate: authenticate})
	require.NoError(t, err)
	mux.Handle("GET /admin/x", p, http.NotFoundHandler())
	got, ok := mux.Policy("GET /admin/x")
	require.True(t, ok)
	assert.True(t, got.RequiresMFA(), "the inventory shows the requirement")

	assert.Panics(t, func() { mux.Handle("GET /a", authz.Public("x").RequireMFA(), http.NotFoundHandler()) })
	assert.Panics(t, func() { mux.Handle("GET /b", authz.Authenticated().Fresh(0), http.NotFoundHandler()) })
	assert.Panics(t, func() { mux.Handle("GET /c", authz.Authenticated().Fresh(-time.Minute), http.NotFoundHandler()) })
}

func TestMultiFactor(t *testing.T) {
	at := time.Now()
	assert.False(t, authz.Principal{ID: "u", Factors: []authz.Factor{{Method: "pwd", At: at}}}.MultiFactor())
	assert.True(t, authz.Principal{ID: "u", Factors: []authz.Factor{{Method: "pwd", At: at}, {Method: "otp", At: at}}}.MultiFactor())
	assert.False(t, authz.Principal{ID: "u"}.MultiFactor())
	assert.False(t, authz.Principal{ID: "u", Factors: []authz.Factor{{Method: "", At: at}}}.MultiFactor())
}
