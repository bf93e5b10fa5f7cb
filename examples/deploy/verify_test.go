package deploy_test

import (
	"crypto/rand"
	"encoding/hex"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/examples/portalapp"
	"github.com/launchready/launchready/monitor"
	"github.com/launchready/launchready/readiness"
)

// TestVerifyAgainstThePortal: `launchready verify -flows
// examples/portal/flows.yaml URL` passes against the development portal as
// it is, and fails naming the step when ticket creation is broken or
// another release answers.
func TestVerifyAgainstThePortal(t *testing.T) {
	bin := buildLaunchready(t)
	b := make([]byte, 24)
	_, err := rand.Read(b)
	require.NoError(t, err)
	token := hex.EncodeToString(b)
	rev := strings.Repeat("5eed", 10)
	faults := &portalapp.Faults{}
	srv := httptest.NewUnstartedServer(nil)
	p, err := portalapp.Build(portalapp.Options{Env: readiness.Development, Addr: srv.Listener.Addr().String(),
		OutboxDir: t.TempDir(), AuditFile: filepath.Join(t.TempDir(), "audit.jsonl"), Faults: faults,
		ReleaseToken: token, Release: monitor.Release{Version: "(devel)", Revision: rev}})
	require.NoError(t, err)
	srv.Config = p.Server
	srv.Start()
	t.Cleanup(func() { srv.Close(); _ = p.Close() })
	here, err := os.Getwd()
	require.NoError(t, err)
	flowsFile := filepath.Join(here, "..", "portal", "flows.yaml")

	verify := func(args ...string) (string, int) {
		cmd := exec.Command(bin, append(append([]string{"verify", "-flows", flowsFile, "-attempts", "1"}, args...), srv.URL)...)
		cmd.Env = append(os.Environ(), "LAUNCHREADY_FLOW_EMAIL=", "LAUNCHREADY_FLOW_PASSWORD=", "LAUNCHREADY_RELEASE_TOKEN="+token)
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		}
		require.NoError(t, err)
		return string(out), 0
	}

	out, code := verify("-expect-revision", rev[:12])
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "PASS release 5eed5eed5eed is live")
	assert.Contains(t, out, `PASS flow "support agent opens a ticket" (7 steps`)

	faults.Tickets.Store(true)
	out, code = verify()
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, `FAIL flow "support agent opens a ticket" at step "ticket creation"`)
	assert.Contains(t, out, "got 500, want 201")
	assert.Contains(t, out, "ok   logout", "the flow still signed out")
	faults.Tickets.Store(false)

	out, code = verify("-expect-revision", "0123456789ab")
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "answers with revision 5eed5eed5eed, not 0123456789ab")
}
