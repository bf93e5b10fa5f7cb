package readiness

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// Assessment mode (scorecard item 1) for an app that uses none of the kit
// yet: when the server routes with a plain http.ServeMux (DefaultServeMux
// included) or a plain chi router (with authz/chiauthz imported), the run
// lists every route it can enumerate with what protects it, and reports one
// AUTH015 per unprotected sensitive route with its migration step, grouped
// by path prefix: the first report is the migration plan. AUTH016 says when
// the router could not be listed.

func init() {
	registerBuiltin("auth/assessment", checkAuthAssessment)
}

func routerKind(in *Inspection) string {
	if k, ok := in.Inventory.(RouterKind); ok {
		return k.RouterKind()
	}
	return fmt.Sprintf("%T", in.Inventory)
}

// sensitiveReason says why a route needs a policy, or "" when it does not
// look sensitive (sign-in, health checks, static pages).
func sensitiveReason(r Route) string {
	switch {
	case isDebugPath(r.Path):
		return "a debug endpoint"
	case isAdminPath(r.Path):
		return "an admin route"
	}
	if w := objectWildcard(r); w != "" {
		return fmt.Sprintf("it addresses an object by {%s}", w)
	}
	if w := sensitiveWord(r.Path); w != "" {
		return fmt.Sprintf("it looks sensitive (%q)", w)
	}
	return ""
}

// suggestedPolicy is the policy the migration step proposes for r.
func suggestedPolicy(r Route) string {
	switch {
	case isDebugPath(r.Path), isAdminPath(r.Path):
		return `authz.Role("admin")`
	}
	if w := objectWildcard(r); w != "" {
		name := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(w, "ID"), "Id"), "id")
		if name == "" {
			for _, seg := range staticSegments(r.Path) {
				name = seg
			}
		}
		name = strings.TrimSuffix(name, "s")
		if name != "" {
			name = strings.ToUpper(name[:1]) + name[1:]
		}
		return fmt.Sprintf(`authz.Authenticated().Object(load%s, authz.SameTenant.OrRole("admin", "support"))`, name)
	}
	return `authz.Authenticated() (narrow it with .Role(...) or .Permission(...))`
}

// routeGroup is the path prefix a route is migrated with: its first static
// segment ("/admin"), or its first two under /api ("/api/clients").
func routeGroup(path string) string {
	segs := staticSegments(path)
	n := 1
	if len(segs) > 0 && segs[0] == "api" {
		n = 2
	}
	if len(segs) > n {
		segs = segs[:n]
	}
	return "/" + strings.Join(segs, "/")
}

// registration is the migration step's code for r on the router kind.
func registration(kind string, r Route, policy string) string {
	switch kind { // the route sits in a plain router mounted on a kit router
	case "chiauthz.Router":
		method := "Handle"
		if r.Method != "" {
			method = r.Method[:1] + strings.ToLower(r.Method[1:])
		}
		return fmt.Sprintf(`r.%s(%q, %s, h) on the chiauthz.Router, and remove it from the mounted router`, method, strings.TrimSuffix(r.Path, "{$}"), policy)
	case "authz.Mux":
		return fmt.Sprintf(`mux.Handle(%q, %s, h) on the authz.Mux, and remove it from the mounted router`, r.Pattern, policy)
	}
	if strings.HasPrefix(kind, "chi") {
		method := "Handle"
		if r.Method != "" {
			method = r.Method[:1] + strings.ToLower(r.Method[1:])
		}
		path := strings.TrimSuffix(r.Path, "{$}") // chi matches "/x/" exactly
		return fmt.Sprintf(`r.%s(%q, %s, h) on a chiauthz.Router (chiauthz.New(authz.Config{Authenticate: ...}) replaces chi.NewRouter; Route, Group, With and Mount keep their shape)`, method, path, policy)
	}
	return fmt.Sprintf(`mux.Handle(%q, %s, h) on an authz.Mux (authz.NewMux(authz.Config{Authenticate: ...}) replaces http.NewServeMux)`, r.Pattern, policy)
}

// protectionSeen names the kit controls found on a route's chain or in
// front of the router.
func protectionSeen(in *Inspection, r Route) string {
	var seen []string
	row := routeRow(in, r, nil)
	if len(row.Limits) > 0 {
		seen = append(seen, "rate limit ("+strings.Join(row.Limits, ", ")+")")
	}
	if row.Body != "" {
		seen = append(seen, "body "+row.Body)
	}
	if row.CrossOrigin {
		seen = append(seen, "CSRF protection")
	}
	if row.Audited {
		seen = append(seen, "audit trail")
	}
	if len(seen) == 0 {
		return "none"
	}
	return strings.Join(seen, ", ") + " (none of which decides who may call it)"
}

