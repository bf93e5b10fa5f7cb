package portalapp_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/examples/portalapp"
	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/readiness/probe"
)

// insecureReport runs every check and probe against the insecure twin.
func insecureReport(t *testing.T) *readiness.Report {
	t.Helper()
	t.Setenv("PORTAL_SESSION_KEY", "") // unset: the twin falls back to its placeholder
	logs := &probe.LogCapture{}
	p, err := portalapp.BuildInsecure(portalapp.Options{Env: readiness.Production, OutboxDir: t.TempDir(), Log: logs})
	require.NoError(t, err)
	target := p.Target
	c := probeClient(t, p, portalapp.DemoPassword)
	target.Checks = append(target.Checks, insecureProbes(c, logs)...)
	target.Checks = append(target.Checks, authProbe(t, p, c))
	target.Checks = append(target.Checks, resetProbe(t, p, c), probe.CrossSiteReadProbe{Client: c, Account: "agent"})
	report, err := readiness.Run(t.Context(), target)
	require.NoError(t, err)
	return report
}

func insecureProbes(c *probe.Client, logs *probe.LogCapture) []readiness.Check {
	return []readiness.Check{
		probe.CORSProbe{Client: c},
		probe.LoginRateProbe{Client: c, Body: []byte(`{"email":"mallory@acme.test","password":"not-the-password"}`)},
		probe.LogCanary{Client: c, Capture: logs},
		probe.SessionProbe{Client: c, Account: "agent",
			Logout: probe.SessionRequest{Path: "/api/logout"},
			Check:  probe.SessionRequest{Path: "/api/me"},
		},
	}
}

// TestInsecureTwinIsCaught asserts that every planted flaw is reported as
// a blocker under its ID.
func TestInsecureTwinIsCaught(t *testing.T) {
	report := insecureReport(t)
	require.True(t, report.Blocked())
	var blockers []string
	for _, f := range report.Blockers() {
		blockers = append(blockers, f.ID)
	}
	for flaw, id := range map[string]string{
		"demo accounts in production":    "AUTH010",
		"session cookie without Secure":  "SESS001",
		"session without idle timeout":   "SESS005",
		"server without timeouts":        "DEPLOY003",
		"CRM without budget or fallback": "DEPLOY010",
		"admin route without MFA":        "AUTH013",
		"cross-site link runs export":    "CORS009",
		"reset cannot end sessions":      "SESS011",
		"older reset links survive":      "SESS012",
		"cross-site export served":       "CORS010",
	} {
		assert.True(t, slices.Contains(blockers, id), "%s: want blocker %s, got %v", flaw, id, blockers)
	}
	// The reset probe proved it too: old sessions survived a real reset.
	proved := false
	for _, f := range report.ByID("SESS011") {
		proved = proved || f.Route == "POST /api/password-reset/confirm"
	}
	assert.True(t, proved, "the reset probe saw the old sessions survive: %v", report.ByID("SESS011"))
	t.Logf("%s", report)
}
