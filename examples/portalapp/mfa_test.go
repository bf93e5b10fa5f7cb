package portalapp_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/authz"
	"github.com/launchready/launchready/examples/portalapp"
	"github.com/launchready/launchready/mfa"
	"github.com/launchready/launchready/readiness"
)

// startUnenrolledPortal serves a development portal whose store the test
// seeded itself, so the demo admin is NOT pre-enrolled: how a real
// deployment starts.
func startUnenrolledPortal(t *testing.T) *harness {
	t.Helper()
	store := portalapp.NewMemoryStore()
	require.NoError(t, portalapp.Seed(store, time.Now()))
	log := &syncBuffer{}
	srv := httptest.NewUnstartedServer(nil)
	p, err := portalapp.Build(portalapp.Options{
		Env: readiness.Development, Addr: srv.Listener.Addr().String(), Store: store,
		Log: log, OutboxDir: t.TempDir(), AuditFile: filepath.Join(t.TempDir(), "audit.jsonl"),
	})
	require.NoError(t, err)
	require.Nil(t, p.DemoRecoveryCodes)
	p.Health.SetBoot(nil)
	srv.Config = p.Server
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		assert.NoError(t, p.Close())
	})
	return &harness{t: t, portal: p, srv: srv, log: log}
}

type stepUpProblem struct {
	Type   string `json:"type"`
	Status int    `json:"status"`
	StepUp string `json:"step_up"`
}

func (c *client) sessionCookie() string {
	for _, ck := range c.c.Jar.Cookies(mustURL(c.h.srv.URL)) {
		if strings.Contains(ck.Name, "session") {
			return ck.Value
		}
	}
	return ""
}

// TestMFAEnrolmentLoginStepUp walks the whole second-factor life of an
// admin over real HTTP: a password-only session is refused on admin
// routes with a step-up problem; enrolment and confirmation let it in;
// the next sign-in takes two steps; a replayed code and a spent recovery
// code are refused; the audit trail records every step.
func TestMFAEnrolmentLoginStepUp(t *testing.T) {
	h := startUnenrolledPortal(t)
	adm := h.client()

	// Not enrolled: the password signs in, admin routes ask for the factor.
	res, body := adm.do("POST", "/api/login", map[string]string{"email": "admin@acme.test", "password": portalapp.DemoPassword})
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "none", decode[map[string]string](t, body)["mfa"])
	for _, path := range []string{"/api/admin/audit", "/admin/readiness"} {
		res, body = adm.do("GET", path, nil)
		assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "password-only admin session on %s", path)
		assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"))
		p := decode[stepUpProblem](t, body)
		assert.Equal(t, "mfa", p.StepUp, "the problem names the step-up")
		assert.Equal(t, authz.StepUpProblemType, p.Type)
	}
	// Staff routes without MFA in the policy still work for the admin.
	res, _ = adm.do("GET", "/api/clients", nil)
	assert.Equal(t, http.StatusOK, res.StatusCode)

	// Enrol: an otpauth URI and its QR code.
	res, body = adm.do("POST", "/api/mfa/enroll", nil)
	require.Equal(t, http.StatusOK, res.StatusCode, string(body))
	assert.Equal(t, "no-store", res.Header.Get("Cache-Control"))
	enr := decode[map[string]string](t, body)
	uri, err := mfa.ParseURI(enr["otpauth_uri"])
	require.NoError(t, err)
	assert.Equal(t, "admin@acme.test", uri.Account)
	qr, ok := strings.CutPrefix(enr["qr_code"], "data:image/png;base64,")
	require.True(t, ok)
	raw, err := base64.StdEncoding.DecodeString(qr)
	require.NoError(t, err)
	_, err = png.Decode(bytes.NewReader(raw))
	require.NoError(t, err)
	secret := enr["secret"]

	// Pending enrolment protects nothing yet and proves nothing yet.
	res, _ = adm.do("GET", "/api/admin/audit", nil)
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	now := time.Now()
	code, err := mfa.Code(secret, now)
	require.NoError(t, err)
	wrong := map[bool]string{true: "111111", false: "000000"}[code == "000000"]
	res, _ = adm.do("POST", "/api/mfa/confirm", map[string]string{"code": wrong})
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)

	before := adm.sessionCookie()
	res, body = adm.do("POST", "/api/mfa/confirm", map[string]string{"code": code})
	require.Equal(t, http.StatusOK, res.StatusCode, string(body))
	var conf struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	require.NoError(t, json.Unmarshal(body, &conf))
	require.Len(t, conf.RecoveryCodes, 10)
	assert.NotEqual(t, before, adm.sessionCookie(), "the step-up renewed the session token")
	res, _ = adm.do("GET", "/api/admin/audit", nil)
	assert.Equal(t, http.StatusOK, res.StatusCode, "enrolled and verified: the admin gets in")
	res, _ = adm.do("POST", "/api/mfa/enroll", nil)
	assert.Equal(t, http.StatusConflict, res.StatusCode, "a session cannot replace a confirmed factor")

	// Sign out; the next sign-in takes two steps.
	res, _ = adm.do("POST", "/api/logout", nil)
	require.Equal(t, http.StatusNoContent, res.StatusCode)
	res, body = adm.do("POST", "/api/login", map[string]string{"email": "admin@acme.test", "password": portalapp.DemoPassword})
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.JSONEq(t, `{"mfa_required": true}`, string(body))
	res, _ = adm.do("GET", "/api/me", nil)
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "the password alone signs nobody in")
	res, _ = adm.do("GET", "/api/admin/audit", nil)
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	res, _ = adm.do("POST", "/api/login/mfa", map[string]string{"code": code})
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "the confirming code is spent: replay refused")
	res, body = adm.do("POST", "/api/login/mfa", map[string]string{"code": strings.ToUpper(conf.RecoveryCodes[0])})
	require.Equal(t, http.StatusOK, res.StatusCode, "a recovery code completes the sign-in: %s", body)
	assert.Equal(t, "verified", decode[map[string]string](t, body)["mfa"])
	res, _ = adm.do("GET", "/api/admin/audit", nil)
	assert.Equal(t, http.StatusOK, res.StatusCode)

	// Step-up with the app's next code; the spent recovery code is refused.
	next, err := mfa.Code(secret, now.Add(mfa.Period))
	require.NoError(t, err)
	res, _ = adm.do("POST", "/api/mfa/step-up", map[string]string{"code": conf.RecoveryCodes[0]})
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "a recovery code works once")
	res, _ = adm.do("POST", "/api/mfa/step-up", map[string]string{"code": next})
	assert.Equal(t, http.StatusNoContent, res.StatusCode)

	// Another browser with the password only never reaches admin routes,
	// and a second-factor request without a pending sign-in is refused.
	thief := h.client()
	res, _ = thief.do("POST", "/api/login", map[string]string{"email": "admin@acme.test", "password": portalapp.DemoPassword})
	require.Equal(t, http.StatusOK, res.StatusCode)
	res, _ = thief.do("GET", "/api/admin/audit", nil)
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	stranger := h.client()
	res, _ = stranger.do("POST", "/api/login/mfa", map[string]string{"code": next})
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)

	recs, err := h.portal.AuditFile.ReadAll()
	require.NoError(t, err)
	actions := map[string]int{}
	for _, r := range recs {
		if r.Kind == "event" {
			actions[r.Action]++
		}
	}
	for _, a := range []string{"mfa_enroll_started", "mfa_enrolled", "login_password_verified", "mfa_login", "mfa_recovery_used", "mfa_step_up", "mfa_failed"} {
		assert.Positive(t, actions[a], "audit action %s in %v", a, actions)
	}
	assert.NotContains(t, h.log.String(), secret, "the TOTP secret never reaches the log")
	assert.NotContains(t, h.log.String(), conf.RecoveryCodes[1], "nor the recovery codes")
}

