package portalapp_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/examples/portalapp"
	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/readiness/probe"
)

// crm is a stand-in for the external CRM on loopback whose behaviour the
// test switches: healthy, slow (10 s), failing (500 with an internal error
// text) or down.
type crm struct {
	srv   *httptest.Server
	mode  atomic.Value // "ok", "slow", "fail"
	calls atomic.Int32
}

func startCRM(t *testing.T) *crm {
	c := &crm{}
	c.mode.Store("ok")
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.calls.Add(1)
		switch c.mode.Load().(string) {
		case "slow":
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		case "fail":
			http.Error(w, "pq: relation crm_accounts does not exist at 10.1.2.3", http.StatusInternalServerError)
		default:
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]string{"health": "green", "account_manager": "Dana"})
		}
	}))
	t.Cleanup(c.srv.Close)
	return c
}

type clientWithEnrichment struct {
	ID         string                `json:"id"`
	Enrichment *portalapp.Enrichment `json:"enrichment"`
}

func TestClientLookupDegradesWhenTheCRMIsSlowOrDown(t *testing.T) {
	crm := startCRM(t)
	h := startPortalWith(t, func(o *portalapp.Options) { o.EnrichmentURL = crm.srv.URL })
	agent := h.signedIn("agent@acme.test")

	res, raw := agent.do("GET", "/api/clients/client-a", nil)
	require.Equal(t, http.StatusOK, res.StatusCode, string(raw))
	got := decode[clientWithEnrichment](t, raw)
	require.NotNil(t, got.Enrichment)
	assert.Equal(t, "ok", got.Enrichment.Status)
	assert.Equal(t, "green", got.Enrichment.Health)

	// A CRM that hangs for 10 s costs the agent at most the 800 ms
	// deadline (one retry included), and the page still loads.
	crm.mode.Store("slow")
	start := time.Now()
	res, raw = agent.do("GET", "/api/clients/client-a", nil)
	elapsed := time.Since(start)
	require.Equal(t, http.StatusOK, res.StatusCode, string(raw))
	assert.Equal(t, "unavailable", decode[clientWithEnrichment](t, raw).Enrichment.Status)
	assert.Less(t, elapsed, time.Second, "a slow CRM must not hold the client lookup past its budget")

	// A failing CRM: its internal error never reaches the client.
	crm.mode.Store("fail")
	for i := 0; i < 4; i++ {
		res, raw = agent.do("GET", "/api/clients/client-a", nil)
		require.Equal(t, http.StatusOK, res.StatusCode)
		assert.NotContains(t, string(raw), "crm_accounts")
		assert.NotContains(t, string(raw), "10.1.2.3")
	}
	// Five consecutive failed calls (the slow one included) opened the
	// breaker: the CRM is not called again while it is open.
	before := crm.calls.Load()
	res, raw = agent.do("GET", "/api/clients/client-a", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "unavailable", decode[clientWithEnrichment](t, raw).Enrichment.Status)
	assert.Equal(t, before, crm.calls.Load(), "an open breaker must not call the CRM")

	// The replica stays ready (the CRM is optional); admins see it degraded.
	res, raw = h.client().do("GET", "/readyz", nil)
	assert.Equal(t, http.StatusOK, res.StatusCode, string(raw))
	assert.JSONEq(t, `{"status":"ready"}`, string(raw))
	rec := httptest.NewRecorder()
	h.portal.Health.DetailHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Body.String(), `"status":"degraded"`)
	assert.Contains(t, rec.Body.String(), "circuit breaker is open")
}

func TestEnrichmentIsABudgetedDependencyForReadiness(t *testing.T) {
	crm := startCRM(t)
	p, err := portalapp.Build(portalapp.Options{Env: readiness.Development, EnrichmentURL: crm.srv.URL,
		OutboxDir: t.TempDir(), AuditFile: t.TempDir() + "/audit.jsonl"})
	require.NoError(t, err)
	defer p.Close()
	require.Contains(t, p.Target.Clients, "crm")
	r, err := readiness.Run(t.Context(), p.Target)
	require.NoError(t, err)
	for _, id := range []string{"DEPLOY006", "DEPLOY007", "DEPLOY010", "DEPLOY011"} {
		assert.Empty(t, r.ByID(id), "%s", r)
	}
}

func TestEnrichmentURLIsValidated(t *testing.T) {
	_, err := portalapp.Build(portalapp.Options{Env: readiness.Development, EnrichmentURL: "ftp://crm", AuditFile: t.TempDir() + "/a.jsonl"})
	require.Error(t, err)
	assert.True(t, strings.Contains(err.Error(), "EnrichmentURL"), err.Error())
}

