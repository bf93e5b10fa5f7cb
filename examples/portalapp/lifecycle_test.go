package portalapp_test

import (
	"context"
	"encoding/csv"
	"errors"
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

	"github.com/launchready/launchready/audit"
	"github.com/launchready/launchready/examples/portalapp"
	"github.com/launchready/launchready/readiness"
)

// resetToken asks for a reset of email and returns the token of the mail
// it produced (the newest mail in the outbox that was not seen before).
func (h *harness) resetToken(email string, seen map[string]bool) string {
	h.t.Helper()
	res, _ := h.client().do("POST", "/api/password-reset", map[string]string{"email": email})
	require.Equal(h.t, http.StatusAccepted, res.StatusCode)
	h.portal.Mail.Wait()
	mails, err := filepath.Glob(filepath.Join(h.portal.Outbox, "*.eml"))
	require.NoError(h.t, err)
	var token string
	for _, m := range mails {
		if seen[m] {
			continue
		}
		seen[m] = true
		raw, err := os.ReadFile(m)
		require.NoError(h.t, err)
		if !strings.Contains(string(raw), "To: "+email) {
			continue
		}
		tok := regexp.MustCompile(`#reset=([A-Z2-7]+)`).FindStringSubmatch(string(raw))
		require.Len(h.t, tok, 2)
		require.Empty(h.t, token, "one new mail per request")
		token = tok[1]
	}
	require.NotEmpty(h.t, token, "a reset mail for %s", email)
	return token
}

func (c *client) confirm(token, password string) int {
	res, _ := c.do("POST", "/api/password-reset/confirm", map[string]string{"token": token, "password": password})
	return res.StatusCode
}

func (c *client) me() int {
	res, _ := c.do("GET", "/api/me", nil)
	return res.StatusCode
}

// Findings 1 and 2: a reset ends every session opened before it, and
// only the newest reset link works.
func TestResetEndsSessionsAndOlderLinks(t *testing.T) {
	h := startPortal(t)
	laptop, phone := h.signedIn("agent@acme.test"), h.signedIn("agent@acme.test")
	other := h.signedIn("alice@client-a.test")
	seen := map[string]bool{}
	older := h.resetToken("agent@acme.test", seen)
	newer := h.resetToken("agent@acme.test", seen)

	c := h.client()
	assert.Equal(t, http.StatusBadRequest, c.confirm(older, "an-attacker-password-1"), "an older link dies when a newer one is issued")
	require.Equal(t, http.StatusNoContent, c.confirm(newer, "a-new-long-password"))
	assert.Equal(t, http.StatusBadRequest, c.confirm(newer, "an-attacker-password-2"), "a link works once")

	// Attack: the cookies of the old password are dead, wherever they are.
	assert.Equal(t, http.StatusUnauthorized, laptop.me())
	assert.Equal(t, http.StatusUnauthorized, phone.me())
	assert.Equal(t, http.StatusOK, other.me(), "other accounts keep their sessions")
	assert.Equal(t, http.StatusOK, h.client().login("agent@acme.test", "a-new-long-password"))

	// Consuming a link also revokes one issued to the same account in between.
	a := h.resetToken("alice@client-a.test", seen)
	require.Equal(t, http.StatusNoContent, c.confirm(a, "alice-new-password-1"))
	assert.Equal(t, http.StatusBadRequest, c.confirm(a, "alice-new-password-2"))
}

