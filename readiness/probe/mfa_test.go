package probe_test

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/authz"
	"github.com/launchready/launchready/mfa"
	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/readiness/probe"
	"github.com/launchready/launchready/session"
)

// mfaFlaws plants one flaw each in the test app.
type mfaFlaws struct {
	passwordCountsAsMFA bool // Authenticate claims an otp factor for every session
	noReplayCheck       bool // the step verifies codes without remembering used steps
	factorNotRecorded   bool // the step signs in without recording the factor
	noMFAStep           bool // login signs in at once, enrolled or not
}

// mfaApp is a small app with an admin behind RequireMFA, a two-step
// sign-in and the kit's session and mfa packages, with a fake TOTP clock.
func mfaApp(t *testing.T, f mfaFlaws) (*http.Server, string, func() string) {
	t.Helper()
	sess, err := session.New(session.Config{})
	require.NoError(t, err)
	key := make([]byte, mfa.KeySize)
	_, _ = rand.Read(key)
	clock := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	auth, err := mfa.New(mfa.Config{Issuer: "Probe Test", Key: key, Now: func() time.Time { return clock }})
	require.NoError(t, err)
	secretRaw := make([]byte, 20)
	_, _ = rand.Read(secretRaw)
	k, err := totp.Generate(totp.GenerateOpts{Issuer: "x", AccountName: "y", Secret: secretRaw})
	require.NoError(t, err)
	_, err = auth.Import(t.Context(), "u-admin", k.Secret())
	require.NoError(t, err)
	password := rand.Text()

	mux, err := authz.NewMux(authz.Config{Authenticate: func(r *http.Request) (authz.Principal, error) {
		a, ok := sess.Auth(r)
		if !ok {
			return authz.Principal{}, authz.ErrUnauthenticated
		}
		p := authz.Principal{ID: a.User, Roles: []string{"admin"}}
		for _, fa := range a.Factors {
			p.Factors = append(p.Factors, authz.Factor{Method: fa.Method, At: fa.At})
		}
		if f.passwordCountsAsMFA {
			p.Factors = append(p.Factors, authz.Factor{Method: "otp", At: a.Time})
		}
		return p, nil
	}})
	require.NoError(t, err)
	mux.HandleFunc("POST /api/login", authz.Public("sign-in form"), func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Email, Password string }
		if json.NewDecoder(r.Body).Decode(&in) != nil || in.Email != "admin@acme.test" || in.Password != password {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if f.noMFAStep || f.passwordCountsAsMFA {
			_ = sess.Login(r.Context(), "u-admin")
			return
		}
		_ = sess.BeginLogin(r.Context(), "u-admin")
		_, _ = w.Write([]byte(`{"mfa_required":true}`))
	})
	used := map[string]bool{}
	mux.HandleFunc("POST /api/login/mfa", authz.Public("second sign-in step"), func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Code string }
		id, pending := sess.PendingLogin(r.Context())
		if json.NewDecoder(r.Body).Decode(&in) != nil || !pending {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if f.noReplayCheck {
			if ok, _ := totp.ValidateCustom(in.Code, k.Secret(), clock, totp.ValidateOpts{Period: 30, Skew: 1, Digits: 6}); !ok {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			used[in.Code] = true
		} else if _, err := auth.Verify(r.Context(), id, in.Code); err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if f.factorNotRecorded {
			_ = sess.Login(r.Context(), id)
			return
		}
		_, _ = sess.CompleteLogin(r.Context(), session.MethodOTP)
	})
	mux.HandleFunc("GET /api/admin/audit", authz.Role("admin").RequireMFA(), func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("audit"))
	})
	srv := &http.Server{Handler: sess.Handler(mux)}
	code := func() string {
		c, err := mfa.Code(k.Secret(), clock)
		require.NoError(t, err)
		return c
	}
	return srv, password, code
}

func runMFAProbe(t *testing.T, f mfaFlaws, password string, mutate ...func(*probe.MFAProbe)) (*readiness.Report, []string) {
	t.Helper()
	srv, pw, code := mfaApp(t, f)
	if password == "" {
		password = pw
	}
	c := &probe.Client{Login: probe.Login{Path: "/api/login"},
		Accounts: map[string]probe.Account{"admin": {Username: "admin@acme.test", Password: password}}}
	p := probe.MFAProbe{Client: c, Account: "admin", Code: code}
	for _, m := range mutate {
		m(&p)
	}
	r, err := readiness.Run(t.Context(), readiness.Target{Server: srv, AllowedHosts: []string{"portal.example.com"}, Checks: []readiness.Check{p}})
	require.NoError(t, err)
	var ids []string
	for _, f := range r.Findings {
		if f.ID == "AUTH014" || f.ID == "PROBE001" {
			ids = append(ids, f.ID+" "+f.Route)
		}
	}
	return r, ids
}

func TestMFAProbePassesAHoldingApp(t *testing.T) {
	r, ids := runMFAProbe(t, mfaFlaws{}, "")
	assert.Empty(t, ids)
	var reached bool
	for _, rc := range r.Reach {
		if rc.Probe == "mfa probe" && rc.Route == "GET /api/admin/audit" {
			assert.Equal(t, 3, rc.Sent, "password-only, after the factor, after the replay")
			assert.Equal(t, 1, rc.Reached, "only the session with the factor reached the handler")
			reached = true
		}
	}
	assert.True(t, reached, "the probe's requests are counted in the report")
}

func TestMFAProbeCatchesFlaws(t *testing.T) {
	for name, tc := range map[string]struct {
		flaws mfaFlaws
		want  []string
	}{
		"password counts as a second factor": {mfaFlaws{passwordCountsAsMFA: true}, []string{"AUTH014 GET /api/admin/audit"}},
		"no second step at all":              {mfaFlaws{noMFAStep: true}, nil}, // password-only session is refused by RequireMFA: the policy holds
		"replayed code accepted":             {mfaFlaws{noReplayCheck: true}, []string{"AUTH014 POST /api/login/mfa"}},
		"factor not recorded":                {mfaFlaws{factorNotRecorded: true}, []string{"AUTH014 GET /api/admin/audit"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, ids := runMFAProbe(t, tc.flaws, "")
			for _, w := range tc.want {
				assert.Contains(t, ids, w)
			}
			if tc.want == nil {
				assert.NotContains(t, ids, "AUTH014 GET /api/admin/audit")
			}
		})
	}
}

func TestMFAProbeNotExercised(t *testing.T) {
	// A wrong password: nothing was tested, and the probe says so.
	_, ids := runMFAProbe(t, mfaFlaws{}, "not-the-password")
	assert.Contains(t, ids, "PROBE001 GET /api/admin/audit")
	assert.NotContains(t, ids, "AUTH014 GET /api/admin/audit")

	// No code function: nothing tested either.
	_, ids = runMFAProbe(t, mfaFlaws{}, "", func(p *probe.MFAProbe) { p.Code = nil })
	assert.Contains(t, ids, "PROBE001 GET /api/admin/audit")

	// A wrong code: the second step is refused, the probe reports the
	// account cannot sign in rather than passing.
	_, ids = runMFAProbe(t, mfaFlaws{}, "", func(p *probe.MFAProbe) { p.Code = func() string { return "000000" } })
	assert.Contains(t, ids, "AUTH014 POST /api/login/mfa")
}
