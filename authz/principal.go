package authz

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"
)

// A Principal is who a request acts for: a user or a service.
type Principal struct {
	// ID identifies the principal. An empty ID means anonymous.
	ID string
	// Roles are coarse grants ("admin", "support", "client").
	Roles []string
	// Permissions are fine grants ("clients:read", "invoices:export").
	Permissions []string
	// Tenant is the organisation the principal belongs to ("client-a").
	// Staff of the portal operator usually have none.
	Tenant string
	// Factors are the authentication methods the principal verified in
	// this session, with when each was last verified: {"pwd", t0},
	// {"otp", t1}. The app's Authenticate fills them from its session;
	// RequireMFA and Fresh policies read them. Empty means unknown: such
	// a principal passes neither.
	Factors []Factor
}

// A Factor is one verified authentication method (OIDC amr values:
// "pwd", "otp", "hwk", "swk", …) and when it was last verified.
type Factor struct {
	Method string
	At     time.Time
}

// MethodPassword is the knowledge factor ("pwd"). Any other method counts
// as a second factor for RequireMFA.
const MethodPassword = "pwd"

// MultiFactor reports whether the principal verified a factor besides the
// password.
func (p Principal) MultiFactor() bool {
	_, ok := p.secondFactor()
	return ok
}

// secondFactor returns when the latest non-password factor was verified.
func (p Principal) secondFactor() (time.Time, bool) {
	var at time.Time
	ok := false
	for _, f := range p.Factors {
		if f.Method != MethodPassword && f.Method != "" && (!ok || f.At.After(at)) {
			at, ok = f.At, true
		}
	}
	return at, ok
}

// lastVerified returns when any factor was last verified.
func (p Principal) lastVerified() (time.Time, bool) {
	var at time.Time
	ok := false
	for _, f := range p.Factors {
		if f.Method != "" && (!ok || f.At.After(at)) {
			at, ok = f.At, true
		}
	}
	return at, ok
}

// Authenticated reports whether the principal is someone (ID not empty).
func (p Principal) Authenticated() bool { return p.ID != "" }

// HasRole reports whether the principal has role.
func (p Principal) HasRole(role string) bool { return slices.Contains(p.Roles, role) }

// Can reports whether the principal has permission perm.
func (p Principal) Can(perm string) bool { return slices.Contains(p.Permissions, perm) }

// ErrUnauthenticated is what an Authenticate function returns when the
// request carries no valid credentials. Any other error is treated the same
// way (the request is anonymous) and logged.
var ErrUnauthenticated = errors.New("authz: request is not authenticated")

type ctxKey struct{}

// stateCtx carries the state in the request context, and holds the request
// the Mux hands on: one allocation where context.WithValue, the state and
// r.WithContext's copy of the request would take three. Everything but the
// state's key goes to the parent, cancellation included.
//
// Nothing here is pooled or reused: handlers may keep the request and its
// context after they return (context.WithoutCancel(r.Context()) for
// background work), so each request gets its own stateCtx, which the
// garbage collector frees once nobody holds the request or its context.
type stateCtx struct {
	context.Context
	st  state
	req http.Request
}

// newStateCtx returns a stateCtx for r carrying st; its req is r with the
// stateCtx as context. It is one allocation.
func newStateCtx(r *http.Request, st state) *stateCtx {
	sc := &stateCtx{Context: r.Context(), st: st}
	// WithContext is inlined and its copy of r does not escape, so that copy
	// stays on the stack; the request handed on is the copy inside sc.
	sc.req = *r.WithContext(sc)
	return sc
}

func (c *stateCtx) Value(key any) any {
	if key == (ctxKey{}) {
		return &c.st
	}
	return c.Context.Value(key)
}

// state is what the Mux records in the request context: the decision and the
// principal it was made for.
type state struct {
	pattern   string
	principal Principal
	decided   bool
}

// PrincipalFrom returns the authenticated principal of a request that went
// through a Mux. It returns false for anonymous requests (public routes) and
// for requests that did not go through a Mux.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	s, ok := ctx.Value(ctxKey{}).(*state)
	if !ok || !s.principal.Authenticated() {
		return Principal{}, false
	}
	return s.principal, true
}

// Decided reports whether the Mux made an authorization decision (allow) for
// the request carrying ctx, and the route pattern it decided on.
func Decided(ctx context.Context) (pattern string, ok bool) {
	s, ok := ctx.Value(ctxKey{}).(*state)
	if !ok || !s.decided {
		return "", false
	}
	return s.pattern, true
}