// The dependency probe makes the CRM slow, unreachable, failing and
// garbled in turn and replays every GET route as the support agent: the
// client lookup degrades within its budget under each fault.
func TestDependencyProbeOnThePortal(t *testing.T) {
	// The probe injects its faults beneath the dependency, so the CRM's
	// address is never dialled.
	p, err := portalapp.Build(portalapp.Options{Env: readiness.Development, EnrichmentURL: "http://crm.invalid",
		OutboxDir: t.TempDir(), AuditFile: t.TempDir() + "/audit.jsonl"})
	require.NoError(t, err)
	defer p.Close()
	p.Health.SetBoot(nil)
	target := p.Target
	target.Checks = append(target.Checks, probe.DependencyProbe{
		Client: probeClient(t, p, portalapp.DemoPassword), Account: "agent", Slow: 3 * time.Second,
	})
	r, err := readiness.Run(t.Context(), target)
	require.NoError(t, err)
	assert.Empty(t, r.ByID("MON007"), "%s", r)
	for _, f := range r.ByID("PROBE001") {
		assert.NotEqual(t, readiness.ItemMonitoring, f.Item, "the CRM was called by no replayed route: %s", f.Seen)
	}
	var reached int
	for _, rc := range r.Reach {
		if rc.Probe == "dependency probe" && rc.Route == "GET /api/clients/{id}" {
			reached = rc.Reached
		}
	}
	assert.Positive(t, reached, "the client lookup reached its handler under the faults")
}

// mailAPI is a stand-in for the mail provider's HTTP API on loopback.
type mailAPI struct {
	srv  *httptest.Server
	slow atomic.Bool
	mu   sync.Mutex
	sent []map[string]string
	keys map[string]bool
}

func startMailAPI(t *testing.T) *mailAPI {
	m := &mailAPI{keys: map[string]bool{}}
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m.slow.Load() {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(10 * time.Second):
			}
		}
		var msg map[string]string
		if r.URL.Path != "/send" || json.NewDecoder(r.Body).Decode(&msg) != nil || r.Header.Get("Idempotency-Key") == "" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		m.mu.Lock()
		if !m.keys[r.Header.Get("Idempotency-Key")] {
			m.keys[r.Header.Get("Idempotency-Key")] = true
			m.sent = append(m.sent, msg)
		}
		m.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *mailAPI) subjects() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, msg := range m.sent {
		out = append(out, msg["subject"])
	}
	return out
}

// Ticket creation notifies the client's contact through the mail API, on
// the queue: with a mail API that takes 10 s per call, creating a ticket
// still answers at once, and the mail goes out once the API recovers.
func TestTicketCreationDoesNotWaitForASlowMailAPI(t *testing.T) {
	mail := startMailAPI(t)
	mail.slow.Store(true)
	h := startPortalWith(t, func(o *portalapp.Options) {
		o.MailAPIURL = mail.srv.URL
		o.MailBackoff = func(int) time.Duration { return 50 * time.Millisecond }
	})
	agent := h.signedIn("agent@acme.test")
	for i := 0; i < 3; i++ {
		start := time.Now()
		res, raw := agent.do("POST", "/api/clients/client-b/tickets", map[string]string{"subject": fmt.Sprintf("Printer on fire %d", i)})
		elapsed := time.Since(start)
		require.Equal(t, http.StatusCreated, res.StatusCode, string(raw))
		assert.Less(t, elapsed, time.Second, "ticket creation must not wait for the mail API")
	}
	assert.Empty(t, mail.subjects(), "nothing delivered while the API hangs")

	mail.slow.Store(false)
	require.Eventually(t, func() bool { return len(mail.subjects()) >= 3 }, 60*time.Second, 50*time.Millisecond,
		"the queued notifications are delivered once the mail API answers")
	assert.Contains(t, mail.subjects(), "Ticket #"+ticketIDPrefix(mail.subjects()[0])+" opened: Printer on fire 0")
}

func ticketIDPrefix(subject string) string {
	s := strings.TrimPrefix(subject, "Ticket #")
	return s[:strings.Index(s, " ")]
}

// The dependency probe replays ticket creation with the mail API slow,
// refused, failing and garbled: the ticket is created within budget every
// time, and the mail API counts as exercised by the queued work.
func TestDependencyProbeOnTicketMail(t *testing.T) {
	p, err := portalapp.Build(portalapp.Options{Env: readiness.Development, MailAPIURL: "http://mail.invalid",
		MailBackoff: func(int) time.Duration { return 10 * time.Millisecond },
		OutboxDir:   t.TempDir(), AuditFile: t.TempDir() + "/audit.jsonl"})
	require.NoError(t, err)
	defer p.Close()
	p.Health.SetBoot(nil)
	target := p.Target
	target.Checks = append(target.Checks, probe.DependencyProbe{
		Client: probeClient(t, p, portalapp.DemoPassword), Account: "agent", Slow: 3 * time.Second,
		Requests: []probe.Request{{Method: http.MethodPost, Target: "/api/clients/client-b/tickets",
			Body: `{"subject":"dependency probe ticket"}`, Route: "POST /api/clients/{id}/tickets"}},
	})
	r, err := readiness.Run(t.Context(), target)
	require.NoError(t, err)
	assert.Empty(t, r.ByID("MON007"), "%s", r)
	for _, f := range r.ByID("PROBE001") {
		assert.NotEqual(t, readiness.ItemMonitoring, f.Item, "%s", f.Seen)
	}
	for _, id := range []string{"DEPLOY010", "DEPLOY011"} {
		assert.Empty(t, r.ByID(id), "%s", r)
	}
}
