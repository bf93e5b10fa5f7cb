package readiness_test

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/launchready/launchready/ratelimit"
	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/readiness/probe"
)

// rateInventory is a minimal route inventory standing in for authz.Mux.
type rateInventory struct {
	mux      *http.ServeMux
	patterns []string
	handlers []http.Handler
}

func newRateInventory() *rateInventory { return &rateInventory{mux: http.NewServeMux()} }

func (v *rateInventory) Handle(pattern string, h http.Handler) {
	v.mux.Handle(pattern, h)
	v.patterns = append(v.patterns, pattern)
	v.handlers = append(v.handlers, h)
}
func (v *rateInventory) ServeHTTP(w http.ResponseWriter, r *http.Request) { v.mux.ServeHTTP(w, r) }
func (v *rateInventory) EachRoute(fn func(string, http.Handler)) {
	for i, p := range v.patterns {
		fn(p, v.handlers[i])
	}
}

func rateTarget(h http.Handler, replicas int) readiness.Target {
	return readiness.Target{
		Server: &http.Server{Handler: h, ReadHeaderTimeout: time.Second, ReadTimeout: time.Second,
			WriteTimeout: time.Second, IdleTimeout: time.Second, MaxHeaderBytes: 1 << 16},
		Replicas:        replicas,
		ShutdownTimeout: time.Second,
		AllowedHosts:    []string{"portal.example.com"},
	}
}

func rateIDs(t *testing.T, target readiness.Target) []string {
	t.Helper()
	rep, err := readiness.Run(context.Background(), target)
	require.NoError(t, err)
	var ids []string
	for _, f := range rep.Findings {
		if strings.HasPrefix(f.ID, "RATE") {
			ids = append(ids, f.ID+" "+f.Route)
		}
	}
	sort.Strings(ids)
	return ids
}

var denyLogin = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusUnauthorized) })

func account(r *http.Request) string { return r.Header.Get("X-Account") }

func TestRateChecksGoodConfig(t *testing.T) {
	limits, err := ratelimit.New(ratelimit.Config{})
	require.NoError(t, err)
	inv := newRateInventory()
	inv.Handle("POST /api/login", limits.Login(limits.Failures(denyLogin, account), ratelimit.ByIP(), ratelimit.ByAccount(account)))
	inv.Handle("POST /api/password-reset", limits.PasswordReset(denyLogin, ratelimit.ByIP(), ratelimit.ByAccount(account)))
	inv.Handle("POST /api/password-reset/confirm", limits.PasswordResetConfirm(denyLogin, ratelimit.ByIP()))
	inv.Handle("POST /api/clients/{id}/uploads", limits.Upload(denyLogin, ratelimit.ByIP()))
	inv.Handle("GET /api/clients/{id}/export", limits.Export(denyLogin, ratelimit.ByIP()))
	inv.Handle("GET /api/clients/{id}", denyLogin)
	inv.Handle("POST /api/logout", denyLogin)
	inv.Handle("GET /login", denyLogin) // the login page itself is not an attempt

	target := rateTarget(inv, 1)
	target.Checks = []readiness.Check{probe.LoginRateProbe{Body: []byte(`{"email":"a@example.com","password":"x"}`)}}
	assert.Empty(t, rateIDs(t, target))
}

func TestRateChecksBadConfig(t *testing.T) {
	loose, err := ratelimit.New(ratelimit.Config{InsecureTrustAnyPeer: true, FailMode: ratelimit.FailOpen})
	require.NoError(t, err)
	inv := newRateInventory()
	inv.Handle("POST /api/login", denyLogin)
	inv.Handle("POST /api/forgot-password", denyLogin)
	inv.Handle("POST /files/upload", denyLogin)
	inv.Handle("GET /api/export.csv", denyLogin)
	inv.Handle("POST /oauth/token", denyLogin)
	inv.Handle("DELETE /api/sessions", denyLogin) // logout-like: not an attempt to guess
	inv.Handle("POST /auth/signin", loose.Limit(ratelimit.KindLogin,
		ratelimit.Policy{Name: "signin", Rate: rate.Every(time.Second), Burst: 100}, denyLogin, ratelimit.ByIP()))

	target := rateTarget(inv, 3)
	target.Checks = []readiness.Check{probe.LoginRateProbe{}}
	assert.Equal(t, []string{
		"RATE001 POST /api/login",
		"RATE001 POST /oauth/token",
		"RATE002 POST /api/forgot-password",
		"RATE003 GET /api/export.csv",
		"RATE003 POST /files/upload",
		"RATE004 POST /auth/signin",
		"RATE005 POST /auth/signin",
		"RATE006 POST /auth/signin",
		"RATE007 POST /api/login", // repeat
		"RATE007 POST /api/login", // spray
		"RATE007 POST /api/login", // distributed
		"RATE008 POST /auth/signin",
		"RATE009 POST /auth/signin",
	}, rateIDs(t, target))
}

// RATE009: a login limited by one key only leaves the other attack open.
func TestRateLoginNeedsIPAndAccountKeys(t *testing.T) {
	limits, err := ratelimit.New(ratelimit.Config{})
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		h    http.Handler
		want []string
		seen string
	}{
		{"per account only", limits.Login(denyLogin, ratelimit.ByAccount(account)), []string{"RATE009 POST /api/login"}, "client IP"},
		{"per IP only", limits.Login(denyLogin, ratelimit.ByIP()), []string{"RATE009 POST /api/login"}, "the account"},
		{"both in one limit", limits.Login(denyLogin, ratelimit.ByIP(), ratelimit.ByAccount(account)), nil, ""},
		{"per IP, failures per account", limits.Login(limits.Failures(denyLogin, account), ratelimit.ByIP()), nil, ""},
		{"per route only", limits.Login(denyLogin, ratelimit.ByRoute()), []string{"RATE009 POST /api/login"}, "client IP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			inv := newRateInventory()
			inv.Handle("POST /api/login", tc.h)
			r, err := readiness.Run(t.Context(), rateTarget(inv, 1))
			require.NoError(t, err)
			var got []string
			for _, f := range r.ByID("RATE009") {
				got = append(got, f.ID+" "+f.Route)
				assert.Equal(t, readiness.Blocker, f.Severity)
				assert.Contains(t, f.Seen, tc.seen)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestRateGlobalLimitCountsForEveryRoute(t *testing.T) {
	limits, err := ratelimit.New(ratelimit.Config{})
	require.NoError(t, err)
	inv := newRateInventory()
	inv.Handle("POST /api/login", denyLogin)
	srv := limits.Login(inv, ratelimit.ByIP(), ratelimit.ByAccount(account))
	assert.Equal(t, []string{"RATE006 "}, rateIDs(t, rateTarget(srv, 2)), "global in-memory limit with two replicas")
	assert.Empty(t, rateIDs(t, rateTarget(srv, 1)))
}

func TestLoginRateProbeIsProbeOnly(t *testing.T) {
	var c readiness.Check = probe.LoginRateProbe{}
	_, ok := c.(readiness.ProbeOnly)
	assert.True(t, ok)
}
