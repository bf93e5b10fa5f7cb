package readiness

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/launchready/launchready/authz"
)

// Auth protection (scorecard item 1): the handler tree must end at an
// authz.Mux, and its routes' policies must fit what the routes look like.

func init() {
	registerBuiltin("auth/inventory", checkAuthInventory)
	registerBuiltin("auth/routes", checkAuthRoutes)
	registerBuiltin("auth/debug", checkAuthDebug)
}

// authMux returns the policy inventory the inspection reached (an
// authz.Mux or a router adapter), if any, with its routes and their
// policies in registration order.
func authMux(in *Inspection) (policyRoutes, bool) {
	p, ok := in.Inventory.(Policies)
	if !ok {
		return policyRoutes{}, false
	}
	pr := policyRoutes{Policies: p}
	for _, r := range in.Routes {
		pol, ok := p.Policy(r.Pattern)
		if !ok {
			continue
		}
		pr.routes = append(pr.routes, authz.Route{Pattern: r.Pattern, Method: r.Method, Host: r.Host, Path: r.Path,
			Policy: pol, Handler: r.Handler})
	}
	return pr, true
}

// policyRoutes is a Policies with its routes listed once.
type policyRoutes struct {
	Policies
	routes []authz.Route
}

// Routes returns the routes with their policies, in registration order.
func (p policyRoutes) Routes() []authz.Route { return p.routes }

// servesDefaultMux reports whether http.DefaultServeMux receives traffic:
// a nil Server.Handler, or DefaultServeMux in the global chain.
func servesDefaultMux(in *Inspection) bool {
	if in.Target.Server == nil {
		return false
	}
	if in.Target.Server.Handler == nil {
		return true
	}
	for _, h := range in.Chain {
		if mux, ok := h.(*http.ServeMux); ok && mux == http.DefaultServeMux {
			return true
		}
	}
	return false
}

func chainTypes(chain []http.Handler) string {
	if len(chain) == 0 {
		return "nothing"
	}
	parts := make([]string, len(chain))
	for i, h := range chain {
		parts[i] = fmt.Sprintf("%T", h)
	}
	return strings.Join(parts, " → ")
}

func checkAuthInventory(_ context.Context, in *Inspection) []Finding {
	var out []Finding
	switch {
	case servesDefaultMux(in):
		out = append(out, Finding{
			ID: "AUTH001", Severity: Blocker,
			Seen: fmt.Sprintf("the server serves http.DefaultServeMux (%d routes listed for the assessment, AUTH015), where any imported package can register handlers (net/http/pprof, expvar) that no policy covers", len(in.Routes)),
			Fix:  "serve an authz.Mux: mux, err := authz.NewMux(authz.Config{Authenticate: …}); srv.Handler = middleware(mux)",
		})
	case in.Plain:
		out = append(out, Finding{
			ID: "AUTH001", Severity: Blocker,
			Seen: fmt.Sprintf("the server routes with a plain %s (%d routes), which has no authorization policies: no route is known to be protected (AUTH015 lists each sensitive route with its migration step; Report.Routes has the full table)", routerKind(in), len(in.Routes)),
			Fix:  "move the routes to a router where each route carries a policy: authz.Mux for http.ServeMux, chiauthz.Router for chi; group by group, accepting AUTH015 per route until its group moves",
		})
	case in.Inventory == nil:
		out = append(out, Finding{
			ID: "AUTH001", Severity: Blocker,
			Seen: fmt.Sprintf("the server handler does not lead to a route inventory (walked: %s), so no route is known to be protected", chainTypes(in.Chain)),
			Fix:  "route every request through an authz.Mux, and give each middleware in front of it an Unwrap() http.Handler method so readiness can walk to it",
		})
	}
	for _, r := range in.Routes {
		for _, h := range r.Chain {
			// A plain ServeMux here is AUTH001; other routers (chi…) are
			// AUTH012's, and AUTH015 lists the routes of both.
			if mux, ok := h.(*http.ServeMux); ok {
				n := 0
				if sub, ok := enumerate(mux); ok {
					sub.EachRoute(func(string, http.Handler) { n++ })
				}
				out = append(out, Finding{
					ID: "AUTH001", Severity: Blocker, Route: r.Pattern,
					Seen: fmt.Sprintf("the route hands requests to a plain http.ServeMux (%d routes), whose routes have no policy of their own and are not in the inventory", n),
					Fix:  "register those routes on the route inventory (authz.Mux, chiauthz.Router), each with its policy",
				})
				break
			}
		}
	}
	return out
}

