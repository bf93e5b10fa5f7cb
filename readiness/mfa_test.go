package readiness_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/authz"
	"github.com/launchready/launchready/readiness"
)

func mfaFindings(t *testing.T, env readiness.Env, m *authz.Mux) map[string]readiness.Severity {
	t.Helper()
	r, err := readiness.Run(t.Context(), readiness.Target{Server: serverFor(m), Env: env})
	require.NoError(t, err)
	out := map[string]readiness.Severity{}
	for _, f := range r.ByID("AUTH013") {
		out[f.Route] = f.Severity
		assert.NotEmpty(t, f.Fix)
	}
	return out
}

func TestAUTH013AdminAndStaffRoutesWithoutMFA(t *testing.T) {
	m := newMux(t)
	m.Handle("GET /api/admin/audit", authz.Role("admin"), noop)                                                       // blocker
	m.Handle("POST /api/users/{id}/roles", authz.Permission("admin:users").Object(anyObject, authz.SameTenant), noop) // blocker: admin permission
	m.Handle("GET /admin/readiness", authz.Role("admin").RequireMFA(), noop)                                          // fine
	m.Handle("GET /api/clients", authz.Role("admin", "support"), noop)                                                // warning: staff
	m.Handle("GET /api/clients/{id}/export", authz.Authenticated().Object(anyObject, authz.SameTenant), noop)         // warning: export
	m.Handle("GET /api/export/all", authz.Role("support").RequireMFA().Fresh(15*time.Minute), noop)                   // fine
	m.Handle("GET /api/me", authz.Authenticated(), noop)                                                              // not staff
	m.Handle("GET /api/tickets/{id}", authz.Role("client").Object(anyObject, authz.SameTenant), noop)                 // not staff
	m.Handle("GET /api/admin/public", authz.Public("status page"), noop)                                              // AUTH002/AUTH004's

	prod := mfaFindings(t, readiness.Production, m)
	assert.Equal(t, map[string]readiness.Severity{
		"GET /api/admin/audit":         readiness.Blocker,
		"POST /api/users/{id}/roles":   readiness.Blocker,
		"GET /api/clients":             readiness.Warning,
		"GET /api/clients/{id}/export": readiness.Warning,
	}, prod)

	dev := mfaFindings(t, readiness.Development, m)
	assert.Equal(t, readiness.Warning, dev["GET /api/admin/audit"], "development warns: the demo admin may not be enrolled")
	assert.Len(t, dev, 4)
}

func TestAUTH013Accepted(t *testing.T) {
	m := newMux(t)
	m.Handle("GET /api/admin/audit", authz.Role("admin"), noop)
	r, err := readiness.Run(t.Context(), readiness.Target{Server: serverFor(m), Env: readiness.Production,
		Accepted: []readiness.Acceptance{readiness.AcceptRoute("AUTH013", "GET /api/admin/audit", "admins sign in through the corporate SSO, which enforces MFA")}})
	require.NoError(t, err)
	fs := r.ByID("AUTH013")
	require.Len(t, fs, 1)
	assert.True(t, fs[0].Accepted)
	assert.False(t, fs[0].Blocks())
}
