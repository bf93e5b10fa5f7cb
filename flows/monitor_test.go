package flows_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/flows"
)

// hook is a webhook receiver that records what it got; down makes it
// answer 503.
type hook struct {
	mu     sync.Mutex
	bodies []map[string]any
	down   bool
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.down {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var m map[string]any
	_ = json.NewDecoder(r.Body).Decode(&m)
	h.bodies = append(h.bodies, m)
}

func (h *hook) got() []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]map[string]any(nil), h.bodies...)
}

func metrics(t *testing.T, m *flows.Monitor) string {
	rec := httptest.NewRecorder()
	m.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	require.Equal(t, 200, rec.Code)
	return rec.Body.String()
}

func TestMonitorAlertsOnceAndRecoversOnce(t *testing.T) {
	pw := canaryPassword()
	a, srv := newApp(t, pw)
	h := &hook{}
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	m := &flows.Monitor{
		Targets: []string{srv.URL}, Flows: []flows.Flow{loadPortal(t)}, FailAfter: 2,
		Alert: &flows.Webhook{URL: hs.URL},
		Runner: flows.Runner{LookupEnv: env(map[string]string{"FLOW_PASSWORD": pw}),
			Now: func() time.Time { return time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC) }},
	}
	ctx := context.Background()
	m.RunOnce(ctx)
	assert.Contains(t, metrics(t, m), `probe_success{instance="`+srv.URL+`",flow="agent signs in and opens a ticket"} 1`)
	assert.Empty(t, h.got())

	a.breakTickets.Store(true)
	m.RunOnce(ctx)
	assert.Empty(t, h.got(), "one failure is not an incident yet")
	m.RunOnce(ctx)
	require.Len(t, h.got(), 1, "the second consecutive failure raises the alert")
	alert := h.got()[0]
	assert.Equal(t, "firing", alert["status"])
	assert.Equal(t, "create ticket", alert["step"])
	assert.Contains(t, alert["error"], "got 500")
	assert.Equal(t, "2026-12-05T10:00:00Z", alert["time"], "stamped by the injected clock")
	for range 3 {
		m.RunOnce(ctx)
	}
	assert.Len(t, h.got(), 1, "no storm: one alert per incident")
	out := metrics(t, m)
	assert.Contains(t, out, `probe_success{instance="`+srv.URL+`",flow="agent signs in and opens a ticket"} 0`)
	assert.Contains(t, out, `probe_step_success{instance="`+srv.URL+`",flow="agent signs in and opens a ticket",step="create ticket"} 0`)
	assert.Contains(t, out, `probe_step_status_code{instance="`+srv.URL+`",flow="agent signs in and opens a ticket",step="create ticket"} 500`)
	assert.Contains(t, out, `launchready_flow_consecutive_failures{instance="`+srv.URL+`",flow="agent signs in and opens a ticket"} 5`)
	assert.Contains(t, out, `launchready_flow_alerting{instance="`+srv.URL+`",flow="agent signs in and opens a ticket"} 1`)

	a.breakTickets.Store(false)
	m.RunOnce(ctx)
	m.RunOnce(ctx)
	got := h.got()
	require.Len(t, got, 2, "exactly one recovery notice")
	assert.Equal(t, "resolved", got[1]["status"])
	out = metrics(t, m)
	assert.Contains(t, out, `launchready_flow_alerting{instance="`+srv.URL+`",flow="agent signs in and opens a ticket"} 0`)
	assert.Contains(t, out, `launchready_flow_runs_total{instance="`+srv.URL+`",flow="agent signs in and opens a ticket",result="failure"} 5`)
	for _, b := range got {
		raw, _ := json.Marshal(b)
		assert.NotContains(t, string(raw), pw)
	}
}

func TestMonitorRetriesAnUndeliveredAlert(t *testing.T) {
	a, srv := newApp(t, canaryPassword())
	a.breakTickets.Store(true)
	h := &hook{down: true}
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	m := &flows.Monitor{Targets: []string{srv.URL}, Flows: []flows.Flow{loadPortal(t)}, FailAfter: 1,
		Alert:  &flows.Webhook{URL: hs.URL, Slack: true},
		Runner: flows.Runner{LookupEnv: env(map[string]string{"FLOW_PASSWORD": canaryPassword()})}}
	m.RunOnce(context.Background())
	assert.Empty(t, h.got())
	h.mu.Lock()
	h.down = false
	h.mu.Unlock()
	m.RunOnce(context.Background())
	m.RunOnce(context.Background())
	got := h.got()
	require.Len(t, got, 1)
	assert.Contains(t, got[0]["text"], `FAILING: flow "agent signs in and opens a ticket"`)
	assert.Contains(t, got[0]["text"], `step "create ticket"`)
}

func TestMonitorSurvivesADownTargetAndStopsOnCancel(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	h := &hook{}
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	m := &flows.Monitor{Targets: []string{url}, Flows: []flows.Flow{loadPortal(t)}, Every: 10 * time.Millisecond, FailAfter: 3,
		Alert: &flows.Webhook{URL: hs.URL}, Runner: flows.Runner{LookupEnv: env(map[string]string{"FLOW_PASSWORD": "x"})}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	require.Eventually(t, func() bool { return len(h.got()) == 1 }, 10*time.Second, 5*time.Millisecond)
	require.Eventually(t, func() bool {
		return strings.Contains(metrics(t, m), `launchready_flow_consecutive_failures{instance="`+url+`",flow="agent signs in and opens a ticket"} 5`)
	}, 10*time.Second, 5*time.Millisecond, "still running after the alert")
	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	assert.Len(t, h.got(), 1)
	assert.Equal(t, "login", h.got()[0]["step"])
}

func TestMonitorRefusesBadConfig(t *testing.T) {
	err := (&flows.Monitor{Flows: []flows.Flow{loadPortal(t)}}).Run(context.Background())
	assert.ErrorContains(t, err, "Monitor.Targets")
	err = (&flows.Monitor{Targets: []string{"http://127.0.0.1:1"}}).Run(context.Background())
	assert.ErrorContains(t, err, "Monitor.Flows")
}

func TestWebhookErrorHidesTheURL(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL + "/services/T000/B000/" + strings.Repeat("k", 24)
	srv.Close()
	err := (&flows.Webhook{URL: u}).Notify(context.Background(), flows.Alert{Firing: true})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), strings.Repeat("k", 24))
}
