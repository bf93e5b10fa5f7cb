package readiness

import (
	"context"
	"fmt"
	"strings"

	"github.com/launchready/launchready/ratelimit"
)

func init() { registerBuiltin("ratelimit", checkRateLimits) }

// rateRouteKind recognises a route that needs a limit by its path: login
// and password reset (mutating methods only), upload (mutating) and export.
func rateRouteKind(rt Route) (ratelimit.Kind, bool) {
	p := strings.ToLower(rt.Path)
	segs := strings.FieldsFunc(p, func(r rune) bool { return r == '/' })
	has := func(words ...string) bool {
		for _, s := range segs {
			if strings.HasPrefix(s, "{") {
				continue
			}
			for _, w := range words {
				if strings.Contains(s, w) {
					return true
				}
			}
		}
		return false
	}
	is := func(words ...string) bool {
		for _, s := range segs {
			for _, w := range words {
				if s == w {
					return true
				}
			}
		}
		return false
	}
	switch {
	case rt.Mutating() && (has("reset", "forgot", "recover") && (has("password", "passwd", "pwd") || has("forgot", "reset-password", "password-reset"))):
		return ratelimit.KindPasswordReset, true
	case rt.Mutating() && has("login", "signin", "sign-in", "sign_in", "logon", "authenticate"),
		rt.Method == "POST" && is("session", "sessions", "token"):
		return ratelimit.KindLogin, true
	case rt.Mutating() && has("upload"):
		return ratelimit.KindUpload, true
	case has("export"):
		return ratelimit.KindExport, true
	}
	return 0, false
}

var rateMissingID = map[ratelimit.Kind]string{
	ratelimit.KindLogin:         "RATE001",
	ratelimit.KindPasswordReset: "RATE002",
	ratelimit.KindUpload:        "RATE003",
	ratelimit.KindExport:        "RATE003",
}

func checkRateLimits(_ context.Context, in *Inspection) []Finding {
	var out []Finding
	global := FindAll[*ratelimit.Handler](in.Chain)
	seen := map[*ratelimit.Handler]bool{}
	for _, h := range global {
		seen[h] = true
		out = append(out, rateHandlerFindings(in, h, "")...)
	}
	for _, rt := range in.Routes {
		local := FindAll[*ratelimit.Handler](rt.Chain)
		if kind, ok := rateRouteKind(rt); ok && len(local) == 0 && len(global) == 0 {
			out = append(out, Finding{
				ID: rateMissingID[kind], Severity: Blocker, Item: ItemRateLimit, Route: rt.Pattern,
				Seen: fmt.Sprintf("%s route %q has no rate limit in its chain", kind, rt.Pattern),
				Fix:  fmt.Sprintf("wrap the handler: limits.%s(h, ratelimit.ByIP()%s)", rateCtor(kind), rateAccountHint(kind)),
			})
		}
		if kind, ok := rateRouteKind(rt); ok && kind == ratelimit.KindLogin && len(local)+len(global) > 0 {
			out = append(out, rateLoginKeys(rt, append(append([]*ratelimit.Handler(nil), global...), local...))...)
		}
		for _, h := range local {
			if seen[h] {
				continue // one handler value mounted on several routes is reported once
			}
			seen[h] = true
			out = append(out, rateHandlerFindings(in, h, rt.Pattern)...)
		}
	}
	return out
}

// rateLoginKeys is RATE009: a login route needs a limit keyed by the
// client IP (one address spraying many accounts) and one keyed by the
// account (many addresses on one account). Either alone leaves the other
// attack unbounded.
func rateLoginKeys(rt Route, limits []*ratelimit.Handler) []Finding {
	has := map[ratelimit.KeyKind]bool{}
	for _, h := range limits {
		for _, k := range h.KeyKinds() {
			has[k] = true
		}
	}
	var missing []string
	if !has[ratelimit.KeyIP] {
		missing = append(missing, "the client IP (one address spraying passwords across many accounts is unbounded)")
	}
	if !has[ratelimit.KeyAccount] {
		missing = append(missing, "the account (a botnet of addresses guessing one account's password is unbounded)")
	}
	if len(missing) == 0 {
		return nil
	}
	return []Finding{{
		ID: "RATE009", Severity: Blocker, Item: ItemRateLimit, Route: rt.Pattern,
		Seen: "the login route's limits are not keyed by " + strings.Join(missing, ", nor by "),
		Fix:  "limit login by both: limits.Login(h, ratelimit.ByIP(), ratelimit.ByAccount(accountOf)), plus limits.Failures(h, accountOf) for failed attempts",
	}}
}

func rateCtor(k ratelimit.Kind) string {
	switch k {
	case ratelimit.KindLogin:
		return "Login"
	case ratelimit.KindPasswordReset:
		return "PasswordReset"
	case ratelimit.KindUpload:
		return "Upload"
	}
	return "Export"
}

func rateAccountHint(k ratelimit.Kind) string {
	switch k {
	case ratelimit.KindLogin, ratelimit.KindPasswordReset:
		return ", ratelimit.ByAccount(accountOf)"
	}
	return ", ratelimit.ByPrincipal(principalOf)"
}

func rateHandlerFindings(in *Inspection, h *ratelimit.Handler, route string) []Finding {
	var out []Finding
	p := h.Policy()
	if preset, ok := ratelimit.PresetPolicy(h.Kind()); ok && (p.Burst > preset.Burst || p.Rate > preset.Rate) {
		out = append(out, Finding{
			ID: "RATE004", Severity: Warning, Item: ItemRateLimit, Route: route,
			Seen: fmt.Sprintf("%s limit %q allows burst %d at %.4g/s; the default is burst %d at %.4g/s", h.Kind(), p.Name, p.Burst, float64(p.Rate), preset.Burst, float64(preset.Rate)),
			Fix:  fmt.Sprintf("use limits.%s with the default policy, or accept RATE004 with the reason for the looser limit", rateCtor(h.Kind())),
		})
	}
	if h.TrustsAnyPeer() {
		out = append(out, Finding{
			ID: "RATE005", Severity: Blocker, Item: ItemRateLimit, Route: route,
			Seen: fmt.Sprintf("limit %q reads the client IP from %s sent by any peer (InsecureTrustAnyPeer)", p.Name, h.ForwardedHeader()),
			Fix:  "list the load balancer's addresses in Config.TrustedProxies and drop InsecureTrustAnyPeer, so a client reaching the app directly cannot choose its key",
		})
	}
	if !h.StoreShared() && in.Replicas() > 1 {
		out = append(out, Finding{
			ID: "RATE006", Severity: Blocker, Item: ItemRateLimit, Route: route,
			Seen: fmt.Sprintf("limit %q uses the %s store with %d replicas: each replica counts alone, so the limit is %d× looser", p.Name, h.StoreKind(), in.Replicas(), in.Replicas()),
			Fix:  "give the limiter a shared store (ratelimit/redisstore) in Config.Store, or declare one replica",
		})
	}
	if h.Kind().Auth() && h.FailMode() == ratelimit.FailOpen {
		out = append(out, Finding{
			ID: "RATE008", Severity: Warning, Item: ItemRateLimit, Route: route,
			Seen: fmt.Sprintf("%s limit %q lets requests through unlimited when its store fails", h.Kind(), p.Name),
			Fix:  "leave Config.FailMode at FailDefault (fail closed on auth routes), or accept RATE008 with the reason",
		})
	}
	return out
}