// TestMFAGuessingIsLimited: an attacker with the password guesses codes at
// the second step; after five wrong codes even the right one gets 429.
func TestMFAGuessingIsLimited(t *testing.T) {
	h := startPortal(t)
	c := h.client()
	res, body := c.do("POST", "/api/login", map[string]string{"email": "admin@acme.test", "password": portalapp.DemoPassword})
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.JSONEq(t, `{"mfa_required": true}`, string(body))
	right, err := mfa.Code(portalapp.DemoTOTPSecret, time.Now())
	require.NoError(t, err)
	guesses := 0
	for g := 0; guesses < 5; g++ {
		guess := strings.Repeat(string(rune('0'+g%10)), 6)
		if guess == right {
			continue
		}
		res, _ = c.do("POST", "/api/login/mfa", map[string]string{"code": guess})
		require.Equal(t, http.StatusUnauthorized, res.StatusCode)
		guesses++
	}
	res, _ = c.do("POST", "/api/login/mfa", map[string]string{"code": right})
	assert.Equal(t, http.StatusTooManyRequests, res.StatusCode)
	assert.NotEmpty(t, res.Header.Get("Retry-After"))
}

// TestMFAInputRefused: malformed codes are a 4xx problem, never a 5xx.
func TestMFAInputRefused(t *testing.T) {
	h := startPortal(t)
	c := h.client()
	for _, body := range []string{`{}`, `{"code":""}`, `{"code":123456}`, `{"code":"123456","extra":1}`, `{"code":"` + strings.Repeat("9", 100) + `"}`, `not json`} {
		res, _ := c.do("POST", "/api/login/mfa", body)
		assert.GreaterOrEqual(t, res.StatusCode, 400, body)
		assert.Less(t, res.StatusCode, 500, body)
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// TestMFAKeyFromEnvironment: in production the sealing key comes from
// PORTAL_MFA_KEY; missing, the gate blocks naming it.
func TestMFAKeyFromEnvironment(t *testing.T) {
	t.Setenv(portalapp.MFAKeyEnv, "")
	p, err := portalapp.Build(portalapp.Options{Env: readiness.Production, TLS: true, OutboxDir: t.TempDir(),
		AuditFile: filepath.Join(t.TempDir(), "audit.jsonl"), Resolver: offline()})
	require.NoError(t, err)
	report, err := readiness.Run(t.Context(), p.Target)
	require.NoError(t, err)
	var named bool
	for _, f := range report.ByID("SECRET001") {
		named = named || strings.Contains(f.Seen, portalapp.MFAKeyEnv)
	}
	assert.True(t, named, "SECRET001 names %s:\n%s", portalapp.MFAKeyEnv, report)
	enrolled, err := p.MFA.Enrolled(t.Context(), "u-admin")
	require.NoError(t, err)
	assert.False(t, enrolled, "production never enrols the demo admin")
}
