package readiness

import (
	"net/http"
	"strings"

	"github.com/launchready/launchready/authz"
)

// Unwrapper is implemented by every kit middleware handler: it returns the
// handler it wraps, so a readiness run can walk from Server.Handler down to
// the route inventory and down each route's chain, and learn which controls
// are really in place. Third-party middleware joins the walk by adding the
// same method.
type Unwrapper interface {
	Unwrap() http.Handler
}

// Inventory is implemented by a router that can list its routes (authz.Mux).
// EachRoute calls fn once per registered route with the full ServeMux
// pattern ("GET /api/clients/{id}") and the handler as registered, before
// any authorization wrapper the router adds itself.
type Inventory interface {
	http.Handler
	EachRoute(fn func(pattern string, h http.Handler))
}

// Policies is an Inventory whose every route carries an authz policy:
// authz.Mux, and adapters for other routers such as chiauthz.Router
// (go-chi/chi). The auth checks (AUTH002–AUTH004, AUTH008, AUTH009) and
// AuthProbe work on any Policies; Policy is called with the patterns
// EachRoute reports.
type Policies interface {
	Inventory
	Policy(pattern string) (authz.Policy, bool)
}

// maxWalkDepth bounds walking so a cycle of Unwrap methods cannot hang a run.
const maxWalkDepth = 256

// Walk returns h followed by every handler reached by calling Unwrap, in
// order, stopping at the first handler that does not unwrap (or at an
// Inventory, which is included). It never calls ServeHTTP. A nil h gives nil.
func Walk(h http.Handler) []http.Handler {
	var chain []http.Handler
	for h != nil && len(chain) < maxWalkDepth {
		chain = append(chain, h)
		if _, ok := h.(Inventory); ok {
			break
		}
		u, ok := h.(Unwrapper)
		if !ok {
			break
		}
		h = u.Unwrap()
	}
	return chain
}

// Find returns the first handler in chain that is a T (a concrete type or an
// interface), and whether there was one.
func Find[T any](chain []http.Handler) (T, bool) {
	for _, h := range chain {
		if t, ok := h.(T); ok {
			return t, true
		}
	}
	var zero T
	return zero, false
}

// FindAll returns every handler in chain that is a T.
func FindAll[T any](chain []http.Handler) []T {
	var out []T
	for _, h := range chain {
		if t, ok := h.(T); ok {
			out = append(out, t)
		}
	}
	return out
}

// Route is one route of the inventory as a readiness run sees it.
type Route struct {
	// Pattern is the full ServeMux pattern: "GET /api/clients/{id}".
	Pattern string
	// Method is the pattern's method, or "" when it matches every method.
	Method string
	// Host is the pattern's host part, usually "".
	Host string
	// Path is the pattern's path part: "/api/clients/{id}".
	Path string
	// Handler is the handler as registered.
	Handler http.Handler
	// Chain is Walk(Handler): the route's own middleware down to the handler.
	Chain []http.Handler
}

// Mutating reports whether the route accepts a state-changing method (POST,
// PUT, PATCH, DELETE, or any method when the pattern has none).
func (r Route) Mutating() bool {
	switch r.Method {
	case "", http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// Wildcards returns the names of the path wildcards, "{id}" → "id", without
// the "..." of a rest wildcard.
func (r Route) Wildcards() []string {
	var out []string
	for _, seg := range strings.Split(r.Path, "/") {
		if len(seg) > 2 && seg[0] == '{' && seg[len(seg)-1] == '}' {
			name := strings.TrimSuffix(seg[1:len(seg)-1], "...")
			// ServeMux refuses other names; skip them rather than guess.
			if name != "$" && name != "" && !strings.ContainsAny(name, "{}/") {
				out = append(out, name)
			}
		}
	}
	return out
}

// ParsePattern splits a ServeMux pattern into method, host and path:
// "GET example.com/x" → ("GET", "example.com", "/x").
func ParsePattern(pattern string) (method, host, path string) {
	rest := strings.TrimSpace(pattern)
	if i := strings.IndexAny(rest, " \t"); i >= 0 {
		method, rest = rest[:i], strings.TrimLeft(rest[i:], " \t")
	}
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		host, path = rest[:i], rest[i:]
	} else {
		host = rest
	}
	return method, host, path
}

// Inspection is what every check receives: the target and what walking its
// handler tree found. Checks must treat it as read-only.
type Inspection struct {
	Target Target
	// Chain is Walk(Target.Server.Handler): the global middleware, ending at
	// the Inventory when one was reached.
	Chain []http.Handler
	// Inventory is the route inventory at the end of Chain, or nil when the
	// server's handler is not walkable to one (AUTH001).
	Inventory Inventory
	// Routes lists the inventory's routes in registration order.
	Routes []Route
	// Plain is set when the server routes with a router that carries no
	// policies (a plain http.ServeMux, a plain chi router): Inventory then
	// lists its routes for the assessment (AUTH015) and is not a Policies.
	Plain bool
	// Unlisted is the handler the walk ended at when it is neither an
	// Inventory nor a router an Enumerator knows (AUTH016 names it).
	Unlisted http.Handler

	reach *reachLog
}

// Env is the target's environment.
func (in *Inspection) Env() Env { return in.Target.Env }

// Replicas is the declared number of instances, at least 1.
func (in *Inspection) Replicas() int { return in.Target.replicas() }

func inspect(t Target) *Inspection {
	in := &Inspection{Target: t, reach: &reachLog{}}
	if t.Server != nil {
		in.Chain = Walk(t.Server.Handler)
	}
	inv, ok := Find[Inventory](in.Chain)
	if !ok && t.Server != nil {
		// No kit inventory: list the plain router the walk ended at, for
		// the assessment. A nil Server.Handler serves DefaultServeMux.
		var last http.Handler = http.DefaultServeMux
		if len(in.Chain) > 0 {
			last = in.Chain[len(in.Chain)-1]
		}
		if inv, ok = enumerate(last); ok {
			in.Plain = true
		} else {
			in.Unlisted = last
		}
	}
	if ok {
		in.Inventory = inv
		inv.EachRoute(func(pattern string, h http.Handler) {
			m, host, p := ParsePattern(pattern)
			in.Routes = append(in.Routes, Route{
				Pattern: pattern, Method: m, Host: host, Path: p,
				Handler: h, Chain: Walk(h),
			})
		})
	}
	return in
}
