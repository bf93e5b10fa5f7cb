package probe_test

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/authz"
	"github.com/launchready/launchready/ratelimit"
	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/readiness/probe"
)

// Behind a load balancer the app trusts (ratelimit's TrustedProxies), the
// client sends from a trusted proxy with the probe's own address in the
// forwarding header: the app sees distinct clients, not one proxy.
func TestClientSendsThroughWalkedTrustedProxy(t *testing.T) {
	limits, err := ratelimit.New(ratelimit.Config{TrustedProxies: []string{"10.0.0.0/8"}})
	require.NoError(t, err)
	var mu sync.Mutex
	seen := map[netip.Addr]int{}
	peers := map[string]bool{}
	record := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ip, err := limits.IPResolver().ClientIP(r)
		require.NoError(t, err)
		mu.Lock()
		seen[ip]++
		peers[r.RemoteAddr] = true
		mu.Unlock()
		http.Error(w, "wrong", http.StatusUnauthorized)
	})
	app := loginAppWith(t, limits.Login(record, ratelimit.ByIP(), ratelimit.ByAccount(accountOf)))
	r := runLoginProbe(t, app, nil)
	assert.Empty(t, r.ByID("RATE007"), "%s", r)
	assert.Empty(t, r.ByID("PROBE001"), "%s", r)
	require.Len(t, peers, 1)
	for p := range peers {
		ap, err := netip.ParseAddrPort(p)
		require.NoError(t, err)
		assert.True(t, netip.MustParsePrefix("10.0.0.0/8").Contains(ap.Addr()), "the peer is the trusted proxy: %s", p)
	}
	assert.Greater(t, len(seen), 3, "repeat, spray and the distributed attack's addresses are distinct clients: %v", seen)
	for ip := range seen {
		assert.True(t, netip.MustParsePrefix("198.18.0.0/15").Contains(ip), "probe addresses are in the benchmarking range: %s", ip)
	}
}

// Sign-in with a second step (an MFA code) through Login.Step; a dead
// session (the probe logged it out) is renewed by signing in again.
func TestClientSignInWithStepAndRenewal(t *testing.T) {
	var mu sync.Mutex
	sessions := map[string]string{} // token → state: "password" or "signed-in"
	n := 0
	mux, err := authz.NewMux(authz.Config{Authenticate: func(r *http.Request) (authz.Principal, error) {
		c, err := r.Cookie("sid")
		mu.Lock()
		defer mu.Unlock()
		if err == nil && sessions[c.Value] == "signed-in" {
			return authz.Principal{ID: "u-agent", Roles: []string{"support"}}, nil
		}
		return authz.Principal{}, authz.ErrUnauthenticated
	}})
	require.NoError(t, err)
	mux.HandleFunc("POST /api/login", authz.Public("sign-in form"), func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		tok := "t" + string(rune('a'+n))
		sessions[tok] = "password"
		mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: tok, Path: "/", Secure: true, HttpOnly: true})
		_, _ = w.Write([]byte(`{"mfa_required":true}`))
	})
	mux.HandleFunc("POST /api/login/mfa", authz.Public("second step"), func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("sid")
		mu.Lock()
		defer mu.Unlock()
		if err != nil || sessions[c.Value] != "password" || r.Header.Get("X-Code") != "123456" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		sessions[c.Value] = "signed-in"
	})
	mux.HandleFunc("POST /api/logout", authz.Authenticated(), func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Cookie("sid")
		mu.Lock()
		delete(sessions, c.Value)
		mu.Unlock()
	})
	mux.HandleFunc("GET /api/clients", authz.Role("support"), func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("GET /api/admin/audit", authz.Role("admin"), func(http.ResponseWriter, *http.Request) {})

	steps := 0
	c := &probe.Client{
		Login: probe.Login{Path: "/api/login", Step: func(ctx context.Context, s *probe.Session, first *probe.Response) error {
			steps++
			if string(first.Body) != `{"mfa_required":true}` {
				return errors.New("no MFA prompt")
			}
			res := s.Do(ctx, probe.Request{Method: "POST", Target: "/api/login/mfa", Header: http.Header{"X-Code": {"123456"}}})
			if res.Status != http.StatusOK {
				return errors.New("code refused")
			}
			return nil
		}},
		Accounts: map[string]probe.Account{"agent": {Username: "agent@acme.test", Password: "x"}},
	}
	agent := authz.Principal{ID: "u-agent", Roles: []string{"support"}}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: time.Second}
	r, err := readiness.Run(t.Context(), readiness.Target{Server: srv, Checks: []readiness.Check{
		&probe.AuthProbe{Client: c, Identities: []probe.Identity{{Name: "agent", Account: "agent", Principal: agent}}},
	}})
	require.NoError(t, err)
	assert.Empty(t, r.ByID("PROBE001"), "%s", r)
	assert.Empty(t, r.ByID("AUTH006"), "%s", r)
	adminReach := 0
	for _, rr := range r.Reach {
		if rr.Route == "GET /api/admin/audit" {
			adminReach = rr.Refused["authorization (403)"]
		}
	}
	assert.Positive(t, adminReach, "the signed-in agent was refused by role (403), not by sign-in (401): %+v", r.Reach)
	assert.Equal(t, 1, steps, "one sign-in, kept for every request")

	// A wrong second step: the identity could not sign in, and says so.
	c.Login.Step = func(context.Context, *probe.Session, *probe.Response) error { return errors.New("code refused") }
	c2 := &probe.Client{Login: c.Login, Accounts: c.Accounts}
	r, err = readiness.Run(t.Context(), readiness.Target{Server: srv, Checks: []readiness.Check{
		&probe.AuthProbe{Client: c2, Identities: []probe.Identity{{Name: "agent", Account: "agent", Principal: agent}}},
	}})
	require.NoError(t, err)
	fs := r.ByID("PROBE001")
	require.NotEmpty(t, fs)
	assert.Contains(t, fs[len(fs)-1].Seen, "could not sign in as agent")
	assert.Contains(t, fs[len(fs)-1].Seen, "code refused")
}

// One client shared by every probe, all running at once (go test -race):
// sessions, addresses and counts stay consistent, and each probe reaches
// what it tests.
func TestClientConcurrentProbes(t *testing.T) {
	password := "pw-" + strings.Repeat("y", 12)
	logs := &probe.LogCapture{}
	app := buildApp(t, password, logs, nil)
	srv := &http.Server{Handler: app, ReadHeaderTimeout: time.Second}
	checks := appProbes(password, logs)
	reports := make([]*readiness.Report, len(checks))
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Go(func() {
			r, err := readiness.Run(t.Context(), readiness.Target{Server: srv, Checks: []readiness.Check{c}})
			assert.NoError(t, err)
			reports[i] = r
		})
	}
	wg.Wait()
	for i, r := range reports {
		require.NotNil(t, r)
		assert.Empty(t, r.ByID("PROBE001"), "%s: %s", checks[i].Name(), r)
		assert.NotEmpty(t, r.Reach, checks[i].Name())
	}
}
