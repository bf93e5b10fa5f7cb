package portalapp_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/readiness/probe"
)

// TestSessionExpiry runs the session probe with a fake clock
// (testing/synctest): the portal's sessions end after 30 idle minutes and
// 12 hours after login however active they are. The portal is built
// outside the bubble (the session store starts a cleanup goroutine).
func TestSessionExpiry(t *testing.T) {
	p := productionPortal(t)
	synctest.Test(t, func(t *testing.T) {
		target := p.Target
		target.Checks = []readiness.Check{probe.SessionProbe{
			Client:  probeClient(t, p, probePassword),
			Account: "alice",
			Logout:  probe.SessionRequest{Path: "/api/logout"},
			Check:   probe.SessionRequest{Path: "/api/me"},
			Advance: time.Sleep,
		}}
		report, err := readiness.Run(t.Context(), target)
		require.NoError(t, err)
		for _, f := range report.Findings {
			assert.NotContains(t, []string{"SESS005", "SESS006", "SESS007", "SESS008"}, f.ID, "%s", f)
		}
	})
}
