package probe_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/authz"
	"github.com/launchready/launchready/ratelimit"
	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/readiness/probe"
	"github.com/launchready/launchready/validate"
)

type loginIn struct {
	Email    string `json:"email" validate:"required"`
	Password string `json:"password" validate:"required"`
}

// loginApp serves a login that always fails, behind the given limits, in an
// authz.Mux behind a Host allowlist.
func loginApp(t *testing.T, keys ...ratelimit.By) http.Handler {
	t.Helper()
	limits, err := ratelimit.New(ratelimit.Config{})
	require.NoError(t, err)
	fail := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "wrong", http.StatusUnauthorized) })
	return loginAppWith(t, limits.Login(fail, keys[0], keys[1:]...))
}

// loginAppWith serves login (already limited) behind body validation, in
// an authz.Mux behind a Host allowlist.
func loginAppWith(t *testing.T, login http.Handler) http.Handler {
	t.Helper()
	mux, err := authz.NewMux(authz.Config{Authenticate: func(*http.Request) (authz.Principal, error) {
		return authz.Principal{}, authz.ErrUnauthenticated
	}})
	require.NoError(t, err)
	mux.Handle("POST /api/login", authz.Public("login form"), validate.Body[loginIn](nil, login))
	return hostOnly{host: "portal.example.com", next: mux}
}

func accountOf(r *http.Request) string {
	if in := validate.Value[loginIn](r); in != nil {
		return strings.ToLower(in.Email)
	}
	return ""
}

func runLoginProbe(t *testing.T, h http.Handler, c *probe.Client) *readiness.Report {
	t.Helper()
	r, err := readiness.Run(t.Context(), readiness.Target{
		Server: &http.Server{Handler: h, ReadHeaderTimeout: time.Second},
		Checks: []readiness.Check{probe.LoginRateProbe{Client: c}},
	})
	require.NoError(t, err)
	return r
}

func seenOf(fs []readiness.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Seen)
	}
	return out
}

// A login limited per account only lets one address spray 30 accounts; one
// limited per IP only lets 30 addresses guess one account. The probe makes
// each attack meet a 429 or reports it; with both keys neither is reported.
func TestLoginRateProbeSprayAndDistributed(t *testing.T) {
	for _, tc := range []struct {
		name string
		keys []ratelimit.By
		want []string // attacks reported under RATE007
	}{
		{"per account only", []ratelimit.By{ratelimit.ByAccount(accountOf)}, []string{"spray: 30 failed logins across 30 accounts from one address"}},
		{"per IP only", []ratelimit.By{ratelimit.ByIP()}, []string{"distributed: 30 failed logins for one account from 30 addresses"}},
		{"per IP and per account", []ratelimit.By{ratelimit.ByIP(), ratelimit.ByAccount(accountOf)}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runLoginProbe(t, loginApp(t, tc.keys...), nil)
			assert.Empty(t, r.ByID("PROBE001"), "%s", r)
			var got []string
			for _, s := range seenOf(r.ByID("RATE007")) {
				got = append(got, s[:strings.Index(s, " were never")])
			}
			assert.Equal(t, tc.want, got)
			for _, f := range r.ByID("RATE007") {
				assert.Equal(t, readiness.Blocker, f.Severity)
				assert.Equal(t, "POST /api/login", f.Route)
			}
			reach := r.Reach
			require.Len(t, reach, 1)
			assert.Positive(t, reach[0].Reached)
			assert.Positive(t, reach[0].Refused["rate limit (429)"], "%+v", reach[0])
		})
	}
}

// Vacuous pass: every attempt refused by the Host allowlist (421) once
// tested nothing and passed; now it is PROBE001 naming the allowlist.
func TestLoginRateProbeBehindWrongHostIsNotExercised(t *testing.T) {
	r := runLoginProbe(t, loginApp(t, ratelimit.ByIP(), ratelimit.ByAccount(accountOf)), &probe.Client{Host: "wrong.example.com"})
	fs := r.ByID("PROBE001")
	require.Len(t, fs, 3, "one per attack: %s", r)
	for _, f := range fs {
		assert.Equal(t, readiness.Blocker, f.Severity)
		assert.Equal(t, readiness.ItemRateLimit, f.Item)
		assert.Contains(t, f.Seen, "Host allowlist (421)")
		assert.Contains(t, f.Fix, "Client.Host")
	}
	assert.Empty(t, r.ByID("RATE007"))
	assert.True(t, r.Blocked())
}
