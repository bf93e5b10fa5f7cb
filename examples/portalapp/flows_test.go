package portalapp_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/examples/portalapp"
	"github.com/launchready/launchready/flows"
	"github.com/launchready/launchready/monitor"
	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/readiness/probe"
)

// portalFlows loads the flows the portal ships (examples/portal/flows.yaml).
func portalFlows(t *testing.T) *flows.File {
	t.Helper()
	_, self, _, _ := runtime.Caller(0)
	f, err := flows.Load(filepath.Join(filepath.Dir(self), "..", "portal", "flows.yaml"))
	require.NoError(t, err)
	return f
}

// flowRunner runs flows from its own loopback address, with the default
// (demo agent) account.
func (h *harness) flowRunner(env map[string]string) *flows.Runner {
	n := h.clients.Add(1)
	local := &net.TCPAddr{IP: net.IPv4(127, 0, byte(n/250), byte(2+n%250))}
	tr := &http.Transport{DialContext: (&net.Dialer{LocalAddr: local, Timeout: 5 * time.Second}).DialContext}
	h.t.Cleanup(tr.CloseIdleConnections)
	return &flows.Runner{BaseURL: h.srv.URL, Transport: tr, LookupEnv: func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}}
}

func TestShippedFlowsCoverLoginAndAWorkflow(t *testing.T) {
	f := portalFlows(t)
	covered := false
	for _, fl := range f.Flows {
		covered = covered || fl.Covering(flows.CoverLogin) && fl.Covering(flows.CoverWorkflow)
	}
	assert.True(t, covered)
}

func TestShippedFlowsPassAgainstTheDevelopmentPortal(t *testing.T) {
	h := startPortal(t)
	before, err := h.portal.Store.Tickets(context.Background(), "client-a")
	require.NoError(t, err)
	for _, fl := range portalFlows(t).Flows {
		res := h.flowRunner(nil).Run(context.Background(), fl)
		require.NoError(t, res.Err)
		for _, s := range res.Steps {
			assert.True(t, s.OK(), s.Name)
		}
	}
	after, err := h.portal.Store.Tickets(context.Background(), "client-a")
	require.NoError(t, err)
	require.Len(t, after, len(before)+1, "the flow opened one ticket")
	assert.Equal(t, "closed", after[len(after)-1].Status, "and closed it again")
}

func TestShippedFlowsReadTheAccountFromTheEnvironment(t *testing.T) {
	h := startPortal(t)
	fl := portalFlows(t).Flows[0]
	res := h.flowRunner(map[string]string{"LAUNCHREADY_FLOW_EMAIL": "admin@acme.test", "LAUNCHREADY_FLOW_PASSWORD": "not-" + portalapp.DemoPassword}).Run(context.Background(), fl)
	assert.Equal(t, "login", res.FailedStep())
	assert.ErrorIs(t, res.Err, flows.ErrStatus)
	assert.NotContains(t, res.Err.Error(), "not-"+portalapp.DemoPassword)
}

func TestShippedFlowsNameTheBrokenStep(t *testing.T) {
	for fault, step := range map[string]string{"login": "login", "tickets": "ticket creation"} {
		t.Run(fault, func(t *testing.T) {
			faults := &portalapp.Faults{}
			require.NoError(t, faults.Set(fault))
			h := startPortalWith(t, func(o *portalapp.Options) { o.Faults = faults })
			res := h.flowRunner(nil).Run(context.Background(), portalFlows(t).Flows[0])
			assert.Equal(t, step, res.FailedStep())
			assert.Contains(t, res.Err.Error(), "got 500")

			faults.Login.Store(false)
			faults.Tickets.Store(false)
			assert.NoError(t, h.flowRunner(nil).Run(context.Background(), portalFlows(t).Flows[0]).Err, "healed")
		})
	}
	assert.Error(t, (&portalapp.Faults{}).Set("everything"))
}

func releaseTokenForTest(t *testing.T) string {
	b := make([]byte, 24)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}

