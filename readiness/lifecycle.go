package readiness

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/launchready/launchready/audit"
	"github.com/launchready/launchready/cors"
	"github.com/launchready/launchready/ratelimit"
	"github.com/launchready/launchready/session"
)

// Account lifecycle under attack: limits that share a bucket across
// purposes (RATE010), exports a cross-site link can trigger (CORS009), an
// audit trail that cannot say where an event came from or misses the
// refusals in front of it (AUDIT005, AUDIT006), and a session store that
// cannot end a user's sessions after a password reset (SESS011, static
// part; the probe proves it).

func init() {
	registerBuiltin("ratelimit/buckets", checkSharedBuckets)
	registerBuiltin("cors/sensitive-reads", checkSensitiveReads)
	registerBuiltin("audit/attribution", checkAuditAttribution)
	registerBuiltin("session/password-change", checkSessionsEndable)
	registerBuiltin("ratelimit/device-key", checkDeviceKey)
}

// checkDeviceKey reports a failure lockout whose device cookies are signed
// with a per-process key while several replicas serve: a known browser is
// known to one replica only, and is locked out by the others.
func checkDeviceKey(_ context.Context, in *Inspection) []Finding {
	if in.Replicas() < 2 {
		return nil
	}
	var out []Finding
	seen := map[*ratelimit.Handler]bool{}
	chains := [][]http.Handler{in.Chain}
	for _, rt := range in.Routes {
		chains = append(chains, rt.Chain)
	}
	for _, c := range chains {
		for _, h := range FindAll[*ratelimit.Handler](c) {
			if seen[h] || h.Kind() != ratelimit.KindLoginFailures || h.DeviceKeyConfigured() {
				continue
			}
			seen[h] = true
			out = append(out, Finding{
				ID: "RATE012", Severity: Warning, Item: ItemRateLimit,
				Seen: fmt.Sprintf("the login lockout signs its device cookies with a key of each process, and %d replicas serve: a browser that signed in on one replica is a stranger to the others and can be locked out there", in.Replicas()),
				Fix:  "set ratelimit.Config.DeviceKey to one random 32-byte secret from the environment, the same on every replica",
			})
		}
	}
	return out
}

// checkSharedBuckets reports a limit policy name used on more than one
// route: the routes then spend one budget, so using one (requesting a
// reset link) exhausts the other (confirming it). Failure budgets (login
// failures, second-factor codes) are meant to be shared by every route
// that checks the same secret and are left out.
func checkSharedBuckets(_ context.Context, in *Inspection) []Finding {
	type use struct {
		routes []string
		kinds  []string
	}
	uses := map[string]*use{}
	var names []string
	for _, rt := range in.Routes {
		seen := map[string]bool{}
		for _, h := range FindAll[*ratelimit.Handler](rt.Chain) {
			if k := h.Kind(); k == ratelimit.KindLoginFailures || k == ratelimit.KindSecondFactor {
				// A guessing budget is one per account on purpose: split
				// per route, it would multiply the guesses.
				continue
			}
			name := h.Policy().Name
			if seen[name] {
				continue
			}
			seen[name] = true
			u := uses[name]
			if u == nil {
				u = &use{}
				uses[name] = u
				names = append(names, name)
			}
			u.routes = append(u.routes, rt.Pattern)
			if k := h.Kind().String(); !slices.Contains(u.kinds, k) {
				u.kinds = append(u.kinds, k)
			}
		}
	}
	var out []Finding
	for _, name := range names {
		u := uses[name]
		if len(u.routes) < 2 {
			continue
		}
		out = append(out, Finding{
			ID: "RATE010", Severity: Warning, Item: ItemRateLimit, Route: u.routes[0],
			Seen: fmt.Sprintf("limit %q (%s) is one bucket for %d routes: %s; spending it on one route refuses the others (as three reset requests would lock the reset confirmation)", name, strings.Join(u.kinds, ", "), len(u.routes), strings.Join(u.routes, ", ")),
			Fix:  "give each purpose its own limit (limits.PasswordReset for requests, limits.PasswordResetConfirm for confirmations, or a Policy with its own Name), or accept RATE010 with the reason the routes share a budget",
		})
	}
	return out
}

type crossSiteReadRefuser interface{ CrossSiteReadsRefused() bool }

func refusesCrossSiteReads(chain []http.Handler) bool {
	for _, h := range FindAll[crossSiteReadRefuser](chain) {
		if h.CrossSiteReadsRefused() {
			return true
		}
	}
	return false
}