// Findings 3 and 4: failures from elsewhere do not lock the owner out of
// a browser that signed in before, or after a reset; every spelling of the
// account shares the lockout; new devices stay locked.
func TestLockoutSparesTheVictim(t *testing.T) {
	h := startPortal(t)
	victim := h.signedIn("agent@acme.test") // this browser is now known
	res, _ := victim.do("POST", "/api/logout", nil)
	require.Equal(t, http.StatusNoContent, res.StatusCode)

	attacker := h.client()
	for range 5 {
		require.Equal(t, http.StatusUnauthorized, attacker.login("agent@acme.test", "guess-"+t.Name()))
	}
	// The account is locked for every new device, in every spelling.
	for _, spelling := range []string{"agent@acme.test", "agent@acme.te\u017ft", "AGENT@acme.test", "ａgent@acme.test"} {
		assert.Equal(t, http.StatusTooManyRequests, h.client().login(spelling, portalapp.DemoPassword), "spelling %q", spelling)
	}
	// The victim's own browser still gets in.
	assert.Equal(t, http.StatusOK, victim.login("agent@acme.test", portalapp.DemoPassword))

	// A new device of the victim gets in after a reset.
	fresh := h.client()
	require.Equal(t, http.StatusTooManyRequests, fresh.login("agent@acme.test", portalapp.DemoPassword))
	token := h.resetToken("agent@acme.test", map[string]bool{})
	require.Equal(t, http.StatusNoContent, h.client().confirm(token, "a-new-long-password"))
	assert.Equal(t, http.StatusOK, fresh.login("agent@acme.test", "a-new-long-password"))
}

// Finding 5: requesting reset links never locks the confirm form.
func TestResetRequestsDoNotLockTheConfirmation(t *testing.T) {
	h := startPortal(t)
	c := h.client()
	codes := map[int]int{}
	for range 5 {
		res, _ := c.do("POST", "/api/password-reset", map[string]string{"email": "nobody" + t.Name() + "@acme.test"})
		codes[res.StatusCode]++
	}
	require.Positive(t, codes[http.StatusTooManyRequests], "precondition: the request limit is spent: %v", codes)
	h.portal.Mail.Wait()
	token := h.resetToken("bob@client-b.test", map[string]bool{})
	assert.Equal(t, http.StatusNoContent, c.confirm(token, "a-new-long-password"))
}

// Finding 6: a link from another site cannot run the export.
func TestCrossSiteExportRefused(t *testing.T) {
	h := startPortal(t)
	agent := h.signedIn("agent@acme.test")
	res, body := agent.do("GET", "/api/clients/client-a/export", nil, "Sec-Fetch-Site", "cross-site", "Sec-Fetch-Mode", "navigate")
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	assert.NotContains(t, string(body), "ticket")
	res, _ = agent.do("GET", "/api/clients/client-a/export", nil, "Referer", "https://evil.example/")
	assert.Equal(t, http.StatusForbidden, res.StatusCode)
	res, _ = agent.do("GET", "/api/clients/client-a/export", nil, "Sec-Fetch-Site", "same-origin")
	assert.Equal(t, http.StatusOK, res.StatusCode)
	for _, rec := range auditRecords(t, h) {
		if rec.Action == "export" {
			assert.Equal(t, 1, countExports(auditRecords(t, h)), "only the same-origin export ran")
			break
		}
	}
}

func countExports(recs []audit.Record) int {
	n := 0
	for _, r := range recs {
		if r.Action == "export" {
			n++
		}
	}
	return n
}

func auditRecords(t *testing.T, h *harness) []audit.Record {
	t.Helper()
	recs, err := h.portal.AuditFile.ReadAll()
	require.NoError(t, err)
	return recs
}

