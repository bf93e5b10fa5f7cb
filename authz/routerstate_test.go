package authz_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/authz"
)

type routeKey struct{}

// preparingRoute is oneRoute for a router that keeps per-request state in
// the context: it prepares the request with WithRouterValue before matching.
type preparingRoute struct {
	e, enforceWith *authz.Enforcer
	policy         authz.Policy
	next           http.Handler
	rewrap         bool // hand Enforce another request than the prepared one
}

func (o *preparingRoute) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !o.e.Firewall(w, r) {
		return
	}
	r = o.e.WithRouterValue(r, routeKey{}, "route state")
	if o.rewrap {
		r = r.WithContext(r.Context())
	}
	id, _ := strings.CutPrefix(r.URL.Path, "/tickets/")
	r.SetPathValue("id", id)
	o.enforceWith.Enforce(w, r, "GET /tickets/{id}", &o.policy, o.next)
}

func TestWithRouterValue(t *testing.T) {
	e, err := authz.NewEnforcer(authz.Config{Authenticate: authenticate})
	require.NoError(t, err)
	other, err := authz.NewEnforcer(authz.Config{Authenticate: authenticate})
	require.NoError(t, err)
	handler := authz.Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pattern, _ := authz.Decided(r.Context())
		p, _ := authz.PrincipalFrom(r.Context())
		v, _ := r.Context().Value(routeKey{}).(string)
		_, _ = w.Write([]byte(pattern + " " + p.ID + " " + v))
	}))
	pol := authz.Role("client").Object(loadTicket, authz.Owner)
	for _, tc := range []struct {
		name string
		o    *preparingRoute
	}{
		{"recorded in the prepared context", &preparingRoute{e: e, enforceWith: e}},
		{"another Enforcer makes its own", &preparingRoute{e: e, enforceWith: other}},
		{"another request makes its own", &preparingRoute{e: e, enforceWith: e, rewrap: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.policy, tc.o.next = pol, handler
			w := serve(tc.o, "GET", "/tickets/t1", "alice")
			assert.Equal(t, 200, w.Code)
			assert.Equal(t, "GET /tickets/{id} u-alice route state", w.Body.String())
			assert.Equal(t, 404, serve(tc.o, "GET", "/tickets/t1", "bob").Code)
			assert.Equal(t, 401, serve(tc.o, "GET", "/tickets/t1", "").Code)
		})
	}
}

// A prepared request does not read as decided before Enforce ran: a router
// that skips Enforce by mistake still meets Guard.
func TestWithRouterValueIsNoDecision(t *testing.T) {
	e, err := authz.NewEnforcer(authz.Config{Authenticate: authenticate})
	require.NoError(t, err)
	r := httptest.NewRequest("GET", "/tickets/t1", nil)
	r.Header.Set("X-Test-User", "admin")
	prepared := e.WithRouterValue(r, routeKey{}, 1)
	_, decided := authz.Decided(prepared.Context())
	assert.False(t, decided)
	_, ok := authz.PrincipalFrom(prepared.Context())
	assert.False(t, ok)
	w := httptest.NewRecorder()
	authz.Guard(http.HandlerFunc(ok200)).ServeHTTP(w, prepared)
	assert.Equal(t, 500, w.Code)
	assert.Equal(t, context.Background(), r.Context(), "the caller's request is not changed")
}

// A prepared context records one decision: a second Enforce on the same
// request (a handler calling another guarded router with it) makes its own
// state, and the first handler's context keeps the first decision.
func TestWithRouterValueRecordsOnce(t *testing.T) {
	e, err := authz.NewEnforcer(authz.Config{Authenticate: authenticate})
	require.NoError(t, err)
	inner := authz.Public("inner")
	var outerCtx, innerCtx context.Context
	outer := authz.Role("admin")
	r := httptest.NewRequest("GET", "/tickets/t1", nil)
	r.Header.Set("X-Test-User", "admin")
	prepared := e.WithRouterValue(r, routeKey{}, 1)
	e.Enforce(httptest.NewRecorder(), prepared, "GET /outer", &outer, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		outerCtx = r.Context()
		e.Enforce(w, r, "GET /inner", &inner, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			innerCtx = r.Context()
		}))
	}))
	require.NotNil(t, outerCtx)
	require.NotNil(t, innerCtx)
	p1, _ := authz.Decided(outerCtx)
	p2, _ := authz.Decided(innerCtx)
	assert.Equal(t, "GET /outer", p1)
	assert.Equal(t, "GET /inner", p2)
}

func TestWithRouterValueRefusesBadKeys(t *testing.T) {
	e, err := authz.NewEnforcer(authz.Config{Authenticate: authenticate})
	require.NoError(t, err)
	r := httptest.NewRequest("GET", "/", nil)
	assert.Panics(t, func() { e.WithRouterValue(r, nil, 1) })
	assert.Panics(t, func() { e.WithRouterValue(r, []string{"x"}, 1) })
}

func ok200(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) }
