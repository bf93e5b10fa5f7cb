package readiness

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// DeclaredAPI is a configured check (AUTH011): it compares the route
// inventory with the API the app declares — a saved route list, an OpenAPI
// 3 document in JSON, or both — and reports shadow routes (served but not
// declared) and zombie routes (declared but no longer served). Wildcard
// names do not matter: "/api/clients/{id}" matches "/api/clients/{clientId}".
//
//	Checks: []readiness.Check{readiness.DeclaredAPI{OpenAPI: spec, BasePath: "/api"}}
type DeclaredAPI struct {
	// Routes are ServeMux-style patterns: "GET /api/clients/{id}". A pattern
	// without a method declares every method.
	Routes []string
	// OpenAPI is an OpenAPI 3 document in JSON; its paths and operations are
	// declared routes.
	OpenAPI []byte
	// BasePath is prefixed to the OpenAPI paths (the servers URL path).
	BasePath string
	// Ignore lists inventory patterns that need no declaration (health
	// checks, the browser page).
	Ignore []string
}

// Name implements Check.
func (DeclaredAPI) Name() string { return "auth/declared-api" }

var openAPIMethods = []string{"get", "put", "post", "delete", "patch", "head", "options"}

// routeKey normalises a pattern to "METHOD /path/{}" ("" method for any).
func routeKey(pattern string) (method, path string) {
	m, _, p := ParsePattern(pattern)
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			if strings.HasSuffix(s, "...}") {
				segs[i] = "{...}"
			} else if s != "{$}" {
				segs[i] = "{}"
			}
		}
	}
	return strings.ToUpper(m), strings.Join(segs, "/")
}

// Run implements Check.
func (d DeclaredAPI) Run(_ context.Context, in *Inspection) []Finding {
	declared := map[string]map[string]bool{} // path → methods ("" = any)
	add := func(method, path string) {
		if declared[path] == nil {
			declared[path] = map[string]bool{}
		}
		declared[path][method] = true
	}
	for _, r := range d.Routes {
		add(routeKey(r))
	}
	var out []Finding
	if len(d.OpenAPI) > 0 {
		var doc struct {
			Paths map[string]map[string]json.RawMessage `json:"paths"`
		}
		if err := json.Unmarshal(d.OpenAPI, &doc); err != nil {
			return []Finding{{
				ID: "AUTH011", Severity: Warning,
				Seen: "the declared OpenAPI document is not valid JSON, so the route inventory could not be compared with it",
				Fix:  "pass the OpenAPI 3 document as JSON (convert YAML first)",
			}}
		}
		for p, ops := range doc.Paths {
			for _, m := range openAPIMethods {
				if _, ok := ops[m]; ok {
					add(routeKey(strings.ToUpper(m) + " " + strings.TrimSuffix(d.BasePath, "/") + p))
				}
			}
		}
	}
	ignore := map[string]bool{}
	for _, p := range d.Ignore {
		ignore[p] = true
	}
	served := map[string]map[string]bool{}
	for _, r := range in.Routes {
		m, p := routeKey(r.Pattern)
		if served[p] == nil {
			served[p] = map[string]bool{}
		}
		served[p][m] = true
		if ignore[r.Pattern] {
			continue
		}
		ms := declared[p]
		if ms[""] || ms[m] || (m == "" && len(ms) > 0) {
			continue
		}
		out = append(out, Finding{
			ID: "AUTH011", Severity: Warning, Route: r.Pattern,
			Seen: "the route is served but not in the declared API (a shadow route: undocumented, untested, often forgotten)",
			Fix:  "declare it in the OpenAPI document or the route list, or remove it",
		})
	}
	var zombies []string
	for p, ms := range declared {
		for m := range ms {
			sm := served[p]
			if sm[""] || sm[m] || (m == "" && len(sm) > 0) || (m == "HEAD" && sm["GET"]) {
				continue
			}
			zombies = append(zombies, strings.TrimSpace(m+" "+p))
		}
	}
	sort.Strings(zombies)
	for _, z := range zombies {
		out = append(out, Finding{
			ID: "AUTH011", Severity: Warning, Route: z,
			Seen: fmt.Sprintf("the declared API lists %s but the inventory does not serve it (a zombie: clients or docs still point at it)", z),
			Fix:  "remove it from the declaration, or register it on the authz.Mux",
		})
	}
	return out
}
