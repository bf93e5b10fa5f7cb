package readiness

import "sort"

// CheckInfo describes one check ID of the catalogue.
type CheckInfo struct {
	ID    string
	Item  Item
	Title string
}

// The check catalogue. IDs are stable once shipped: a check may change how
// it decides, never what its ID means. Checks live next to the part of the
// kit they inspect (auth.go, session.go, …); this list is the index.
var catalogue = map[string]CheckInfo{}

func init() {
	for _, c := range []CheckInfo{
		{"AUTH001", ItemAuth, "traffic reaches handlers outside the route inventory"},
		{"AUTH002", ItemAuth, "sensitive-looking route is public"},
		{"AUTH003", ItemAuth, "object route without an object-level check"},
		{"AUTH004", ItemAuth, "admin route not restricted to an admin role or permission"},
		{"AUTH005", ItemAuth, "protected route served an anonymous request"},
		{"AUTH006", ItemAuth, "low-privilege principal reached a route its role lacks"},
		{"AUTH007", ItemAuth, "principal of another tenant reached an object (BOLA)"},
		{"AUTH008", ItemAuth, "debug endpoints reachable without admin auth"},
		{"AUTH009", ItemAuth, "path tricks change the authorization outcome"},
		{"AUTH010", ItemAuth, "default or demo credentials active in production"},
		{"AUTH011", ItemAuth, "route inventory differs from the declared API"},
		{"AUTH012", ItemAuth, "subtree route dispatches to handlers outside the inventory"},
		{"AUTH013", ItemAuth, "admin route without MFA (blocker in production); staff or export route without MFA (warning)"},
		{"AUTH014", ItemAuth, "second factor not enforced: password-only session reached an MFA route, the factor did not let the user in, or a replayed code was accepted (probe)"},
		{"AUTH015", ItemAuth, "assessment: sensitive route on a router without policies (with its migration step)"},
		{"AUTH016", ItemAuth, "assessment: the router's routes could not be listed"},

		{"SESS001", ItemSession, "session cookie not Secure"},
		{"SESS002", ItemSession, "session cookie not HttpOnly"},
		{"SESS003", ItemSession, "session cookie SameSite None or unset"},
		{"SESS004", ItemSession, "session cookie without __Host- prefix, or with a Domain"},
		{"SESS005", ItemSession, "no idle timeout, or too long"},
		{"SESS006", ItemSession, "absolute session lifetime too long"},
		{"SESS007", ItemSession, "session token not renewed at login (fixation)"},
		{"SESS008", ItemSession, "logout does not invalidate the session server-side"},
		{"SESS009", ItemSession, "session tokens stored unhashed"},
		{"SESS010", ItemSession, "in-memory session store with more than one replica"},
		{"SESS011", ItemSession, "a password reset does not end the account's other sessions"},
		{"SESS012", ItemSession, "an older password-reset token still works after a newer one was issued or used"},

		{"SECRET001", ItemSecrets, "required secret missing"},
		{"SECRET002", ItemSecrets, "secret is a placeholder, published example, or too weak"},
		{"SECRET003", ItemSecrets, "secret in the working tree"},
		{"SECRET004", ItemSecrets, "secret in git history"},
		{"SECRET005", ItemSecrets, "secret in embedded build output"},
		{"SECRET006", ItemSecrets, ".env-style file tracked"},

		{"INPUT001", ItemInput, "mutating route without a declared body schema"},
		{"INPUT002", ItemInput, "request body size unlimited"},
		{"INPUT003", ItemInput, "unknown JSON fields accepted"},
		{"INPUT004", ItemInput, "path identifiers not validated"},
		{"INPUT005", ItemInput, "malformed, oversized or wrong-type body answered 2xx or 5xx"},
		{"INPUT006", ItemInput, "upload without size and type limits"},

		{"RATE001", ItemRateLimit, "login route without a rate limit"},
		{"RATE002", ItemRateLimit, "password-reset route without a rate limit"},
		{"RATE003", ItemRateLimit, "upload or export route without a rate limit"},
		{"RATE004", ItemRateLimit, "limits looser than the recommended defaults"},
		{"RATE005", ItemRateLimit, "client IP read from forwarding headers without trusted proxies"},
		{"RATE006", ItemRateLimit, "in-memory limiter with more than one replica"},
		{"RATE007", ItemRateLimit, "repeated login attempts never answered 429"},
		{"RATE008", ItemRateLimit, "limit store failure fails open on auth routes"},
		{"RATE009", ItemRateLimit, "login route lacks an IP-keyed or an account-keyed limit"},
		{"RATE010", ItemRateLimit, "one limit bucket shared by routes of different purposes"},
		{"RATE011", ItemRateLimit, "a case- or Unicode-folding variant of a locked account is not locked"},
		{"RATE012", ItemRateLimit, "login lockout device cookies signed with a per-process key across replicas"},

		{"CORS001", ItemCORS, "wildcard origin with credentials"},
		{"CORS002", ItemCORS, "any-origin reflection or over-broad origin pattern"},
		{"CORS003", ItemCORS, "null origin allowed"},
		{"CORS004", ItemCORS, "plain-http origin in production"},
		{"CORS005", ItemCORS, "wildcard subdomain origins"},
		{"CORS006", ItemCORS, "cookie-authenticated mutating routes without cross-origin (CSRF) protection"},
		{"CORS007", ItemCORS, "missing security headers"},
		{"CORS008", ItemCORS, "untrusted origin received a CORS grant"},
		{"CORS009", ItemCORS, "export or download route runs for a cross-site navigation"},
		{"CORS010", ItemCORS, "a cross-site navigation to an export route was served (probe)"},

		{"LOG001", ItemLogging, "app logger not redacting"},
		{"LOG002", ItemLogging, "canary secret reached the logs"},
		{"LOG003", ItemLogging, "access log records raw query strings or headers"},
		{"LOG004", ItemLogging, "debug log level in production"},
		{"LOG005", ItemLogging, "access-log lines dropped (queue full)"},

		{"EMAIL001", ItemEmail, "SPF record missing, duplicated or invalid"},
		{"EMAIL002", ItemEmail, "SPF does not pass for the sending service"},
		{"EMAIL003", ItemEmail, "SPF needs more than 10 DNS lookups"},
		{"EMAIL004", ItemEmail, "SPF ends in +all or ?all"},
		{"EMAIL005", ItemEmail, "DKIM selector missing, revoked or weak"},
		{"EMAIL006", ItemEmail, "DMARC missing or p=none"},
		{"EMAIL007", ItemEmail, "DMARC without reporting, or pct below 100"},
		{"EMAIL008", ItemEmail, "From domain cannot align with SPF or DKIM"},

		{"DEPLOY001", ItemDeploy, "binary without version and VCS revision"},
		{"DEPLOY002", ItemDeploy, "binary built from a modified tree"},
		{"DEPLOY003", ItemDeploy, "http.Server without hardened timeouts or header limit"},
		{"DEPLOY004", ItemDeploy, "no graceful shutdown"},
		{"DEPLOY005", ItemDeploy, "TLS below 1.2, or TLS 1.2 suites outside ECDHE with AES-GCM/ChaCha20 (CBC)"},
		{"DEPLOY006", ItemDeploy, "outbound http.Client without timeout, or http.DefaultClient"},
		{"DEPLOY007", ItemDeploy, "no Host allowlist, or outbound client without an SSRF guard"},
		{"DEPLOY008", ItemDeploy, "no rollback target declared (production); the report names the running and previous release"},
		{"DEPLOY009", ItemDeploy, "no verification flow declared for the deploy gate (production)"},

		{"MON001", ItemMonitoring, "no liveness or readiness endpoint"},
		{"MON002", ItemMonitoring, "panics not recovered and reported"},
		{"MON003", ItemMonitoring, "no 5xx, auth-failure or rate-limit counters"},
		{"MON004", ItemMonitoring, "health endpoint leaks internals to anonymous callers"},
		{"MON005", ItemMonitoring, "no synthetic flow covers login and a core workflow"},
		{"MON006", ItemMonitoring, "a declared synthetic flow failed against the app"},

		{"AUDIT001", ItemMonitoring, "mutating routes not covered by the audit trail"},
		{"AUDIT002", ItemMonitoring, "audit sink is only the app log"},
		{"AUDIT003", ItemMonitoring, "the audit sink's database role can UPDATE, DELETE or TRUNCATE the audit table"},
		{"AUDIT004", ItemMonitoring, "the audit trail's hash chain fails verification at boot"},
		{"AUDIT005", ItemMonitoring, "audit trail sits inside the CORS layer: refusals go unrecorded"},
		{"AUDIT006", ItemMonitoring, "audit records carry no client address"},

		// EDGE: what the launchready command sees of a deployed portal from
		// outside (cmd/launchready/edge); where the rule is the same as an
		// in-process check (DEPLOY005, CORS007, CORS008, SESS001–004,
		// AUTH008, MON001, MON004, EMAIL*), that check's ID is used instead.
		{"EDGE001", ItemDeploy, "TLS certificate chain not valid for the host"},
		{"EDGE002", ItemDeploy, "TLS certificate expired or expiring within 14 days"},
		{"EDGE003", ItemDeploy, "TLS details: protocol, suite, OCSP stapling"},
		{"EDGE004", ItemDeploy, "plain HTTP does not redirect to HTTPS on the same host before content"},
		{"EDGE005", ItemCORS, "mixed content: http:// subresources in an HTTPS page"},
		{"EDGE006", ItemSecrets, "secrets or source exposed (.env, .git, backup files)"},
		{"EDGE007", ItemDeploy, "server internals exposed (metrics, server-status, directory listing)"},
		{"EDGE008", ItemMonitoring, "health endpoint slow or failing"},
		{"EDGE009", ItemDeploy, "security.txt missing, invalid or expired"},
		{"EDGE010", ItemDeploy, "DNS: host does not resolve, or no CAA record"},
		{"EDGE011", ItemDeploy, "latency: p95 over 500 ms"},
		{"EDGE012", ItemDeploy, "an outside check could not run"},

		// PROBE001 is a blocker in every environment: a probe that reached
		// nothing has verified nothing. Its findings carry the item of the
		// claim that went unverified; the fix is in the probe's setup
		// (probe.Client: Host, Values, Login, Accounts).
		{"PROBE001", ItemDeploy, "a probe check was never exercised: its requests never reached what it tests"},

		{"CHECK000", ItemDeploy, "a check failed to run (panicked); its item is unverified"},
	} {
		catalogue[c.ID] = c
	}
}

// Catalogue returns every built-in check ID with its item and title, sorted
// by ID.
func Catalogue() []CheckInfo {
	out := make([]CheckInfo, 0, len(catalogue))
	for _, c := range catalogue {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Lookup returns the catalogue entry for id.
func Lookup(id string) (CheckInfo, bool) {
	c, ok := catalogue[id]
	return c, ok
}
