package portalapp_test

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/e2e/chromium"
	"github.com/launchready/launchready/examples/portalapp"
	"github.com/launchready/launchready/mfa"
	"github.com/launchready/launchready/readiness"
)

// TestBrowserMFA drives headless chromium through the page: the demo agent
// (not enrolled) sets up two-factor sign-in from the QR code's key, gets
// the recovery codes once, signs out, and signs in again in two steps; a
// wrong code is refused on the way.
func TestBrowserMFA(t *testing.T) {
	srv := httptest.NewUnstartedServer(nil)
	p, err := portalapp.Build(portalapp.Options{Env: readiness.Development, Addr: srv.Listener.Addr().String(), OutboxDir: t.TempDir(), AuditFile: filepath.Join(t.TempDir(), "audit.jsonl")})
	require.NoError(t, err)
	p.Health.SetBoot(nil)
	srv.Config = p.Server
	srv.Start()
	t.Cleanup(srv.Close)

	b := chromium.Start(t)
	signIn := func() {
		t.Helper()
		require.NoError(t, b.Eval(`(() => {
			document.getElementById("email").value = "agent@acme.test";
			document.getElementById("password").value = "`+portalapp.DemoPassword+`";
			document.getElementById("login-submit").click();
			return true; })()`, nil))
	}
	require.NoError(t, b.Navigate(srv.URL+"/"))
	require.NoError(t, b.WaitFor(`document.body.dataset.loaded === "1"`))
	signIn()
	require.NoError(t, b.WaitFor(`document.body.dataset.ready === "app"`))

	// Not enrolled: the page offers the setup.
	var hidden bool
	require.NoError(t, b.Eval(`document.getElementById("mfa-setup").hidden`, &hidden))
	require.False(t, hidden, "the agent is offered two-factor sign-in")
	require.NoError(t, b.Eval(`document.getElementById("mfa-enroll").click(), true`, nil))
	require.NoError(t, b.WaitFor(`document.body.dataset.step === "enroll" && document.getElementById("mfa-qr").complete && document.getElementById("mfa-qr").naturalWidth > 0`))
	var secret string
	require.NoError(t, b.Eval(`document.getElementById("mfa-secret").textContent`, &secret))
	require.Len(t, secret, 32, "a 160-bit base32 key")
	var qrWidth int
	require.NoError(t, b.Eval(`document.getElementById("mfa-qr").naturalWidth`, &qrWidth))
	assert.Equal(t, 256, qrWidth, "the QR code PNG decoded in the browser")

	// A wrong code is refused; the right one enrols and shows the codes.
	wrong := "000000"
	if c, _ := mfa.Code(secret, time.Now()); c == wrong {
		wrong = "111111"
	}
	require.NoError(t, b.Eval(`(() => {
		document.getElementById("mfa-confirm-code").value = "`+wrong+`";
		document.getElementById("mfa-confirm-submit").click();
		return true; })()`, nil))
	require.NoError(t, b.WaitFor(`document.getElementById("mfa-error").textContent !== ""`))
	now := time.Now()
	code, err := mfa.Code(secret, now)
	require.NoError(t, err)
	require.NoError(t, b.Eval(`(() => {
		document.getElementById("mfa-confirm-code").value = "`+code+`";
		document.getElementById("mfa-confirm-submit").click();
		return true; })()`, nil))
	require.NoError(t, b.WaitFor(`document.body.dataset.step === "enrolled"`))
	var recovery []string
	require.NoError(t, b.Eval(`[...document.querySelectorAll("#mfa-recovery-codes li")].map(li => li.textContent)`, &recovery))
	assert.Len(t, recovery, 10)
	enrolled, err := p.MFA.Enrolled(t.Context(), "u-agent")
	require.NoError(t, err)
	assert.True(t, enrolled)
	png, err := b.Screenshot()
	require.NoError(t, err)
	shot := filepath.Join(artifactDir(t), "mfa-enrolled.png")
	require.NoError(t, os.WriteFile(shot, png, 0o644))
	t.Logf("screenshot after enrolment: %s", shot)

	// Sign out; signing in again takes the password, then the code.
	require.NoError(t, b.Eval(`document.getElementById("logout").click(), true`, nil))
	require.NoError(t, b.WaitFor(`!document.getElementById("login-view").hidden`))
	var leftover int
	require.NoError(t, b.Eval(`document.querySelectorAll("#mfa-recovery-codes li").length`, &leftover))
	assert.Zero(t, leftover, "the recovery codes are gone from the page after sign-out")
	signIn()
	require.NoError(t, b.WaitFor(`document.body.dataset.step === "mfa" && !document.getElementById("mfa-form").hidden`))
	// Half-signed-in is nobody: the API still answers 401.
	var status int
	require.NoError(t, b.Eval(`fetch("/api/me").then(r => r.status)`, &status))
	assert.Equal(t, 401, status)
	// The confirming code is spent (replay); the next step's code works.
	require.NoError(t, b.Eval(`(() => {
		document.getElementById("mfa-code").value = "`+code+`";
		document.getElementById("mfa-submit").click();
		return true; })()`, nil))
	require.NoError(t, b.WaitFor(`document.getElementById("login-error").textContent !== ""`))
	next, err := mfa.Code(secret, now.Add(mfa.Period))
	require.NoError(t, err)
	require.NoError(t, b.Eval(`(() => {
		document.getElementById("mfa-code").value = "`+next+`";
		document.getElementById("mfa-submit").click();
		return true; })()`, nil))
	require.NoError(t, b.WaitFor(`document.body.dataset.ready === "app" && document.getElementById("who").textContent.includes("support")`))
	var me string
	require.NoError(t, b.Eval(`fetch("/api/me").then(r => r.json()).then(m => m.mfa)`, &me))
	assert.Equal(t, "verified", me)
	require.NoError(t, b.Eval(`document.getElementById("mfa-setup").hidden`, &hidden))
	assert.True(t, hidden, "an enrolled user is not offered the setup again")
}
