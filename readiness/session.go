package readiness

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/launchready/launchready/session"
)

func init() {
	registerBuiltin("session settings", checkSessions)
}

// sessionHandlers returns the distinct session managers' handlers found in
// the global chain and every route's chain, with the route each was found
// on ("" for global middleware).
func sessionHandlers(in *Inspection) (hs []*session.Handler, routes []string) {
	seen := map[*session.Manager]bool{}
	add := func(chain []http.Handler, route string) {
		for _, h := range FindAll[*session.Handler](chain) {
			if !seen[h.Manager()] {
				seen[h.Manager()] = true
				hs = append(hs, h)
				routes = append(routes, route)
			}
		}
	}
	add(in.Chain, "")
	for _, r := range in.Routes {
		add(r.Chain, r.Pattern)
	}
	return hs, routes
}

func checkSessions(_ context.Context, in *Inspection) []Finding {
	hs, routes := sessionHandlers(in)
	var out []Finding
	for i, h := range hs {
		out = append(out, sessionSettingFindings(h.Settings(), routes[i], in.Replicas())...)
	}
	return out
}

func sessSameSiteWord(s http.SameSite) string {
	switch s {
	case http.SameSiteLaxMode:
		return "Lax"
	case http.SameSiteStrictMode:
		return "Strict"
	case http.SameSiteNoneMode:
		return "None"
	}
	return "unset"
}

func sessionSettingFindings(s session.Settings, route string, replicas int) []Finding {
	var out []Finding
	add := func(f Finding) {
		f.Item, f.Route = ItemSession, route
		out = append(out, f)
	}
	name := s.CookieName
	if !s.Secure {
		add(Finding{ID: "SESS001", Severity: Blocker, ProductionOnly: true,
			Seen: fmt.Sprintf("session cookie %q is sent without Secure, so it travels over plain http", name),
			Fix:  "drop session.Config.InsecurePlainHTTP in production and serve over HTTPS"})
	}
	if !s.HttpOnly {
		add(Finding{ID: "SESS002", Severity: Blocker,
			Seen: fmt.Sprintf("session cookie %q is readable by JavaScript (no HttpOnly)", name),
			Fix:  "set Cookie.HttpOnly back to true (session.New always does)"})
	}
	if s.SameSite != http.SameSiteLaxMode && s.SameSite != http.SameSiteStrictMode {
		add(Finding{ID: "SESS003", Severity: Blocker,
			Seen: fmt.Sprintf("session cookie %q has SameSite=%s, so cross-site requests carry it", name, sessSameSiteWord(s.SameSite)),
			Fix:  "use SameSite=Lax (the default) or Strict; drop session.Config.InsecureSameSiteNone"})
	}
	var tossing []string
	if !strings.HasPrefix(name, "__Host-") {
		tossing = append(tossing, fmt.Sprintf("cookie %q has no __Host- prefix", name))
	}
	if s.Domain != "" {
		tossing = append(tossing, fmt.Sprintf("cookie has Domain=%s, shared with every subdomain", s.Domain))
	}
	if s.Path != "/" && s.Path != "" {
		tossing = append(tossing, fmt.Sprintf("cookie has Path=%s", s.Path))
	}
	if len(tossing) > 0 {
		add(Finding{ID: "SESS004", Severity: Warning,
			Seen: strings.Join(tossing, "; ") + ": a sibling subdomain can set or overwrite it (cookie tossing)",
			Fix:  "leave session.Config.CookieName and Domain empty (cookie __Host-session, Path=/, no Domain)"})
	}
	switch idle := s.IdleTimeout; {
	case idle <= 0:
		add(Finding{ID: "SESS005", Severity: Blocker,
			Seen: "sessions have no idle timeout: an unattended browser stays signed in until the absolute lifetime",
			Fix:  "drop session.Config.InsecureNoIdleTimeout (default 30 minutes)"})
	case idle > 2*time.Hour:
		add(Finding{ID: "SESS005", Severity: Blocker,
			Seen: fmt.Sprintf("idle timeout is %v (over 2h)", idle),
			Fix:  "set session.Config.IdleTimeout to 30 minutes or less (0 means 30 minutes)"})
	case idle > 30*time.Minute:
		add(Finding{ID: "SESS005", Severity: Warning,
			Seen: fmt.Sprintf("idle timeout is %v (over 30m)", idle),
			Fix:  "set session.Config.IdleTimeout to 30 minutes or less (0 means 30 minutes)"})
	}
	switch life := s.Lifetime; {
	case life > 24*time.Hour:
		add(Finding{ID: "SESS006", Severity: Blocker,
			Seen: fmt.Sprintf("absolute session lifetime is %v (over 24h)", life),
			Fix:  "set session.Config.Lifetime to 12 hours or less (0 means 12 hours)"})
	case life > 12*time.Hour:
		add(Finding{ID: "SESS006", Severity: Warning,
			Seen: fmt.Sprintf("absolute session lifetime is %v (over 12h)", life),
			Fix:  "set session.Config.Lifetime to 12 hours or less (0 means 12 hours)"})
	}
	if !s.HashedTokens {
		add(Finding{ID: "SESS009", Severity: Warning,
			Seen: "session tokens are stored as they are: anyone who reads the store can replay every session",
			Fix:  "drop session.Config.InsecureRawTokensInStore (tokens are then stored as SHA-256 hashes; existing sessions end once)"})
	}
	if s.InMemoryStore && replicas > 1 {
		add(Finding{ID: "SESS010", Severity: Blocker,
			Seen: fmt.Sprintf("sessions live in process memory but %d replicas serve the app: users are signed out whenever the load balancer switches instance, and logout on one replica leaves the session alive on the others", replicas),
			Fix:  "set session.Config.Store to a shared store (scs redisstore, pgxstore…), or declare Replicas: 1"})
	}
	return out
}
