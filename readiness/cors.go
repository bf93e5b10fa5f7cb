package readiness

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/launchready/launchready/cors"
)

// Browser trust boundary (scorecard item 6): CORS001–CORS007 read the
// effective settings of the cors package's handlers found by walking the
// handler tree; CORS008 is the CORSProbe.
//
// How CORS006 knows the app uses cookies: any handler in the global chain or
// a route's chain with a method `CookieName() string`, or a method
// `Settings()` returning a struct with a non-empty string field CookieName
// (session.Handler has the latter), marks the app as cookie-authenticated.
// Then every mutating route must be behind a handler with a method
// `CrossOriginProtected() bool` that returns true (cors.Handler), globally or
// on the route. Without a cookie middleware in the tree, mutating routes are
// assumed to use header (bearer) authentication, which browsers do not attach
// on their own, and CORS006 stays silent.

func init() {
	registerBuiltin("cors/policy", checkCORSPolicy)
	registerBuiltin("cors/csrf", checkCSRF)
	registerBuiltin("cors/headers", checkSecurityHeaders)
}

// corsPolicies returns the policies of every cors.Handler in the global
// chain and the route chains, each once.
func corsPolicies(in *Inspection) []*cors.Policy {
	seen := map[*cors.Policy]bool{}
	var out []*cors.Policy
	add := func(chain []http.Handler) {
		for _, h := range FindAll[*cors.Handler](chain) {
			if p := h.Policy(); p != nil && !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	add(in.Chain)
	for _, r := range in.Routes {
		add(r.Chain)
	}
	return out
}

func checkCORSPolicy(_ context.Context, in *Inspection) []Finding {
	var out []Finding
	for _, p := range corsPolicies(in) {
		origins := p.AllowedOrigins()
		for _, o := range origins {
			switch {
			case o == "*" && p.AllowCredentials():
				out = append(out, Finding{ID: "CORS001", Severity: Blocker,
					Seen: "the CORS policy allows any origin (\"*\") with credentials",
					Fix:  "list the exact trusted origins in cors.Config.AllowedOrigins"})
			case o == "null":
				out = append(out, Finding{ID: "CORS003", Severity: Blocker,
					Seen: "the CORS policy trusts the \"null\" origin (sandboxed iframes, file: pages)",
					Fix:  "remove \"null\" from the allowed origins"})
			case strings.Contains(o, "*") && o != "*" && !isSubdomainWildcard(o):
				out = append(out, Finding{ID: "CORS002", Severity: Blocker,
					Seen: fmt.Sprintf("the CORS policy allows the over-broad pattern %q", o),
					Fix:  "list exact origins"})
			case isSubdomainWildcard(o) && p.AllowCredentials():
				// cors.New's own words: with credentials, any one subdomain
				// taken over (a dangling CNAME, a user-content host) can
				// read the API as the signed-in user.
				out = append(out, Finding{ID: "CORS005", Severity: Blocker, ProductionOnly: true,
					Seen: fmt.Sprintf("the CORS policy trusts every subdomain with credentials: %q; any one subdomain taken over can read the API with the user's cookies", o),
					Fix:  "list the exact subdomains and drop InsecureAllowWildcardSubdomains (or AllowCredentials)"})
			case isSubdomainWildcard(o):
				out = append(out, Finding{ID: "CORS005", Severity: Warning,
					Seen: fmt.Sprintf("the CORS policy trusts every subdomain: %q", o),
					Fix:  "list the exact subdomains and drop InsecureAllowWildcardSubdomains"})
			}
			if strings.HasPrefix(o, "http://") {
				out = append(out, Finding{ID: "CORS004", Severity: Blocker, ProductionOnly: true,
					Seen: fmt.Sprintf("the CORS policy trusts the plain-http origin %q", o),
					Fix:  "use https origins and drop cors.Config.InsecureAllowHTTP in production"})
			}
		}
		if po := p.PublicOrigin(); strings.HasPrefix(po, "http://") {
			out = append(out, Finding{ID: "CORS004", Severity: Blocker, ProductionOnly: true,
				Seen: fmt.Sprintf("the public origin is plain http: %q", po),
				Fix:  "serve the portal over https and set cors.Config.PublicOrigin to its https origin"})
		}
		if p.HasOriginFunc() {
			out = append(out, Finding{ID: "CORS002", Severity: Warning,
				Seen: "origins are decided by cors.Config.AllowOriginFunc, which cannot be verified statically",
				Fix:  "prefer an explicit AllowedOrigins list; keep probe.CORSProbe (readiness/probe) in the app's tests to catch reflection"})
		}
	}
	return out
}

func isSubdomainWildcard(o string) bool {
	_, host, ok := strings.Cut(o, "://*.")
	return ok && !strings.Contains(host, "*") && strings.Contains(host, ".")
}

type crossOriginProtector interface{ CrossOriginProtected() bool }

func protectsCrossOrigin(chain []http.Handler) bool {
	for _, p := range FindAll[crossOriginProtector](chain) {
		if p.CrossOriginProtected() {
			return true
		}
	}
	return false
}

type cookieNamer interface{ CookieName() string }

// usesCookies reports whether a handler in chain is a cookie (session)
// middleware; see the file comment.
func usesCookies(chain []http.Handler) bool {
	for _, h := range chain {
		if c, ok := h.(cookieNamer); ok && c.CookieName() != "" {
			return true
		}
		m := reflect.ValueOf(h).MethodByName("Settings")
		if !m.IsValid() || m.Type().NumIn() != 0 || m.Type().NumOut() != 1 {
			continue
		}
		t := m.Type().Out(0)
		if t.Kind() != reflect.Struct {
			continue
		}
		if f, ok := t.FieldByName("CookieName"); !ok || f.Type.Kind() != reflect.String {
			continue
		}
		if m.Call(nil)[0].FieldByName("CookieName").String() != "" {
			return true
		}
	}
	return false
}

func checkCSRF(_ context.Context, in *Inspection) []Finding {
	var out []Finding
	for _, p := range corsPolicies(in) {
		for _, b := range p.BypassPatterns() {
			out = append(out, Finding{ID: "CORS006", Severity: Warning, Route: b,
				Seen: fmt.Sprintf("cross-origin (CSRF) protection is bypassed for %q (InsecureBypassPattern)", b),
				Fix:  "keep bypasses to endpoints that authenticate without cookies (signed webhooks)"})
		}
	}
	globalCookies := usesCookies(in.Chain)
	globalCSRF := protectsCrossOrigin(in.Chain)
	if in.Inventory == nil {
		if globalCookies && !globalCSRF {
			out = append(out, Finding{ID: "CORS006", Severity: Blocker,
				Seen: "the app uses session cookies but no cross-origin (CSRF) protection is in the handler chain",
				Fix:  "wrap the router with cors.Policy.Handler"})
		}
		return out
	}
	for _, r := range in.Routes {
		if !r.Mutating() || !(globalCookies || usesCookies(r.Chain)) || globalCSRF || protectsCrossOrigin(r.Chain) {
			continue
		}
		out = append(out, Finding{ID: "CORS006", Severity: Blocker, Route: r.Pattern,
			Seen: "cookie-authenticated mutating route without cross-origin (CSRF) protection",
			Fix:  "wrap the router (or this route) with cors.Policy.Handler, which runs net/http.CrossOriginProtection"})
	}
	return out
}

type securityHeaderer interface{ SecurityHeaders() http.Header }

func checkSecurityHeaders(_ context.Context, in *Inspection) []Finding {
	sh, ok := Find[securityHeaderer](in.Chain)
	if !ok && in.Inventory == nil {
		// Not walkable to a route inventory: AUTH001 blocks already, and
		// nothing can be said about what the unwalkable part sets.
		return nil
	}
	if !ok {
		return []Finding{{ID: "CORS007", Severity: Blocker,
			Seen: "no security-headers middleware in the server's handler chain (HSTS, nosniff, CSP frame-ancestors, Referrer-Policy)",
			Fix:  "wrap the server handler with cors.NewHeaders(cors.HeadersConfig{}).Handler"}}
	}
	return SecurityHeaderFindings(sh.SecurityHeaders())
}

// SecurityHeaderFindings grades the security headers of one response with
// the CORS007 rules, the same rules cors.NewHeaders is built to pass:
// Strict-Transport-Security with a max-age of at least one year (a
// production-only blocker), X-Content-Type-Options nosniff, a
// Content-Security-Policy frame-ancestors directive (or X-Frame-Options),
// a Referrer-Policy, and no X-XSS-Protection "1" (blockers), and
// Cross-Origin-Opener-Policy / Cross-Origin-Resource-Policy (a warning).
// The in-process check applies it to the headers middleware's settings;
// the launchready command applies it to what a deployed server really sent.
func SecurityHeaderFindings(h http.Header) []Finding {
	var out []Finding
	if hsts := h.Get("Strict-Transport-Security"); hstsMaxAge(hsts) < 31536000 {
		seen := "no Strict-Transport-Security header"
		if hsts != "" {
			seen = fmt.Sprintf("Strict-Transport-Security %q is shorter than one year", hsts)
		}
		out = append(out, Finding{ID: "CORS007", Severity: Blocker, ProductionOnly: true, Seen: seen,
			Fix: "send Strict-Transport-Security with max-age of at least 31536000 on every HTTPS response (cors.NewHeaders does; drop HeadersConfig.InsecureNoHSTS in production)"})
	}
	var missing []string
	if !strings.EqualFold(strings.TrimSpace(h.Get("X-Content-Type-Options")), "nosniff") {
		missing = append(missing, "X-Content-Type-Options: nosniff")
	}
	if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors") && h.Get("X-Frame-Options") == "" {
		missing = append(missing, "Content-Security-Policy frame-ancestors")
	}
	if h.Get("Referrer-Policy") == "" {
		missing = append(missing, "Referrer-Policy")
	}
	if strings.HasPrefix(strings.TrimSpace(h.Get("X-XSS-Protection")), "1") {
		missing = append(missing, "X-XSS-Protection must be 0 or absent")
	}
	if len(missing) > 0 {
		out = append(out, Finding{ID: "CORS007", Severity: Blocker,
			Seen: "security headers missing or wrong: " + strings.Join(missing, ", "),
			Fix:  "use cors.NewHeaders with a preset"})
	}
	var isolation []string
	if h.Get("Cross-Origin-Opener-Policy") == "" {
		isolation = append(isolation, "Cross-Origin-Opener-Policy")
	}
	if h.Get("Cross-Origin-Resource-Policy") == "" {
		isolation = append(isolation, "Cross-Origin-Resource-Policy")
	}
	if len(isolation) > 0 {
		out = append(out, Finding{ID: "CORS007", Severity: Warning,
			Seen: "cross-origin isolation headers missing: " + strings.Join(isolation, ", ") + " (other sites can hold a window reference or embed responses)",
			Fix:  "send Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Resource-Policy: same-origin (cors.NewHeaders does)"})
	}
	for i := range out {
		out[i].Item = ItemCORS
	}
	return out
}

func hstsMaxAge(v string) int64 {
	for _, part := range strings.Split(v, ";") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && strings.EqualFold(k, "max-age") {
			n, err := strconv.ParseInt(strings.Trim(val, `"`), 10, 64)
			if err == nil {
				return n
			}
		}
	}
	return 0
}
