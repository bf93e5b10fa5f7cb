package authz

import (
	"net/http"
	"reflect"
)

// WithRouterValue prepares r for a router that keeps per-request state in
// the request context (go-chi/chi's route context) and enforces through e:
// it returns a copy of r whose context carries val under key, as
// context.WithValue would. When the router then calls e.Enforce with that
// same request (as routers do: they hand the request they were given to
// the matched route), Enforce records its decision in the same context
// instead of copying the request again: the router's value, the
// authorization state and the copy of the request are one allocation.
//
// The authorization state is never pooled or reused: a handler that keeps
// the request, or its context, after returning keeps its own principal and
// decision. val is the router's; whether it is recycled is the router's
// choice (chi recycles its route context). key must be comparable, as for
// context.WithValue; WithRouterValue panics otherwise.
func (e *Enforcer) WithRouterValue(r *http.Request, key, val any) *http.Request {
	if key == nil || !reflect.TypeOf(key).Comparable() {
		panic("authz: WithRouterValue: key is nil or not comparable")
	}
	c := &routerCtx{key: key, val: val, e: e, open: true}
	c.Context = r.Context()
	// Inlined WithContext: its copy of r stays on the stack.
	c.req = *r.WithContext(c)
	return &c.req
}

// routerCtx is a stateCtx that also carries a router's value under key.
type routerCtx struct {
	stateCtx
	key, val any
	// The Enforcer that may record its decision in stateCtx, once (open),
	// instead of allocating another.
	e    *Enforcer
	open bool
}

func (c *routerCtx) Value(key any) any {
	if key == c.key {
		return c.val
	}
	return c.stateCtx.Value(key)
}

// prepared returns the stateCtx WithRouterValue made for r with e, and
// closes it; nil unless r is the request WithRouterValue returned for e and
// no decision was recorded in it yet.
func (e *Enforcer) prepared(r *http.Request) *stateCtx {
	c, ok := r.Context().(*routerCtx)
	if !ok || c.e != e || !c.open || &c.req != r {
		return nil
	}
	c.open = false
	return &c.stateCtx
}
