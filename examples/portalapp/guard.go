package portalapp

import (
	"net/http"
	"strings"
)

// guard is the portal's route inventory until the kit's authz.Mux is wired
// in: a ServeMux whose every route carries a rule and, for routes with an
// {id}, an owner lookup. It denies by default (a route without a rule
// cannot be registered), authenticates once per request, and decides on
// the matched pattern, never on the raw path.
type guard struct {
	mux          *http.ServeMux
	routes       []guardRoute
	authenticate func(*http.Request) (Me, bool)
}

type guardRoute struct {
	pattern string
	h       http.Handler
}

func newGuard(authenticate func(*http.Request) (Me, bool)) *guard {
	return &guard{mux: http.NewServeMux(), authenticate: authenticate}
}

func (g *guard) handle(pattern string, rl rule, own owner, h http.Handler) {
	g.routes = append(g.routes, guardRoute{pattern: pattern, h: h})
	g.mux.Handle(pattern, &guarded{g: g, rule: rl, owner: own, next: h})
}

// EachRoute lists the routes as registered (readiness.Inventory).
func (g *guard) EachRoute(fn func(pattern string, h http.Handler)) {
	for _, r := range g.routes {
		fn(r.pattern, r.h)
	}
}

func (g *guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Path firewall: encoded separators and dots, NUL, ';' and backslashes
	// change what a path means to different parsers.
	p := strings.ToLower(r.URL.EscapedPath())
	if strings.Contains(p, "%2f") || strings.Contains(p, "%2e") || strings.Contains(p, "%5c") ||
		strings.Contains(p, "%00") || strings.ContainsAny(p, ";\\") ||
		r.Method == http.MethodConnect || r.Method == http.MethodTrace {
		writeProblem(w, http.StatusBadRequest, "Bad Request", "the request path or method is not accepted")
		return
	}
	g.mux.ServeHTTP(w, r)
}

type guarded struct {
	g     *guard
	rule  rule
	owner owner
	next  http.Handler
}

func (h *guarded) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	annotate(w, func(a interface{ SetRoute(string) }) { a.SetRoute(r.Pattern) })
	me, ok := h.g.authenticate(r)
	if ok {
		annotate(w, func(a interface{ SetPrincipal(id, tenant string) }) { a.SetPrincipal(me.ID, me.Tenant) })
		r = r.WithContext(withMe(r.Context(), me))
	}
	if h.rule == public {
		h.next.ServeHTTP(w, r)
		return
	}
	if !ok {
		writeProblem(w, http.StatusUnauthorized, "Unauthorized", "sign in first")
		return
	}
	if !h.rule.allows(me) {
		writeProblem(w, http.StatusForbidden, "Forbidden", "your role does not allow this")
		return
	}
	if h.owner != nil {
		tenant, err := h.owner(r)
		if err != nil || !mayAccessTenant(me, tenant) {
			notFound(w) // another tenant's object looks like a missing one
			return
		}
	}
	h.next.ServeHTTP(w, r)
}

// annotate calls fn on every response writer in the chain that implements
// T, so outer middleware (access log, counters, audit) learns the route
// and the principal.
func annotate[T any](w http.ResponseWriter, fn func(T)) {
	for i := 0; w != nil && i < 32; i++ {
		if a, ok := w.(T); ok {
			fn(a)
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return
		}
		w = u.Unwrap()
	}
}
