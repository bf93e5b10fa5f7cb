package edge

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/launchready/launchready/readiness"
)

// untrustedOrigins are the origins no portal should grant: "null", an
// unrelated site, look-alikes of the portal's own origin — the shapes
// probe.CORSProbe tries in-process (https://portal.example.com gives
// https://portal.example.com.evil.test and https://evilportal.example.com)
// — and the portal's plain-http twin.
func (c *Checker) untrustedOrigins() []string {
	port := portIfNot(c.port, "443")
	if port != "" {
		port = ":" + port
	}
	name := c.host
	if strings.Contains(name, ":") {
		name = "[" + name + "]"
	}
	return []string{
		"null",
		"https://evil.test",
		"https://" + name + ".evil.test" + port,
		"https://evil" + name + port,
		"http://" + name + port,
	}
}

// checkCORS sends a credentialed GET and an OPTIONS preflight from each
// untrusted origin to / and the API path; grants are CORS008, the
// in-process probe's ID, one finding per path and kind naming every
// origin that got one.
func (s *scan) checkCORS(ctx context.Context) {
	granted := func(res *response, origin string) bool {
		acao := res.header.Get("Access-Control-Allow-Origin")
		return acao == origin || acao == "*" && res.header.Get("Access-Control-Allow-Credentials") == "true"
	}
	for _, p := range []string{"/", s.c.cfg.APIPath} {
		for _, kind := range []string{"request", "preflight"} {
			var grants []string
			method := http.MethodGet
			if kind == "preflight" {
				method = http.MethodOptions
			}
			for _, o := range s.c.untrustedOrigins() {
				hdr := http.Header{"Origin": {o}}
				if kind == "preflight" {
					hdr.Set("Access-Control-Request-Method", http.MethodPost)
					hdr.Set("Access-Control-Request-Headers", "content-type")
				}
				res, err := s.c.do(ctx, s.client, method, s.c.url(p), hdr, nil)
				if err != nil {
					s.unverified(fmt.Sprintf("the CORS answer to a %s from %s", kind, o), err)
					return
				}
				if granted(res, o) {
					grants = append(grants, fmt.Sprintf("%q (Access-Control-Allow-Origin %q, credentials %q)",
						o, res.header.Get("Access-Control-Allow-Origin"), res.header.Get("Access-Control-Allow-Credentials")))
				}
			}
			if len(grants) == 0 {
				continue
			}
			f := finding("CORS008", readiness.Blocker,
				fmt.Sprintf("a %s to %s from untrusted origins received a CORS grant: %s", kind, p, strings.Join(grants, "; ")),
				"list only exact trusted origins (cors.Config.AllowedOrigins) at the app and any proxy or CDN that adds CORS headers; never reflect the Origin header")
			f.Route = method + " " + p
			s.add(f)
		}
	}
}
