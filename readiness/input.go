package readiness

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/launchready/launchready/validate"
)

// Input validation (scorecard item 4): INPUT001–INPUT004 and INPUT006 are
// static, read from each route's chain; INPUT005 is InputProbe.

func init() {
	registerBuiltin("input/routes", checkInputRoutes)
}

// The small interfaces input checks read from a route's chain. The validate
// package's handlers implement them; third-party middleware can too.
type (
	inputSizeCap   interface{ MaxBytes() int64 }
	inputBodyless  interface{ RefusesBody() bool }
	inputPathRules interface{ PathRules() map[string]string }
)

// inputTakesBody reports whether a route's method carries a body that must
// be validated: POST, PUT, PATCH, or any method when the pattern names none.
// DELETE is mutating but normally bodiless.
func inputTakesBody(rt Route) bool {
	switch rt.Method {
	case "", http.MethodPost, http.MethodPut, http.MethodPatch:
		return true
	}
	return false
}

// inputUploadWords mark routes that look like they receive files.
var inputUploadWords = []string{"upload", "import", "attachment", "file", "avatar", "document"}

func inputLooksLikeUpload(path string) bool {
	p := strings.ToLower(path)
	for _, w := range inputUploadWords {
		if strings.Contains(p, w) {
			return true
		}
	}
	return false
}

func inputRouteName(rt Route) string {
	if rt.Pattern != "" {
		return rt.Pattern
	}
	return rt.Path
}

func checkInputRoutes(_ context.Context, in *Inspection) []Finding {
	var out []Finding
	for _, rt := range in.Routes {
		out = append(out, inputRouteFindings(rt)...)
	}
	return out
}

func inputRouteFindings(rt Route) []Finding {
	var out []Finding
	route := inputRouteName(rt)
	body, hasBody := Find[validate.BodyPolicy](rt.Chain)
	_, hasUpload := Find[*validate.UploadHandler](rt.Chain)
	_, bodyless := Find[inputBodyless](rt.Chain)

	if inputTakesBody(rt) {
		if !hasBody && !hasUpload && !bodyless {
			out = append(out, Finding{
				ID: "INPUT001", Severity: Blocker, Route: route,
				Seen: "the route accepts a request body but its chain has no declared body schema (validate.JSON, validate.Upload or validate.NoBody)",
				Fix:  "wrap the handler in validate.JSON[T] with the request struct (or validate.Upload for files, validate.NoBody when the route takes no body)",
			})
		}
		capped := bodyless
		for _, c := range FindAll[inputSizeCap](rt.Chain) {
			if c.MaxBytes() > 0 {
				capped = true
			}
		}
		if !capped {
			out = append(out, Finding{
				ID: "INPUT002", Severity: Blocker, Route: route,
				Seen: "the route reads a request body with no size cap in its chain",
				Fix:  "use validate.JSON (1 MB cap by default) or wrap the handler in validate.Limit(n, h)",
			})
		}
		if hasBody && body.AllowsUnknownFields() {
			out = append(out, Finding{
				ID: "INPUT003", Severity: Blocker, Route: route,
				Seen: fmt.Sprintf("the body schema %s accepts unknown JSON fields (Options.InsecureAllowUnknownFields)", body.Schema()),
				Fix:  "remove InsecureAllowUnknownFields so fields the schema does not declare are refused (mass assignment)",
			})
		}
		if inputLooksLikeUpload(rt.Path) && !hasUpload && !hasBody {
			out = append(out, Finding{
				ID: "INPUT006", Severity: Blocker, Route: route,
				Seen: "the route looks like an upload but has no validate.Upload limits (total size, per-file size, sniffed content types)",
				Fix:  "wrap the handler in validate.Upload(validate.UploadLimits{AllowedTypes: ...}, h)",
			})
		}
	}

	if wild := rt.Wildcards(); len(wild) > 0 {
		checked := map[string]bool{}
		for _, p := range FindAll[inputPathRules](rt.Chain) {
			for name := range p.PathRules() {
				checked[name] = true
			}
		}
		var missing []string
		for _, w := range wild {
			if !checked[w] {
				missing = append(missing, "{"+w+"}")
			}
		}
		if len(missing) > 0 {
			sort.Strings(missing)
			out = append(out, Finding{
				ID: "INPUT004", Severity: Warning, Route: route,
				Seen: "path wildcards without a validation rule: " + strings.Join(missing, ", "),
				Fix:  "wrap the handler in validate.Path(validate.Rules{\"id\": validate.UUID}, h) (or Int, Slug, Pattern)",
			})
		}
	}
	return out
}
