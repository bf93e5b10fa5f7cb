package portalapp_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/launchready/launchready/examples/portalapp"
	"github.com/launchready/launchready/mfa"
	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/readiness/probe"
)

// productionPortal builds the portal as production would run it: HTTPS,
// mail DNS that verifies, and the demo accounts' published password
// replaced (so AUTH010 passes). The probe users get the password below.
const probePassword = "probe-password-for-tests-only-7"

func productionPortal(t *testing.T) *portalapp.Portal {
	p, _ := productionPortalLog(t, portalapp.RouterServeMux)
	return p
}

func productionPortalLog(t *testing.T, router string) (*portalapp.Portal, *probe.LogCapture) {
	t.Helper()
	logs := &probe.LogCapture{}
	store := portalapp.NewMemoryStore()
	require.NoError(t, portalapp.Seed(store, time.Now()))
	hash, err := bcrypt.GenerateFromPassword([]byte(probePassword), bcrypt.MinCost)
	require.NoError(t, err)
	ctx := context.Background()
	for _, id := range []string{"u-admin", "u-agent", "u-alice", "u-bob"} {
		require.NoError(t, store.SetPasswordHash(ctx, id, hash))
	}
	p, err := portalapp.Build(portalapp.Options{
		Env: readiness.Production, Addr: "portal.acme.test:443", TLS: true,
		PublicURL: "https://portal.acme.test", Store: store, MFAKey: testMFAKey(t),
		Resolver: startMailDNS(t), Log: logs, OutboxDir: t.TempDir(), AuditFile: filepath.Join(t.TempDir(), "audit.jsonl"),
		Router: router,
		Flows:  portalFlows(t).Flows, PreviousRelease: "v0.9.0",
	})
	require.NoError(t, err)
	return p, logs
}

// TestReadiness is the portal's launch gate in go test: every static check
// and every probe the kit provides, in production mode, on each router. The
// test holds no router-specific code.
func TestReadiness(t *testing.T) {
	for _, router := range routers {
		t.Run(router, func(t *testing.T) { testReadiness(t, router) })
	}
}

func testReadiness(t *testing.T, router string) {
	p, logs := productionPortalLog(t, router)
	target := p.Target
	c := probeClient(t, p, probePassword)
	// The admin is enrolled with a secret made for this run; the MFA probe
	// signs in with the password alone, then with the code, then replays it.
	adminSecret := enrolAdmin(t, p)
	c.Accounts["admin"] = probe.Account{Username: "admin@acme.test", Password: probePassword}
	target.Checks = append(target.Checks,
		authProbe(t, p, c),
		probe.MFAProbe{Client: c, Account: "admin", Code: func() string {
			code, err := mfa.Code(adminSecret, time.Now())
			require.NoError(t, err)
			return code
		}},
		probe.InputProbe{Client: c, Account: "agent"},
		probe.CORSProbe{Client: c},
		probe.LoginRateProbe{Client: c, Body: []byte(`{"email":"mallory@acme.test","password":"not-the-password"}`)},
		probe.LogCanary{Client: c, Capture: logs},
		readiness.DeclaredAPI{Routes: portalapp.ContractRoutes, Ignore: []string{"GET /app.js", "GET /app.css"}},
		probe.SessionProbe{Client: c, Account: "agent",
			Logout: probe.SessionRequest{Path: "/api/logout"}, Check: probe.SessionRequest{Path: "/api/me"}},
		resetProbe(t, p, c),
		probe.AccountFoldingProbe{Client: c, Account: "agent@acme.test"},
		probe.CrossSiteReadProbe{Client: c, Account: "agent"},
		probe.FlowProbe{Client: c, Env: map[string]string{"LAUNCHREADY_FLOW_PASSWORD": probePassword}},
	)
	report := readiness.Require(t, target)
	require.NotNil(t, report)
	assert.False(t, report.Blocked())
	assert.Empty(t, report.ByID("PROBE001"), "every probe reached what it tests")
	probes := map[string]int{}
	for _, r := range report.Reach {
		probes[r.Probe] += r.Reached
		for layer, n := range r.Refused {
			if r.Probe == "auth probe" && strings.HasPrefix(layer, "authorization") {
				probes[r.Probe] += n // what the auth probe tests is the route's policy
			}
		}
	}
	for _, name := range []string{"auth probe", "input probe", "cors probe", "ratelimit login probe", "log canary probe", "session probe", "mfa probe",
		"password reset probe", "account folding probe", "cross-site read probe", "flow probe"} {
		assert.Positive(t, probes[name], "%s reached nothing it tests: %v", name, probes)
	}
	assert.Empty(t, report.ByID("AUTH011"), "the inventory is exactly the contract's routes")
	assert.Contains(t, logs.String(), `@example.test`, "the log canaries reached the login handler (the address is logged masked)")
	for _, f := range report.Findings {
		if f.Severity == readiness.Warning {
			t.Logf("warning: %s", f)
		}
	}
}

// TestBootGate: development boots with warnings; production with the demo
// accounts and unverifiable mail refuses to boot.
func TestBootGate(t *testing.T) {
	dev, err := portalapp.Build(portalapp.Options{Env: readiness.Development, OutboxDir: t.TempDir(), AuditFile: filepath.Join(t.TempDir(), "audit.jsonl")})
	require.NoError(t, err)
	require.NoError(t, readiness.Gate(t.Context(), dev.Target, nil))

	prod, err := portalapp.Build(portalapp.Options{Env: readiness.Production, TLS: true, OutboxDir: t.TempDir(), AuditFile: filepath.Join(t.TempDir(), "audit.jsonl"),
		Resolver: offline()})
	require.NoError(t, err)
	err = readiness.Gate(t.Context(), prod.Target, nil)
	var blocked *readiness.BlockedError
	require.ErrorAs(t, err, &blocked)
	ids := blocked.Report.IDs()
	assert.Contains(t, ids, "AUTH010")
	assert.Contains(t, ids, "EMAIL001")
	assert.Contains(t, ids, "EMAIL005")
	assert.Contains(t, ids, "EMAIL006")
}

// TestContractRoutes: the inventory matches the contract, and a route
// missing from the declaration (a shadow route) is reported.
func TestContractRoutes(t *testing.T) {
	p, err := portalapp.Build(portalapp.Options{Env: readiness.Development, OutboxDir: t.TempDir(),
		AuditFile: filepath.Join(t.TempDir(), "audit.jsonl")})
	require.NoError(t, err)
	ignore := []string{"GET /app.js", "GET /app.css"}
	run := func(routes []string) []readiness.Finding {
		target := p.Target
		target.Checks = []readiness.Check{readiness.DeclaredAPI{Routes: routes, Ignore: ignore}}
		report, err := readiness.Run(t.Context(), target)
		require.NoError(t, err)
		return report.ByID("AUTH011")
	}
	assert.Empty(t, run(portalapp.ContractRoutes))
	shadow := run(slices.DeleteFunc(slices.Clone(portalapp.ContractRoutes), func(r string) bool { return r == "GET /api/admin/audit" }))
	require.Len(t, shadow, 1)
	assert.Equal(t, "GET /api/admin/audit", shadow[0].Route)
}