func TestVersionAnswersAdminsAndTheReleaseTokenOnly(t *testing.T) {
	token := releaseTokenForTest(t)
	rel := monitor.Release{Version: "(devel)", Revision: strings.Repeat("ab", 20)}
	h := startPortalWith(t, func(o *portalapp.Options) { o.ReleaseToken = token; o.Release = rel })

	anon := h.client()
	res, body := anon.do("GET", portalapp.VersionPath, nil)
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.NotContains(t, string(body), rel.Revision, "anonymous callers learn nothing")

	res, body = anon.do("GET", portalapp.VersionPath, nil, "Authorization", "Bearer "+token)
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, rel, decode[monitor.Release](t, body))

	for name, hdr := range map[string]string{
		"wrong token":  "Bearer " + releaseTokenForTest(t),
		"token prefix": "Bearer " + token[:portalapp.MinReleaseTokenLen/2],
		"basic scheme": "Basic " + token,
	} {
		res, body = anon.do("GET", portalapp.VersionPath, nil, "Authorization", hdr)
		assert.Equal(t, http.StatusUnauthorized, res.StatusCode, name)
		assert.NotContains(t, string(body), rel.Revision, name)
	}

	// The token is a credential for /version only, never for the API.
	res, _ = anon.do("GET", "/api/clients", nil, "Authorization", "Bearer "+token)
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	res, _ = anon.do("GET", "/api/me", nil, "Authorization", "Bearer "+token)
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)

	res, _ = h.signedIn("agent@acme.test").do("GET", portalapp.VersionPath, nil)
	assert.Equal(t, http.StatusForbidden, res.StatusCode, "support agents are not admins")
	pwdOnly := h.client()
	require.Equal(t, http.StatusOK, pwdOnly.login("admin@acme.test", portalapp.DemoPassword))
	res, body = pwdOnly.do("GET", portalapp.VersionPath, nil)
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode, "an admin password alone opens nothing")
	assert.NotContains(t, string(body), rel.Revision)
	res, body = h.signedIn("admin@acme.test").do("GET", portalapp.VersionPath, nil)
	require.Equal(t, http.StatusOK, res.StatusCode, "the admin with the second factor")
	assert.Equal(t, rel, decode[monitor.Release](t, body))
}

func TestShortReleaseTokenIsRefused(t *testing.T) {
	_, err := portalapp.Build(portalapp.Options{ReleaseToken: "short", OutboxDir: t.TempDir(), AuditFile: filepath.Join(t.TempDir(), "a.jsonl")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Options.ReleaseToken")
}

// flowProbeReport runs the flow probe (and the built-in checks) against a
// development portal with faults.
func flowProbeReport(t *testing.T, faults *portalapp.Faults, client *probe.Client) (*readiness.Report, *portalapp.Portal) {
	t.Helper()
	p, err := portalapp.Build(portalapp.Options{Env: readiness.Development, OutboxDir: t.TempDir(),
		AuditFile: filepath.Join(t.TempDir(), "audit.jsonl"), Faults: faults, Flows: portalFlows(t).Flows, PreviousRelease: "v0.9.0"})
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	target := p.Target
	target.Checks = append(target.Checks, probe.FlowProbe{Client: client, Env: map[string]string{}})
	rep, err := readiness.Run(context.Background(), target)
	require.NoError(t, err)
	return rep, p
}

func TestFlowProbePassesOnTheWorkingPortal(t *testing.T) {
	rep, p := flowProbeReport(t, &portalapp.Faults{}, &probe.Client{})
	assert.Empty(t, rep.ByID("MON006"))
	assert.Empty(t, rep.ByID("MON005"))
	assert.Empty(t, rep.ByID("PROBE001"))
	tickets, err := p.Store.Tickets(context.Background(), "client-a")
	require.NoError(t, err)
	assert.Equal(t, "synthetic check (launchready flows)", tickets[len(tickets)-1].Subject, "the flow ran through the real handlers")
	reached := 0
	for _, r := range rep.Reach {
		if r.Probe == "flow probe" {
			reached += r.Reached
		}
	}
	assert.GreaterOrEqual(t, reached, 7, "every step reached its handler")
}

func TestFlowProbeReportsTheBrokenStep(t *testing.T) {
	faults := &portalapp.Faults{}
	faults.Tickets.Store(true)
	rep, _ := flowProbeReport(t, faults, &probe.Client{})
	f := rep.ByID("MON006")
	require.Len(t, f, 1)
	assert.Equal(t, readiness.Blocker, f[0].Severity)
	assert.Contains(t, f[0].Seen, `step "ticket creation"`)
	assert.Contains(t, f[0].Seen, "got 500, want 201")
}

// A flow refused in front of the handler tested nothing: not exercised,
// never a pass and never a MON006.
func TestFlowProbeRefusedIsNotExercised(t *testing.T) {
	rep, _ := flowProbeReport(t, &portalapp.Faults{}, &probe.Client{Host: "evil.test"})
	assert.Empty(t, rep.ByID("MON006"))
	f := rep.ByID("PROBE001")
	require.NotEmpty(t, f)
	assert.Contains(t, f[0].Seen, "flow probe")
	assert.Contains(t, f[0].Seen, "Host allowlist")
}
