package portalapp_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/examples/portalapp"
	"github.com/launchready/launchready/readiness"
)

// insecureReport runs every check and probe against the insecure twin.
func insecureReport(t *testing.T) *readiness.Report {
	t.Helper()
	t.Setenv("PORTAL_SESSION_KEY", "") // unset: the twin falls back to its placeholder
	logs := &readiness.LogCapture{}
	p, err := portalapp.BuildInsecure(portalapp.Options{Env: readiness.Production, OutboxDir: t.TempDir(), Log: logs})
	require.NoError(t, err)
	target := p.Target
	target.Checks = append(target.Checks, insecureProbes(logs)...)
	target.Checks = append(target.Checks, authProbe(t, p, portalapp.DemoPassword))
	report, err := readiness.Run(t.Context(), target)
	require.NoError(t, err)
	return report
}

func insecureProbes(logs *readiness.LogCapture) []readiness.Check {
	return []readiness.Check{
		readiness.CORSProbe{},
		readiness.LoginRateProbe{Body: []byte(`{"email":"mallory@acme.test","password":"not-the-password"}`)},
		readiness.LogCanary{Capture: logs},
		readiness.SessionProbe{
			Login:  readiness.SessionRequest{Path: "/api/login", Body: `{"email":"agent@acme.test","password":"` + portalapp.DemoPassword + `"}`, Header: map[string][]string{"Content-Type": {"application/json"}}},
			Logout: readiness.SessionRequest{Path: "/api/logout"},
			Check:  readiness.SessionRequest{Path: "/api/me"},
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
	} {
		assert.True(t, slices.Contains(blockers, id), "%s: want blocker %s, got %v", flaw, id, blockers)
	}
	t.Logf("%s", report)
}
