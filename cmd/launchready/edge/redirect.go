package edge

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/launchready/launchready/readiness"
)

// checkRedirect: plain HTTP must answer 301 or 308 to the same host on
// HTTPS, before any content or cookie (EDGE004).
func (s *scan) checkRedirect(ctx context.Context) {
	c := s.c
	if c.cfg.SkipHTTP {
		s.add(finding("EDGE004", readiness.Info, "the plain-HTTP redirect was not checked (-http off)",
			"check it where port 80 is served: it must answer 301/308 to https on the same host"))
		return
	}
	route := "GET " + c.cfg.HTTPURL
	fix := "answer every plain-HTTP request with 301 (or 308) to https://" + hostPort(c.host, portIfNot(c.port, "443")) + " and the same path, at the load balancer, before the app serves anything"
	blocker := func(seen string) {
		f := finding("EDGE004", readiness.Blocker, seen, fix)
		f.Route, f.ProductionOnly = route, true
		s.add(f)
	}
	res, err := c.do(ctx, s.client, http.MethodGet, c.cfg.HTTPURL, nil, nil)
	if err != nil {
		f := finding("EDGE004", readiness.Warning,
			fmt.Sprintf("nothing answers plain HTTP at %s (%v): users who type the bare name get an error instead of the portal", c.cfg.HTTPURL, err), fix)
		f.Route = route
		s.add(f)
		return
	}
	if len(res.cookies) > 0 {
		blocker(fmt.Sprintf("the plain-HTTP answer sets the cookie %q, which then travels unencrypted", res.cookies[0].Name))
	}
	switch res.status {
	case http.StatusMovedPermanently, http.StatusPermanentRedirect, http.StatusFound, http.StatusTemporaryRedirect, http.StatusSeeOther:
	default:
		blocker(fmt.Sprintf("plain HTTP serves content (status %d, %d bytes) instead of redirecting to HTTPS", res.status, len(res.body)))
		return
	}
	from, _ := url.Parse(c.cfg.HTTPURL)
	loc, err := from.Parse(res.header.Get("Location"))
	if err != nil || res.header.Get("Location") == "" {
		blocker(fmt.Sprintf("plain HTTP answers %d without a usable Location header", res.status))
		return
	}
	if loc.Scheme != "https" || loc.Hostname() != c.host || portOr(loc.Port(), "443") != c.port {
		blocker(fmt.Sprintf("plain HTTP redirects to %s, not to https://%s on the same host", loc.Redacted(), hostPort(c.host, portIfNot(c.port, "443"))))
		return
	}
	if res.status != http.StatusMovedPermanently && res.status != http.StatusPermanentRedirect {
		f := finding("EDGE004", readiness.Warning,
			fmt.Sprintf("plain HTTP redirects to HTTPS with %d, a temporary redirect that browsers do not remember", res.status), fix)
		f.Route = route
		s.add(f)
	}
}

func portOr(p, def string) string {
	if p == "" {
		return def
	}
	return p
}

// portIfNot returns p, or "" when it is the scheme's default def.
func portIfNot(p, def string) string {
	if p == def {
		return ""
	}
	return p
}
