package edge_test

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/cmd/launchready/edge"
	"github.com/launchready/launchready/examples/portalapp"
	"github.com/launchready/launchready/readiness"
)

// TestExamplePortal runs the outside-in check against the example portal
// as `go run ./examples/portal -tls` serves it (built in-process, with
// the certificate it generates at start passed as -ca would), signed in
// as the demo agent. Nothing blocks; what is reported as a warning is
// either development-only (a production blocker, labelled Downgraded) or
// a real warning that applies to any deployment.
func TestExamplePortal(t *testing.T) {
	cfg, cert, err := portalapp.SelfSignedTLS(time.Now())
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(nil)
	p, err := portalapp.Build(portalapp.Options{Env: readiness.Development, TLS: true, Addr: srv.Listener.Addr().String(),
		OutboxDir: t.TempDir(), AuditFile: filepath.Join(t.TempDir(), "audit.jsonl")})
	require.NoError(t, err)
	p.Server.TLSConfig = cfg
	srv.Config = p.Server
	srv.TLS = cfg
	srv.StartTLS()
	t.Cleanup(srv.Close)
	p.Health.SetBoot(nil) // as examples/portal does once the boot gate passed

	noHTTP := httptest.NewServer(http.NotFoundHandler()) // the portal has no port-80 listener: a closed port stands for it
	noHTTP.Close()
	roots := x509Pool(cert)
	r := runCheckEnv(t, readiness.Development, edge.Config{URL: srv.URL, HTTPURL: noHTTP.URL + "/", RootCAs: roots,
		Credentials: &edge.Credentials{Email: "agent@acme.test", Password: portalapp.DemoPassword},
		Sequential:  10, Concurrent: 10, Parallelism: 2})
	t.Logf("launchready check %s -ca portal.pem -env development\n%s", srv.URL, r)
	assert.False(t, r.Blocked(), "%s", r)
	for _, f := range r.Findings {
		if f.Severity != readiness.Warning || f.Downgraded {
			continue
		}
		switch f.ID {
		case "EDGE002": // the certificate -tls makes at start is valid for a day
			assert.Contains(t, f.Seen, "expires in 2")
		case "EDGE004": // the portal has no plain-HTTP listener; a load balancer redirects
			assert.Contains(t, f.Seen, "nothing answers plain HTTP")
		case "EDGE009": // no security.txt in the example
		default:
			t.Errorf("unexpected warning: %s", f)
		}
	}
	for _, id := range []string{"EDGE001", "DEPLOY005", "EDGE005", "EDGE006", "EDGE007", "AUTH008", "CORS008", "MON001", "MON004", "EDGE012"} {
		assert.Empty(t, r.ByID(id), "%s: %v", id, r.ByID(id))
	}
	for _, f := range r.Findings {
		if f.ID == "SESS001" || f.ID == "SESS002" || f.ID == "SESS003" {
			t.Errorf("the portal's session cookie under -tls is Secure, HttpOnly, SameSite: %s", f)
		}
	}
	lat := r.ByID("EDGE011")
	require.Len(t, lat, 2, "health and the signed-in /api/me are timed")
}