// Finding 7: the trail says who tried what, from where.
func TestAuditAttributesAnonymousEvents(t *testing.T) {
	h := startPortal(t)
	mallory := h.client()
	for range 6 {
		mallory.login("agent@acme.test", "guess-"+t.Name())
	}
	agent := h.signedIn("alice@client-a.test")
	res, _ := agent.do("PATCH", "/api/tickets/1001", map[string]string{"note": "x"}, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	require.Equal(t, http.StatusForbidden, res.StatusCode)

	var failed, locked, crossOrigin int
	for _, rec := range auditRecords(t, h) {
		switch {
		case rec.Kind == "event" && rec.Action == "login" && rec.Outcome == audit.OutcomeDenied:
			failed++
		case rec.Route == "POST /api/login" && rec.Status == http.StatusTooManyRequests:
			locked++
		case rec.Method == "PATCH" && rec.Status == http.StatusForbidden:
			crossOrigin++
		default:
			continue
		}
		assert.True(t, strings.HasPrefix(rec.ClientIP, "127.0."), "client address recorded: %+v", rec)
	}
	assert.Equal(t, 5, failed, "failed logins recorded")
	assert.Equal(t, 1, locked, "the lockout refusal recorded")
	assert.Equal(t, 1, crossOrigin, "the cross-origin refusal recorded")
}

// Finding 9: formulas are neutralised after separators too.
func TestExportNeutralisesFormulasAfterSeparators(t *testing.T) {
	h := startPortal(t)
	agent := h.signedIn("agent@acme.test")
	for _, subject := range []string{"x;=1+1;y", "a,=HYPERLINK(\"http://evil\")", "a\t+cmd", "first\n@SUM(A1)", "=plain"} {
		res, _ := agent.do("POST", "/api/clients/client-b/tickets", map[string]string{"subject": subject})
		require.Equal(t, http.StatusCreated, res.StatusCode, subject)
	}
	res, body := agent.do("GET", "/api/clients/client-b/export", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	require.NoError(t, err)
	for _, row := range rows {
		for _, cell := range row {
			// Split every cell as a spreadsheet in any locale would.
			for _, piece := range strings.FieldsFunc(cell, func(r rune) bool { return strings.ContainsRune(";,\t\r\n", r) }) {
				if piece != "" && strings.ContainsRune("=+-@", rune(piece[0])) {
					assert.Failf(t, "formula in export", "cell %q has the piece %q", cell, piece)
				}
			}
		}
	}
	assert.Contains(t, string(body), "x;'=1+1;y")
}

// blockingMailer holds every delivery until released, failing the first
// fails.
type blockingMailer struct {
	release chan struct{}
	fails   atomic.Int32
	tries   atomic.Int32
	mu      sync.Mutex
	sent    []portalapp.Mail
}

func (m *blockingMailer) Send(_ context.Context, msg portalapp.Mail) error {
	<-m.release
	m.tries.Add(1)
	if m.fails.Add(-1) >= 0 {
		return errors.New("mail provider unavailable")
	}
	m.mu.Lock()
	m.sent = append(m.sent, msg)
	m.mu.Unlock()
	return nil
}

// Finding 11: the reset form answers before any mail work, and a failing
// provider is retried after the response.
func TestResetMailSentAfterTheResponseWithRetries(t *testing.T) {
	m := &blockingMailer{release: make(chan struct{})}
	m.fails.Store(2)
	h := startPortalWithMailer(t, m)
	c := h.client()
	// The mailer blocks: a handler that sent inside the request would not
	// answer until it is released.
	for _, email := range []string{"bob@client-b.test", "nobody@client-b.test"} {
		res, _ := c.do("POST", "/api/password-reset", map[string]string{"email": email})
		assert.Equal(t, http.StatusAccepted, res.StatusCode)
	}
	close(m.release)
	h.portal.Mail.Wait()
	assert.Equal(t, int32(3), m.tries.Load(), "two failures, then delivered")
	require.Len(t, m.sent, 1, "one mail, for the existing account")
	assert.Equal(t, "bob@client-b.test", m.sent[0].To)
}

// startPortalWithMailer is startPortal with a mailer of the test's own and
// no wait between delivery attempts.
func startPortalWithMailer(t *testing.T, m portalapp.Mailer) *harness {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	p, err := portalapp.Build(portalapp.Options{
		Env: readiness.Development, Addr: srv.Listener.Addr().String(), Mailer: m,
		AuditFile: filepath.Join(t.TempDir(), "audit.jsonl"), MailBackoff: func(int) time.Duration { return 0 },
	})
	require.NoError(t, err)
	p.Health.SetBoot(nil)
	srv.Config = p.Server
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		assert.NoError(t, p.Close())
	})
	return &harness{t: t, portal: p, srv: srv, log: &syncBuffer{}}
}
