package edge

import (
	"context"
	"fmt"
	"net/http"

	"github.com/launchready/launchready/readiness"
)

// untrustedOrigins are the origins no portal should grant: "null", an
// unrelated site, look-alikes of the portal's own origin (the same list
// shape as readiness.CORSProbe) and its plain-http twin.
func (c *Checker) untrustedOrigins() []string {
	hp := hostPort(c.host, portIfNot(c.port, "443"))
	return []string{
		"null",
		"https://evil.example",
		"https://" + hp + ".evil.example",
		"https://evil" + hp,
		"http://" + hp,
	}
}

// checkCORS sends a credentialed GET and an OPTIONS preflight from each
// untrusted origin to / and the API path; any grant is CORS008, the
// in-process probe's ID.
func (s *scan) checkCORS(ctx context.Context) {
	granted := func(res *response, origin string) bool {
		acao := res.header.Get("Access-Control-Allow-Origin")
		return acao == origin || acao == "*" && res.header.Get("Access-Control-Allow-Credentials") == "true"
	}
	reported := map[string]bool{}
	for _, p := range []string{"/", s.c.cfg.APIPath} {
		for _, o := range s.c.untrustedOrigins() {
			for _, kind := range []string{"request", "preflight"} {
				method, hdr := http.MethodGet, http.Header{"Origin": {o}}
				if kind == "preflight" {
					method = http.MethodOptions
					hdr.Set("Access-Control-Request-Method", http.MethodPost)
					hdr.Set("Access-Control-Request-Headers", "content-type")
				}
				res, err := s.c.do(ctx, s.client, method, s.c.url(p), hdr, nil)
				if err != nil {
					s.unverified(fmt.Sprintf("the CORS answer to a %s from %s", kind, o), err)
					return
				}
				if !granted(res, o) || reported[o+kind] {
					continue
				}
				reported[o+kind] = true
				f := finding("CORS008", readiness.Blocker,
					fmt.Sprintf("a %s from the untrusted origin %q to %s received Access-Control-Allow-Origin %q (credentials %q)",
						kind, o, p, res.header.Get("Access-Control-Allow-Origin"), res.header.Get("Access-Control-Allow-Credentials")),
					"list only exact trusted origins (cors.Config.AllowedOrigins) at the app and any proxy or CDN that adds CORS headers; never reflect the Origin header")
				f.Route = method + " " + p
				s.add(f)
			}
		}
	}
}