// sensitiveWords make a public route suspicious (AUTH002).
var sensitiveWords = []string{"admin", "export", "invoice", "client", "user", "note", "ticket",
	"upload", "billing", "settings", "account"}

// authFlowWords name routes that must be public on an API (login, password
// reset, health checks): "/api/login" is not flagged for "api" alone.
var authFlowWords = []string{"login", "logout", "signin", "signout", "sign-in", "sign-out", "password",
	"reset", "register", "signup", "sign-up", "token", "session", "health", "ready", "live",
	"callback", "verify", "oauth", "csrf", "status"}

func staticSegments(path string) []string {
	var out []string
	for _, seg := range strings.Split(strings.ToLower(path), "/") {
		if seg != "" && !strings.HasPrefix(seg, "{") {
			out = append(out, seg)
		}
	}
	return out
}

// sensitiveWord returns the first sensitive word of path, or "".
func sensitiveWord(path string) string {
	segs := staticSegments(path)
	for _, seg := range segs {
		for _, w := range sensitiveWords {
			if strings.Contains(seg, w) {
				return w
			}
		}
	}
	api := false
	for _, seg := range segs {
		if seg == "api" {
			api = true
		}
		for _, w := range authFlowWords {
			if strings.Contains(seg, w) {
				return ""
			}
		}
	}
	if api {
		return "api"
	}
	return ""
}

// objectWildcard returns the first wildcard that names an object ({id},
// {clientID}, {ticket_id}), or "".
func objectWildcard(r Route) string {
	for _, w := range r.Wildcards() {
		l := strings.ToLower(w)
		if l == "id" || strings.HasSuffix(l, "id") || strings.HasSuffix(l, "uuid") {
			return w
		}
	}
	return ""
}

func isAdminPath(path string) bool {
	for _, seg := range staticSegments(path) {
		if strings.Contains(seg, "admin") {
			return true
		}
	}
	return false
}

// adminOnly reports whether p restricts to an admin role or permission:
// one role group made only of admin roles, or an admin permission.
func adminOnly(p authz.Policy) bool {
	if !p.RequiresAuthentication() {
		return false
	}
	for _, g := range p.RoleGroups() {
		all := len(g) > 0
		for _, r := range g {
			if !strings.Contains(strings.ToLower(r), "admin") {
				all = false
			}
		}
		if all {
			return true
		}
	}
	for _, perm := range p.Permissions() {
		if strings.Contains(strings.ToLower(perm), "admin") {
			return true
		}
	}
	return false
}