// sensitiveReadRoute recognises an export or download route by its path.
func sensitiveReadRoute(rt Route) bool {
	if rt.Method != "" && rt.Method != http.MethodGet && rt.Method != http.MethodHead {
		return false
	}
	for _, seg := range strings.Split(strings.ToLower(rt.Path), "/") {
		if strings.HasPrefix(seg, "{") {
			continue
		}
		if strings.Contains(seg, "export") || strings.Contains(seg, "download") {
			return true
		}
	}
	return false
}

// checkSensitiveReads reports export and download routes of a cookie-
// authenticated app that a link from another site can run: the browser
// sends the SameSite=Lax cookie with a top-level navigation, and
// cross-origin protection lets GET through.
func checkSensitiveReads(_ context.Context, in *Inspection) []Finding {
	globalCookies := usesCookies(in.Chain)
	global := refusesCrossSiteReads(in.Chain)
	var out []Finding
	for _, rt := range in.Routes {
		if !sensitiveReadRoute(rt) || global || refusesCrossSiteReads(rt.Chain) || !(globalCookies || usesCookies(rt.Chain)) {
			continue
		}
		out = append(out, Finding{
			ID: "CORS009", Severity: Blocker, Item: ItemCORS, Route: rt.Pattern,
			Seen: "export or download route runs for a cross-site navigation: a link on another site triggers it with the user's session cookie (audit record in their name, their export budget, client data in their downloads)",
			Fix:  "wrap the route's handler with policy.SensitiveRead(h) (cors), which refuses Sec-Fetch-Site cross-site/same-site and foreign Origin/Referer before the handler runs",
		})
	}
	return out
}

// checkAuditAttribution reports an audit trail that cannot attribute
// anonymous events (no client address) or that sits inside the layers
// that refuse requests, so cross-origin refusals and limit refusals in
// front of it leave no record.
func checkAuditAttribution(_ context.Context, in *Inspection) []Finding {
	var out []Finding
	seen := map[*audit.Auditor]bool{}
	check := func(a *audit.Auditor) {
		if seen[a] {
			return
		}
		seen[a] = true
		if !a.RecordsClientIP() {
			out = append(out, Finding{
				ID: "AUDIT006", Severity: Warning,
				Seen: "audit records carry no client address: failed logins, lockouts and refusals of anonymous clients cannot say where they came from",
				Fix:  "set audit.Config.ClientIP to the app's client-address function (behind a proxy, the trusted-proxy resolver: limits.IPResolver().ClientIP), and RequestID",
			})
		}
	}
	for i, h := range in.Chain {
		ah, ok := h.(*audit.Handler)
		if !ok {
			continue
		}
		check(ah.Auditor())
		if outer := FindAll[*cors.Handler](in.Chain[:i]); len(outer) > 0 {
			out = append(out, Finding{
				ID: "AUDIT005", Severity: Warning,
				Seen: "the audit trail sits inside the CORS layer: cross-origin requests it refuses (403) never reach the auditor and leave no record",
				Fix:  "wrap the CORS handler with auditor.Handler (auditor outside cors.Policy.Handler), so refusals are recorded with their client address",
			})
		}
	}
	for _, rt := range in.Routes {
		for _, ah := range FindAll[*audit.Handler](rt.Chain) {
			check(ah.Auditor())
		}
	}
	return out
}

// checkSessionsEndable reports an app with a password-reset route whose
// session store cannot list sessions: nothing can end the sessions the
// old password (or a thief) opened when the password is reset.
func checkSessionsEndable(_ context.Context, in *Inspection) []Finding {
	hasReset := false
	for _, rt := range in.Routes {
		if k, ok := rateRouteKind(rt); ok && k == ratelimit.KindPasswordReset {
			hasReset = true
			break
		}
	}
	if !hasReset {
		return nil
	}
	for _, h := range FindAll[*session.Handler](in.Chain) {
		if !h.Settings().CanLogoutEverywhere {
			return []Finding{{
				ID: "SESS011", Severity: Blocker, Item: ItemSession,
				Seen: "the session store cannot list sessions, so a password reset cannot end the sessions opened before it (session.Manager.PasswordChanged returns ErrNotIterable)",
				Fix:  "use a session store that implements scs.IterableStore (the memory store, session's Redis store), and call sessions.PasswordChanged(ctx, userID) after every password change or reset",
			}}
		}
	}
	return nil
}
