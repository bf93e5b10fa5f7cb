package probe

import (
	"context"
	"fmt"
	"github.com/launchready/launchready/readiness"
	"net/http"
	"strings"
)

// CORSProbe is the CORS008 probe for the app's tests: it sends preflights
// and credentialed requests from untrusted origins — "null", an unrelated
// site, and look-alikes of every trusted origin (for
// https://portal.example.com: https://portal.example.com.evil.test and
// https://evilportal.example.com) — through Target.Server.Handler, and
// reports CORS008 for every CORS grant one of them receives. It also sends a
// cross-site request (Sec-Fetch-Site: cross-site, form content type) with
// each mutating route's method and reports CORS006 when it is answered with a 2xx or 3xx
// instead of being refused.
//
// A request refused before the CORS and cross-origin layers could judge it
// (Host allowlist, rate limit) tests nothing; a cross-site request the
// route's policy refused shows nothing about CSRF protection (sign in with
// Account to test it on protected routes). Such routes are reported as not
// exercised (PROBE001).
//
// It executes real handlers: put it in Target.Checks only in tests
// (readiness.Require); Gate refuses it.
type CORSProbe struct {
	// Client sends the requests. Nil: a zero Client.
	Client *Client
	// Account names the Client.Accounts entry the cross-site requests are
	// sent as, so protected mutating routes test CSRF protection rather
	// than the route's policy. Empty: anonymous.
	Account string
	// Paths are the request paths to probe. Empty: the inventory's GET
	// routes (wildcards filled with "1"), or "/" without an inventory.
	Paths []string
	// Origins are extra untrusted origins to try.
	Origins []string
}

// Name implements readiness.Check.
func (CORSProbe) Name() string { return "cors probe" }

// readiness.ProbeOnly marks the probe as test-only.
func (CORSProbe) ProbeOnly() {}

// maxProbeRoutes bounds the requests a probe sends per kind.
const maxProbeRoutes = 32