func checkAuthRoutes(_ context.Context, in *Inspection) []Finding {
	m, ok := authMux(in)
	if !ok {
		return nil
	}
	var out []Finding
	for _, r := range m.Routes() {
		p := r.Policy
		if p.IsPublic() {
			if w := sensitiveWord(r.Path); w != "" {
				out = append(out, Finding{
					ID: "AUTH002", Severity: Blocker, Route: r.Pattern,
					Seen: fmt.Sprintf("the route looks sensitive (%q) but is public (reason given: %q)", w, p.PublicReason()),
					Fix:  "require authentication and a role or permission (authz.Role, authz.Permission); if it really must be public, accept AUTH002 for this route with the reason",
				})
			}
		}
		if w := objectWildcard(route(r)); w != "" && !p.HasObjectCheck() && adminOnly(p) {
			// Not AUTH003: crossing tenants is what the admin role is for.
			// Reported under the admin-route check, as info.
			out = append(out, Finding{
				ID: "AUTH004", Severity: Info, Route: r.Pattern,
				Seen: fmt.Sprintf("the route addresses an object by {%s} with no object-level check, and is restricted to admins (%s): the admin role crosses tenants by design", w, p),
				Fix:  "nothing to do while only admins may use it; if other roles are added, add .Object(loader, authz.SameTenant.OrRole(\"admin\"))",
			})
		} else if w != "" && !p.HasObjectCheck() {
			out = append(out, Finding{
				ID: "AUTH003", Severity: Blocker, Route: r.Pattern,
				Seen: fmt.Sprintf("the route addresses an object by {%s} but its policy (%s) has no object-level check, so any principal who passes it can name another tenant's object (BOLA)", w, p),
				Fix:  "add .Object(loader, authz.SameTenant) or authz.Owner to the policy; staff who work across tenants: authz.SameTenant.OrRole(\"admin\", \"support\")",
			})
		}
		if isAdminPath(r.Path) && !adminOnly(p) {
			out = append(out, Finding{
				ID: "AUTH004", Severity: Blocker, Route: r.Pattern,
				Seen: fmt.Sprintf("an admin route is open to principals without an admin role or permission (policy: %s)", p),
				Fix:  "restrict it with authz.Role(\"admin\") or an admin permission; hiding it in the front end is not protection",
			})
		}
	}
	return out
}

func route(r authz.Route) Route {
	return Route{Pattern: r.Pattern, Method: r.Method, Host: r.Host, Path: r.Path, Handler: r.Handler}
}

var debugPaths = []string{"/debug/pprof", "/debug/vars"}

func isDebugPath(path string) bool {
	for _, d := range debugPaths {
		if strings.HasPrefix(path, d) {
			return true
		}
	}
	return false
}

// defaultMuxHas reports whether http.DefaultServeMux has a handler for path
// (net/http/pprof and expvar register there when imported).
func defaultMuxHas(path string) bool {
	r := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: path}, Host: "localhost", Header: http.Header{}}
	_, pattern := http.DefaultServeMux.Handler(r)
	return pattern != ""
}

func checkAuthDebug(_ context.Context, in *Inspection) []Finding {
	var out []Finding
	if servesDefaultMux(in) {
		for _, p := range []string{"/debug/pprof/", "/debug/vars"} {
			if defaultMuxHas(p) {
				out = append(out, Finding{
					ID: "AUTH008", Severity: Blocker, Route: p,
					Seen: "a debug endpoint is registered on http.DefaultServeMux (net/http/pprof or expvar is imported) and the server serves DefaultServeMux, so anyone can read heap profiles, command lines and variables",
					Fix:  "serve an authz.Mux instead of DefaultServeMux, and mount pprof handlers explicitly under authz.Role(\"admin\") if you need them",
				})
			}
		}
	}
	m, ok := authMux(in)
	if !ok {
		return out
	}
	for _, r := range m.Routes() {
		if isDebugPath(r.Path) && !adminOnly(r.Policy) {
			out = append(out, Finding{
				ID: "AUTH008", Severity: Blocker, Route: r.Pattern,
				Seen: fmt.Sprintf("a debug endpoint is reachable without an admin role (policy: %s)", r.Policy),
				Fix:  "restrict it with authz.Role(\"admin\"), or do not serve it in production",
			})
		}
		for _, h := range Walk(r.Handler) {
			if mux, ok := h.(*http.ServeMux); ok && mux == http.DefaultServeMux && !adminOnly(r.Policy) && (defaultMuxHas("/debug/pprof/") || defaultMuxHas("/debug/vars")) {
				out = append(out, Finding{
					ID: "AUTH008", Severity: Blocker, Route: r.Pattern,
					Seen: "the route hands requests to http.DefaultServeMux, which serves debug endpoints (pprof or expvar), without an admin role",
					Fix:  "mount the debug handlers explicitly under authz.Role(\"admin\")",
				})
			}
		}
	}
	return out
}
