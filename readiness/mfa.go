package readiness

import (
	"context"
	"fmt"
	"strings"

	"github.com/launchready/launchready/authz"
)

// Staff MFA (scorecard item 1): a stolen or reused staff password must not
// open the routes that read or export every client's data. AUTH013 reads
// the route inventory; AUTH014 is the probe's (MFAProbe).

func init() {
	registerBuiltin("auth/mfa", checkAuthMFA)
}

// staffRoleWords mark a role as staff of the portal operator.
var staffRoleWords = []string{"admin", "support", "staff", "agent", "operator", "employee"}

// staffOnly reports whether every principal p admits holds a staff role:
// some role group is made only of staff roles.
func staffOnly(p authz.Policy) bool {
	for _, g := range p.RoleGroups() {
		all := len(g) > 0
		for _, r := range g {
			l := strings.ToLower(r)
			staff := false
			for _, w := range staffRoleWords {
				if strings.Contains(l, w) {
					staff = true
				}
			}
			all = all && staff
		}
		if all {
			return true
		}
	}
	return false
}

func isExportPath(path string) bool {
	for _, seg := range staticSegments(path) {
		if strings.Contains(seg, "export") {
			return true
		}
	}
	return false
}

func checkAuthMFA(_ context.Context, in *Inspection) []Finding {
	m, ok := authMux(in)
	if !ok {
		return nil
	}
	var out []Finding
	for _, r := range m.Routes() {
		p := r.Policy
		if p.IsPublic() || p.RequiresMFA() {
			continue // public admin routes are AUTH002/AUTH004's
		}
		switch {
		case isAdminPath(r.Path) || adminOnly(p):
			sev := Blocker
			if in.Target.Env != Production {
				sev = Warning
			}
			out = append(out, Finding{
				ID: "AUTH013", Severity: sev, Route: r.Pattern,
				Seen: fmt.Sprintf("an admin route does not require a second factor (policy: %s): a stolen or reused admin password is enough to use it", p),
				Fix:  "add .RequireMFA() to the policy (authz.Role(\"admin\").RequireMFA()) and fill Principal.Factors from the session (session.Manager.Auth); enrol admins with the mfa package",
			})
		case isExportPath(r.Path) || staffOnly(p):
			out = append(out, Finding{
				ID: "AUTH013", Severity: Warning, Route: r.Pattern,
				Seen: fmt.Sprintf("a staff or export route does not require a second factor (policy: %s): staff read every client's data with a password alone", p),
				Fix:  "add .RequireMFA() to the policy once staff are enrolled, and .Fresh(15*time.Minute) on exports; or accept AUTH013 for the route with the reason",
			})
		}
	}
	return out
}
