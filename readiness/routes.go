package readiness

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/launchready/launchready/audit"
	"github.com/launchready/launchready/ratelimit"
	"github.com/launchready/launchready/validate"
)

// RouteInfo is one row of the route table: a route of the inventory with
// what protects it, and the findings about it. Report.Routes holds the
// table of a run; Routes builds it for a handler.
type RouteInfo struct {
	// Pattern is the route's pattern: "GET /api/clients/{id}".
	Pattern string `json:"pattern"`
	// Policy is the route's authz policy ("role(admin) object(same
	// tenant)"), or "none" on a router without policies.
	Policy string `json:"policy"`
	// Protected is true when the route has a policy: authentication, a role
	// or permission, or public with a stated reason.
	Protected bool `json:"protected"`
	// Object names the object-level rules ("same tenant"), if any.
	Object string `json:"object_check,omitempty"`
	// Limits are the rate limits on the route's chain or in front of the
	// router ("login", "export").
	Limits []string `json:"limits,omitempty"`
	// Body is the declared body: the schema type, "upload" or "none".
	Body string `json:"body_schema,omitempty"`
	// CrossOrigin is true when cross-origin (CSRF) protection covers it.
	CrossOrigin bool `json:"csrf"`
	// Audited is true when the audit trail records it.
	Audited bool `json:"audited"`
	// Findings are the IDs of the report's findings about the route.
	Findings []string `json:"findings,omitempty"`
}

// routeRow builds the row of r; findings are the report's, or nil.
// routeRow builds the row of route r; idsByRoute holds the finding IDs of
// each route pattern in report order (nil: none).
func routeRow(in *Inspection, r Route, idsByRoute map[string][]string) RouteInfo {
	row := RouteInfo{Pattern: r.Pattern, Policy: "none"}
	if p, ok := in.Inventory.(Policies); ok {
		if pol, found := p.Policy(r.Pattern); found {
			row.Policy, row.Protected = pol.String(), true
			row.Object = strings.Join(pol.ObjectRules(), ", ")
		}
	}
	chain := append(append([]http.Handler(nil), in.Chain...), r.Chain...)
	seen := map[string]bool{}
	for _, h := range FindAll[*ratelimit.Handler](chain) {
		k := h.Kind().String()
		if !seen[k] {
			seen[k] = true
			row.Limits = append(row.Limits, k)
		}
	}
	if b, ok := Find[validate.BodyPolicy](r.Chain); ok {
		row.Body = b.Schema()
	} else if _, ok := Find[*validate.UploadHandler](r.Chain); ok {
		row.Body = "upload"
	} else if _, ok := Find[inputBodyless](r.Chain); ok {
		row.Body = "none"
	}
	row.CrossOrigin = protectsCrossOrigin(chain)
	_, row.Audited = Find[*audit.Handler](chain)
	row.Findings = slices.Clip(idsByRoute[r.Pattern]) // rows share the index; an append must not
	return row
}

func routeTable(in *Inspection, findings []Finding) []RouteInfo {
	// Index the findings by route once: scanning them for every route made
	// the table quadratic (routes × findings) on large inventories.
	idsByRoute := map[string][]string{}
	for _, f := range findings {
		if f.Route != "" {
			idsByRoute[f.Route] = append(idsByRoute[f.Route], f.ID)
		}
	}
	out := make([]RouteInfo, 0, len(in.Routes))
	for _, r := range in.Routes {
		out = append(out, routeRow(in, r, idsByRoute))
	}
	// Routes of a plain router mounted under a route: listed with the
	// middleware of the mount in front of theirs.
	for _, n := range nestedRoutes(in) {
		r := n.Route
		r.Chain = append(append([]http.Handler(nil), n.outer.Chain...), r.Chain...)
		row := routeRow(in, r, idsByRoute)
		row.Policy = fmt.Sprintf("none (inside %s)", n.outer.Pattern)
		out = append(out, row)
	}
	return out
}

// Routes lists the routes h serves with what protects each, for a quick
// look at an app (one that uses none of the kit included: a plain
// http.ServeMux, or a chi router with authz/chiauthz imported). It runs the
// built-in static checks on h, so each row names its findings; it sends no
// request. Print the table with WriteRoutes.
func Routes(h http.Handler) []RouteInfo {
	rep, err := Run(context.Background(), Target{Server: &http.Server{Handler: h}, Env: Production})
	if err != nil {
		return nil
	}
	return rep.Routes
}

// WriteRoutes writes rows as a text table: route, policy, object check,
// limits, body schema, CSRF, audit and findings.
func WriteRoutes(w io.Writer, rows []RouteInfo) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ROUTE\tPOLICY\tOBJECT\tLIMITS\tBODY\tCSRF\tAUDIT\tFINDINGS")
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return "-"
	}
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Pattern, r.Policy, dash(r.Object),
			dash(strings.Join(r.Limits, ",")), dash(r.Body), yes(r.CrossOrigin), yes(r.Audited), dash(strings.Join(r.Findings, " ")))
	}
	return tw.Flush()
}