// Run implements readiness.Check.
func (p CORSProbe) Run(ctx context.Context, in *readiness.Inspection) []readiness.Finding {
	b := p.Client.bind(in, p.Name())
	if b.h == nil {
		return nil
	}
	defer b.record()
	evil := probeOrigins(in, p.Origins)

	type target struct{ path, route, method string }
	var gets, posts []target
	for _, r := range in.Routes {
		path, _ := fill(r.Path, nil, b.c.Values)
		switch {
		case r.Method == http.MethodGet && len(gets) < maxProbeRoutes:
			gets = append(gets, target{path, r.Pattern, r.Method})
		case r.Mutating() && len(posts) < maxProbeRoutes:
			m := r.Method
			if m == "" {
				m = http.MethodPost
			}
			posts = append(posts, target{path, r.Pattern, m})
		}
	}
	if len(p.Paths) > 0 {
		gets = gets[:0]
		for _, s := range p.Paths {
			gets = append(gets, target{s, "", http.MethodGet})
		}
	}
	if len(gets) == 0 {
		gets = []target{{"/", "", http.MethodGet}}
	}
	var sess *Session
	if p.Account != "" {
		var err error
		if sess, err = b.c.signIn(ctx, b, p.Account); err != nil {
			return []readiness.Finding{{ID: "PROBE001", Severity: readiness.Blocker, Item: readiness.ItemCORS,
				Seen: "the CORS probe could not sign in: " + err.Error() + "; CORS006 and CORS008 were not verified",
				Fix:  "set Client.Login and Client.Accounts[CORSProbe.Account] to working test credentials"}}
		}
	}

	var out []readiness.Finding
	reported := map[string]bool{}
	// frontRefusal: the request never got to the layers under test.
	frontRefusal := func(res *Response) bool {
		return res.Status == http.StatusMisdirectedRequest || res.Status == http.StatusTooManyRequests
	}
	granted := func(res *Response, origin string) bool {
		acao := res.Header.Get("Access-Control-Allow-Origin")
		return acao == origin || acao == "*" && res.Header.Get("Access-Control-Allow-Credentials") == "true"
	}
	exercisedGets := 0
	for _, t := range gets {
		for _, o := range evil {
			if ctx.Err() != nil {
				return out
			}
			route := t.route
			if route == "" {
				route = "GET " + t.path
			}
			for _, k := range []struct {
				kind string
				rq   Request
			}{
				{"preflight", Request{Method: http.MethodOptions, Target: t.path, Route: route, Header: http.Header{
					"Origin": {o}, "Access-Control-Request-Method": {http.MethodPost}, "Access-Control-Request-Headers": {"content-type"},
					"Sec-Fetch-Mode": {"cors"}, "Sec-Fetch-Site": {"cross-site"}}}},
				{"credentialed GET", Request{Method: http.MethodGet, Target: t.path, Route: route, Header: http.Header{
					"Origin": {o}, "Cookie": {"probe=1"}, "Sec-Fetch-Mode": {"cors"}, "Sec-Fetch-Site": {"cross-site"}}}},
			} {
				res := b.do(ctx, k.rq, nil)
				if frontRefusal(res) {
					continue
				}
				exercisedGets++
				if granted(res, o) && !reported[o+k.kind] {
					reported[o+k.kind] = true
					out = append(out, readiness.Finding{ID: "CORS008", Severity: readiness.Blocker, Route: t.route,
						Seen: fmt.Sprintf("a %s from the untrusted origin %q to %s received Access-Control-Allow-Origin %q", k.kind, o, t.path, res.Header.Get("Access-Control-Allow-Origin")),
						Fix:  "list only exact trusted origins in cors.Config.AllowedOrigins; never reflect the Origin header"})
				}
			}
		}
	}
	if exercisedGets == 0 {
		out = append(out, b.notExercised(readiness.ItemCORS, gets[0].route, "CORS008 (no untrusted origin request got past the layers in front of CORS)"))
	}
	for _, t := range posts {
		if ctx.Err() != nil {
			return out
		}
		res := b.do(ctx, Request{Method: t.method, Target: t.path, Route: t.route, Body: "probe=1",
			ContentType: "application/x-www-form-urlencoded", Header: http.Header{
				"Origin": {"https://evil.test"}, "Sec-Fetch-Site": {"cross-site"}, "Sec-Fetch-Mode": {"navigate"}, "Cookie": {"probe=1"}}}, sess)
		switch {
		case res.Status < 400:
			out = append(out, readiness.Finding{ID: "CORS006", Severity: readiness.Blocker, Route: t.route,
				Seen: fmt.Sprintf("a cross-site %s to %s was answered %d instead of being refused", t.method, t.path, res.Status),
				Fix:  "wrap the router with cors.Policy.Handler (net/http.CrossOriginProtection)"})
		case frontRefusal(res):
			out = append(out, b.notExercised(readiness.ItemCORS, t.route, "CORS006 (cross-site request refusal)"))
		case res.Decided && res.Layer != "" && strings.HasPrefix(res.Layer, "authorization"):
			// The cross-origin layer let it through and the policy refused
			// it: with cookie auth, a signed-in victim's browser would not
			// be refused. Known only when the probe signs in.
			if sess == nil {
				continue // anonymous: the policy refusal is expected; nothing shown
			}
			out = append(out, b.notExercised(readiness.ItemCORS, t.route, "CORS006 (the signed-in cross-site request was refused by the route's policy, not by cross-origin protection)"))
		}
	}
	return out
}

// probeOrigins returns the untrusted origins to try: null, an unrelated
// site, look-alikes of every trusted origin, and extra.
func probeOrigins(in *readiness.Inspection, extra []string) []string {
	bases := []string{"https://portal.example.com"}
	for _, p := range corsPolicies(in) {
		for _, o := range p.AllowedOrigins() {
			if o != "*" {
				bases = append(bases, strings.Replace(o, "://*.", "://", 1))
			}
		}
		if po := p.PublicOrigin(); po != "" {
			bases = append(bases, po)
		}
	}
	out := []string{"null", "https://evil.test"}
	seen := map[string]bool{}
	for _, b := range bases {
		scheme, host, ok := strings.Cut(b, "://")
		if !ok {
			continue
		}
		name, port, _ := strings.Cut(host, ":")
		if port != "" {
			port = ":" + port
		}
		for _, o := range []string{scheme + "://" + name + ".evil.test" + port, scheme + "://evil" + name + port} {
			if !seen[o] {
				seen[o] = true
				out = append(out, o)
			}
		}
	}
	return append(out, extra...)
}
