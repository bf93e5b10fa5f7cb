package readiness

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
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
// It executes real handlers: put it in Target.Checks only in tests
// (readiness.Require); Gate refuses it.
type CORSProbe struct {
	// Paths are the request paths to probe. Empty: the inventory's GET
	// routes (wildcards filled with "1"), or "/" without an inventory.
	Paths []string
	// Origins are extra untrusted origins to try.
	Origins []string
}

// Name implements Check.
func (CORSProbe) Name() string { return "cors probe" }

// ProbeOnly marks the probe as test-only.
func (CORSProbe) ProbeOnly() {}

// maxProbeRoutes bounds the requests a probe sends per kind.
const maxProbeRoutes = 32

// Run implements Check.
func (p CORSProbe) Run(ctx context.Context, in *Inspection) []Finding {
	if in.Target.Server == nil || in.Target.Server.Handler == nil {
		return nil
	}
	h := in.Target.Server.Handler
	host := "portal.example.com"
	if len(in.Target.AllowedHosts) > 0 {
		host = in.Target.AllowedHosts[0]
	}
	evil := probeOrigins(in, p.Origins)

	type target struct{ path, route, method string }
	var gets, posts []target
	for _, r := range in.Routes {
		path := fillWildcards(r.Path)
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

	var out []Finding
	reported := map[string]bool{}
	send := func(r *http.Request) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	granted := func(rec *httptest.ResponseRecorder, origin string) bool {
		acao := rec.Header().Get("Access-Control-Allow-Origin")
		return acao == origin || acao == "*" && rec.Header().Get("Access-Control-Allow-Credentials") == "true"
	}
	for _, t := range gets {
		for _, o := range evil {
			if ctx.Err() != nil {
				return out
			}
			url := "https://" + host + t.path
			pre := httptest.NewRequestWithContext(ctx, http.MethodOptions, url, nil)
			pre.Header.Set("Origin", o)
			pre.Header.Set("Access-Control-Request-Method", http.MethodPost)
			pre.Header.Set("Access-Control-Request-Headers", "content-type")
			pre.Header.Set("Sec-Fetch-Mode", "cors")
			pre.Header.Set("Sec-Fetch-Site", "cross-site")
			cred := httptest.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			cred.Header.Set("Origin", o)
			cred.Header.Set("Cookie", "probe=1")
			cred.Header.Set("Sec-Fetch-Mode", "cors")
			cred.Header.Set("Sec-Fetch-Site", "cross-site")
			for _, k := range []struct {
				kind string
				r    *http.Request
			}{{"preflight", pre}, {"credentialed GET", cred}} {
				kind := k.kind
				if rec := send(k.r); granted(rec, o) && !reported[o+kind] {
					reported[o+kind] = true
					out = append(out, Finding{ID: "CORS008", Severity: Blocker, Route: t.route,
						Seen: fmt.Sprintf("a %s from the untrusted origin %q to %s received Access-Control-Allow-Origin %q", kind, o, t.path, rec.Header().Get("Access-Control-Allow-Origin")),
						Fix:  "list only exact trusted origins in cors.Config.AllowedOrigins; never reflect the Origin header"})
				}
			}
		}
	}
	for _, t := range posts {
		if ctx.Err() != nil {
			return out
		}
		r := httptest.NewRequestWithContext(ctx, t.method, "https://"+host+t.path, strings.NewReader("probe=1"))
		r.Header.Set("Origin", "https://evil.test")
		r.Header.Set("Sec-Fetch-Site", "cross-site")
		r.Header.Set("Sec-Fetch-Mode", "navigate")
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Cookie", "probe=1")
		if rec := send(r); rec.Code < 400 {
			out = append(out, Finding{ID: "CORS006", Severity: Blocker, Route: t.route,
				Seen: fmt.Sprintf("a cross-site %s to %s was answered %d instead of being refused", t.method, t.path, rec.Code),
				Fix:  "wrap the router with cors.Policy.Handler (net/http.CrossOriginProtection)"})
		}
	}
	return out
}

// probeOrigins returns the untrusted origins to try: null, an unrelated
// site, look-alikes of every trusted origin, and extra.
func probeOrigins(in *Inspection, extra []string) []string {
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

func fillWildcards(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			segs[i] = "1"
		}
	}
	return strings.Join(segs, "/")
}
