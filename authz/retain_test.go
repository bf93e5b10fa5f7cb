package authz_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/authz"
)

// retained is what a handler kept of a request after it returned: the
// request and its context, as background work does with
// context.WithoutCancel(r.Context()).
type retained struct {
	user string
	r    *http.Request
	ctx  context.Context
}

// The Mux must not reuse the request it hands on or its context for a
// later request (no pooling): a handler that keeps them after returning
// still sees its own principal, decision and path values, whatever the
// requests served since.
func TestRetainedRequestKeepsItsOwnPrincipal(t *testing.T) {
	var mu sync.Mutex
	var kept []retained
	m, err := authz.NewMux(authz.Config{Authenticate: authenticate})
	require.NoError(t, err)
	m.HandleFunc("GET /api/clients/{id}", authz.Authenticated().Object(loadClient, authz.SameTenant.OrRole("admin", "support")),
		func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			kept = append(kept, retained{user: r.Header.Get("X-Test-User"), r: r, ctx: context.WithoutCancel(r.Context())})
		})
	want := map[string]string{"alice": "u-alice", "bob": "u-bob", "agent": "u-agent", "admin": "u-admin"}
	path := map[string]string{"alice": "client-a", "bob": "client-b", "agent": "client-a", "admin": "client-b"}
	var wg sync.WaitGroup
	for _, user := range []string{"alice", "bob", "agent", "admin"} {
		wg.Go(func() {
			for range 50 {
				if w := serve(m, "GET", "/api/clients/"+path[user], user); w.Code != 200 {
					t.Errorf("%s: status %d", user, w.Code)
				}
			}
		})
	}
	wg.Wait()
	require.Len(t, kept, 200)
	for _, k := range kept {
		p, ok := authz.PrincipalFrom(k.ctx)
		assert.True(t, ok)
		assert.Equal(t, want[k.user], p.ID, "a kept context names another request's principal")
		pattern, decided := authz.Decided(k.r.Context())
		assert.True(t, decided)
		assert.Equal(t, "GET /api/clients/{id}", pattern)
		assert.Equal(t, path[k.user], k.r.PathValue("id"))
		assert.Equal(t, k.user, k.r.Header.Get("X-Test-User"))
	}
}

// A denied request's context never says decided, also when it is kept: the
// Deny function sees the principal but no decision, so Guard would refuse it.
func TestDeniedRequestIsNotDecided(t *testing.T) {
	var denied []*http.Request
	m, err := authz.NewMux(authz.Config{Authenticate: authenticate, Deny: func(w http.ResponseWriter, r *http.Request, d authz.Denial) {
		denied = append(denied, r)
		authz.DefaultDeny(w, r, d)
	}})
	require.NoError(t, err)
	m.HandleFunc("GET /api/admin/audit", authz.Role("admin"), ok)
	assert.Equal(t, 403, serve(m, "GET", "/api/admin/audit", "agent").Code)
	assert.Equal(t, 200, serve(m, "GET", "/api/admin/audit", "admin").Code)
	require.Len(t, denied, 1)
	_, decided := authz.Decided(denied[0].Context())
	assert.False(t, decided, "a denial must not read as a decision")
	p, ok := authz.PrincipalFrom(denied[0].Context())
	assert.True(t, ok)
	assert.Equal(t, "u-agent", p.ID)
}

// The Mux hands the handler a request of its own: the caller's request is
// not changed (its context carries no decision).
func TestCallersRequestIsNotChanged(t *testing.T) {
	m := newTestMux(t)
	r := httptest.NewRequest("GET", "/api/me", nil)
	r.Header.Set("X-Test-User", "alice")
	ctx := r.Context()
	m.ServeHTTP(httptest.NewRecorder(), r)
	assert.Equal(t, ctx, r.Context())
	_, decided := authz.Decided(r.Context())
	assert.False(t, decided)
	_, ok := authz.PrincipalFrom(r.Context())
	assert.False(t, ok)
}
