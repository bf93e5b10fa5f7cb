package probe

import (
	"net/http"

	"github.com/launchready/launchready/authz"
	"github.com/launchready/launchready/cors"
	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/session"
)

// What the probes read from the walked handler tree. Each helper looks at
// the global chain and at every route's chain, so a middleware wired on one
// route is found as well as one wired in front of the route inventory.

// policyInventory is the route inventory whose routes carry policies
// (authz.Mux, or a router adapter such as chiauthz.Router), with its routes
// and their policies listed once.
type policyInventory struct {
	readiness.Policies
	routes []authz.Route
}

// Routes returns the routes with their policies, in registration order.
func (p *policyInventory) Routes() []authz.Route { return p.routes }

// authMux returns the policy inventory at the end of the global chain.
func authMux(in *readiness.Inspection) (*policyInventory, bool) {
	p, ok := in.Inventory.(readiness.Policies)
	if !ok || p == nil {
		return nil, false
	}
	pi := &policyInventory{Policies: p}
	for _, r := range in.Routes {
		pol, found := p.Policy(r.Pattern)
		if !found {
			continue
		}
		pi.routes = append(pi.routes, authz.Route{Pattern: r.Pattern, Method: r.Method, Host: r.Host, Path: r.Path,
			Policy: pol, Handler: r.Handler})
	}
	return pi, true
}

// findEverywhere returns every distinct T in the global chain and in the
// chain of every route, global ones first. Handlers of a type that cannot
// be compared (a struct holding a func) are never merged.
func findEverywhere[T any](in *readiness.Inspection) []T {
	seen := map[any]bool{}
	var out []T
	add := func(chain []http.Handler) {
		for _, h := range readiness.FindAll[T](chain) {
			if !firstSight(seen, any(h)) {
				continue
			}
			out = append(out, h)
		}
	}
	add(in.Chain)
	for _, rt := range in.Routes {
		add(rt.Chain)
	}
	return out
}

// firstSight records k in seen and reports whether it is new. A key that
// cannot be hashed (a struct holding a func, even behind an interface
// field) counts as new.
func firstSight(seen map[any]bool, k any) (first bool) {
	defer func() {
		if recover() != nil {
			first = true
		}
	}()
	if seen[k] {
		return false
	}
	seen[k] = true
	return true
}

// sessionHandlers returns the walked session layers.
func sessionHandlers(in *readiness.Inspection) []*session.Handler {
	return findEverywhere[*session.Handler](in)
}

// corsPolicies returns the walked CORS policies.
func corsPolicies(in *readiness.Inspection) []*cors.Policy {
	var out []*cors.Policy
	seen := map[*cors.Policy]bool{}
	for _, h := range findEverywhere[*cors.Handler](in) {
		if p := h.Policy(); p != nil && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// sizeCap is implemented by middleware that caps request bodies
// (validate's handlers).
type sizeCap interface{ MaxBytes() int64 }

// takesBody reports whether a route's method carries a body to validate:
// POST, PUT, PATCH, or any method when the pattern names none.
func takesBody(rt readiness.Route) bool {
	switch rt.Method {
	case "", http.MethodPost, http.MethodPut, http.MethodPatch:
		return true
	}
	return false
}

// routeName names a route in findings: its pattern, else its path.
func routeName(rt readiness.Route) string {
	if rt.Pattern != "" {
		return rt.Pattern
	}
	return rt.Path
}