func checkAuthAssessment(_ context.Context, in *Inspection) []Finding {
	if in.Unlisted != nil {
		// A handler readiness knows nothing of is AUTH001's business; say
		// more only for routers that could have been listed.
		name := fmt.Sprintf("%T", in.Unlisted)
		switch {
		case strings.Contains(name, "chi.Mux"):
			return []Finding{{ID: "AUTH016", Severity: Warning,
				Seen: fmt.Sprintf("the server routes with a plain chi router (%s), whose routes core readiness cannot list: it does not import chi", name),
				Fix:  `import _ "github.com/launchready/launchready/authz/chiauthz" in the test that runs readiness: it lists plain chi routers for this assessment, and is the adapter to migrate to`}}
		case name == "*http.ServeMux":
			return []Finding{{ID: "AUTH016", Severity: Warning,
				Seen: "the server routes with an http.ServeMux whose routing tree this Go release lays out differently from what readiness reads, so its routes could not be listed",
				Fix:  "move the routes to an authz.Mux, which lists them itself; report the Go version to launchready"}}
		}
		return nil
	}
	out := nestedFindings(in)
	if !in.Plain {
		return out
	}
	kind := routerKind(in)
	groups := map[string][2]int{} // group -> unprotected sensitive, total
	for _, r := range in.Routes {
		g := groups[routeGroup(r.Path)]
		g[1]++
		if sensitiveReason(r) != "" {
			g[0]++
		}
		groups[routeGroup(r.Path)] = g
	}
	for _, r := range in.Routes {
		why := sensitiveReason(r)
		if why == "" {
			continue
		}
		group := routeGroup(r.Path)
		g := groups[group]
		pol := suggestedPolicy(r)
		out = append(out, Finding{
			ID: "AUTH015", Severity: Blocker, Route: r.Pattern,
			Seen: fmt.Sprintf("group %s (%d of %d routes to migrate): the route is served by a plain %s with no policy, so anyone who reaches the server can call it; %s; protection seen: %s",
				group, g[0], g[1], kind, why, protectionSeen(in, r)),
			Fix: fmt.Sprintf("register it with a policy: %s. Until the group %s moves, accept it with readiness.AcceptRoute(\"AUTH015\", %q, reason)",
				registration(kind, r, pol), group, r.Pattern),
		})
	}
	return out
}

// prefixStripper is implemented by a handler that strips a path prefix
// before the next one routes (chiauthz.MountHandler's): the nested router's
// patterns are then relative to it.
type prefixStripper interface{ StrippedPrefix() string }

// nestedRoute is a route of a plain router reached through one route of the
// inventory ("/api/{rest...}" handing requests to an old chi router).
type nestedRoute struct {
	Route
	outer Route
	kind  string
}

// nestedRoutes lists the routes of the plain routers found on the chains of
// the inventory's routes, with their full patterns.
func nestedRoutes(in *Inspection) []nestedRoute {
	var out []nestedRoute
	for _, r := range in.Routes {
		prefix := ""
		for _, h := range r.Chain {
			if p, ok := h.(prefixStripper); ok {
				prefix += p.StrippedPrefix()
			}
			sub, ok := enumerate(h)
			if !ok {
				continue
			}
			kind := "http.ServeMux"
			if k, ok := sub.(RouterKind); ok {
				kind = k.RouterKind()
			}
			sub.EachRoute(func(pattern string, sh http.Handler) {
				m, host, p := ParsePattern(pattern)
				full := host + prefix + p
				if m != "" {
					full = m + " " + full
				}
				out = append(out, nestedRoute{Route: Route{Pattern: full, Method: m, Host: host, Path: prefix + p,
					Handler: sh, Chain: Walk(sh)}, outer: r, kind: kind})
			})
			break
		}
	}
	return out
}

// nestedFindings: one AUTH015 per sensitive route of a plain router mounted
// under a route of the inventory, which the route's one policy covers only
// coarsely.
func nestedFindings(in *Inspection) []Finding {
	outerKind := "authz.Mux"
	if k, ok := in.Inventory.(RouterKind); ok {
		outerKind = k.RouterKind()
	}
	var out []Finding
	for _, n := range nestedRoutes(in) {
		why := sensitiveReason(n.Route)
		if why == "" {
			continue
		}
		outer := "no policy"
		if p, ok := in.Inventory.(Policies); ok {
			if pol, found := p.Policy(n.outer.Pattern); found {
				outer = "the policy " + pol.String()
			}
		}
		out = append(out, Finding{
			ID: "AUTH015", Severity: Blocker, Route: n.Pattern,
			Seen: fmt.Sprintf("the route is served by a plain %s mounted at %q, which gives all its routes %s and none of their own; %s",
				n.kind, n.outer.Pattern, outer, why),
			Fix: fmt.Sprintf("register it with a policy: %s. Until the mount is gone, accept it with readiness.AcceptRoute(\"AUTH015\", %q, reason)",
				registration(outerKind, n.Route, suggestedPolicy(n.Route)), n.Pattern),
		})
	}
	return out
}
