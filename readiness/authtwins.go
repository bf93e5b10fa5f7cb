package readiness

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/launchready/launchready/authz"
)

// AUTH009 statically: twin routes that a path trick turns into one another
// (a toggled trailing slash, letter case, HEAD for GET) but that carry
// different policies. The probe finds the same by sending the tricks.

func init() {
	registerBuiltin("auth/twins", checkAuthTwins)
}

func twinKey(rt authz.Route) string {
	method := rt.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	p := strings.ToLower(strings.TrimSuffix(strings.TrimSuffix(rt.Path, "{$}"), "/"))
	return method + " " + strings.ToLower(rt.Host) + p
}

func checkAuthTwins(_ context.Context, in *Inspection) []Finding {
	m, ok := authMux(in)
	if !ok {
		return nil
	}
	first := map[string]authz.Route{}
	var out []Finding
	for _, rt := range m.Routes() {
		k := twinKey(rt)
		other, seen := first[k]
		if !seen {
			first[k] = rt
			continue
		}
		if other.Policy.String() == rt.Policy.String() {
			continue
		}
		out = append(out, Finding{
			ID: "AUTH009", Severity: Blocker, Route: rt.Pattern,
			Seen: fmt.Sprintf("the route is a path-trick twin of %q (trailing slash, letter case or HEAD for GET) with a different policy: %s instead of %s",
				other.Pattern, rt.Policy, other.Policy),
			Fix: "give both routes the same policy, or remove the twin; a GET route already serves HEAD",
		})
	}
	return out
}
