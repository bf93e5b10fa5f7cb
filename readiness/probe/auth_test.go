package probe_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/authz"
	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/readiness/probe"
)

// Vacuous pass: an identity whose requests the app does not recognise is
// refused 401 everywhere, which looked like "denied where it should be".
// The probe now says the identity was not verified.
func TestAuthProbeUnrecognisedIdentityIsNotExercised(t *testing.T) {
	alice := authz.Principal{ID: "u-alice", Roles: []string{"client"}, Tenant: "client-a"}
	mux, err := authz.NewMux(authz.Config{Authenticate: func(r *http.Request) (authz.Principal, error) {
		if r.Header.Get("Authorization") == "Bearer alice" {
			return alice, nil
		}
		return authz.Principal{}, authz.ErrUnauthenticated
	}})
	require.NoError(t, err)
	mux.HandleFunc("GET /api/admin/audit", authz.Role("admin"), func(http.ResponseWriter, *http.Request) {})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: time.Second}
	run := func(id probe.Identity) *readiness.Report {
		r, err := readiness.Run(t.Context(), readiness.Target{Server: srv, Checks: []readiness.Check{
			&probe.AuthProbe{Identities: []probe.Identity{id}}}})
		require.NoError(t, err)
		return r
	}
	seen := func(r *readiness.Report) string {
		var b strings.Builder
		for _, f := range r.ByID("PROBE001") {
			b.WriteString(f.Seen)
		}
		return b.String()
	}

	stale := run(probe.Identity{Name: "alice", Principal: alice,
		Authenticate: func(r *http.Request) { r.Header.Set("Authorization", "Bearer expired") }})
	assert.Contains(t, seen(stale), "as alice were answered 401")

	none := run(probe.Identity{Name: "alice", Principal: alice})
	assert.Contains(t, seen(none), "no credentials")

	good := run(probe.Identity{Name: "alice", Principal: alice,
		Authenticate: func(r *http.Request) { r.Header.Set("Authorization", "Bearer alice") }})
	assert.Empty(t, good.ByID("PROBE001"), "%s", good)
	assert.Empty(t, good.ByID("AUTH006"))
}
