package edge

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"golang.org/x/net/html"

	"github.com/launchready/launchready/readiness"
)

// InsecureRef is one http:// subresource of a page.
type InsecureRef struct {
	Tag, Attr, URL string
	// Active content (scripts, styles, frames, plugins, form targets) is
	// blocked by browsers and can rewrite the page; passive content
	// (images, media) loads with a warning and can be swapped in transit.
	Active bool
}

// subresourceAttrs are the attributes that load or send to a URL, by tag,
// with whether the content is active.
var subresourceAttrs = map[string]struct {
	attrs  []string
	active bool
}{
	"script": {[]string{"src"}, true},
	"iframe": {[]string{"src"}, true},
	"frame":  {[]string{"src"}, true},
	"object": {[]string{"data"}, true},
	"embed":  {[]string{"src"}, true},
	"form":   {[]string{"action"}, true},
	"button": {[]string{"formaction"}, true},
	"input":  {[]string{"formaction", "src"}, false},
	"img":    {[]string{"src", "srcset"}, false},
	"source": {[]string{"src", "srcset"}, false},
	"video":  {[]string{"src", "poster"}, false},
	"audio":  {[]string{"src"}, false},
	"track":  {[]string{"src"}, false},
}

// MixedContent returns the http:// subresources of an HTML page: what an
// HTTPS page must not load or post to. Links (<a href>) are navigation,
// not subresources, and are not reported; <link> counts for stylesheets,
// preloads, icons and manifests. It never fails: html.Parse accepts any
// input, as browsers do.
func MixedContent(page []byte) []InsecureRef {
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		return nil
	}
	var out []InsecureRef
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			out = append(out, nodeRefs(n)...)
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			walk(ch)
		}
	}
	walk(doc)
	return out
}

func nodeRefs(n *html.Node) []InsecureRef {
	attr := func(name string) string {
		for _, a := range n.Attr {
			if a.Namespace == "" && a.Key == name {
				return a.Val
			}
		}
		return ""
	}
	var out []InsecureRef
	check := func(name, val string, active bool) {
		for _, u := range candidateURLs(name, val) {
			if isHTTP(u) {
				out = append(out, InsecureRef{Tag: n.Data, Attr: name, URL: u, Active: active})
			}
		}
	}
	if n.Namespace == "svg" {
		for _, a := range n.Attr {
			if a.Key == "href" && (a.Namespace == "" || a.Namespace == "xlink") {
				switch n.Data {
				case "script", "use":
					check("href", a.Val, true)
				case "image", "feImage":
					check("href", a.Val, false)
				}
			}
		}
		return out
	}
	if n.Data == "link" {
		rel := strings.ToLower(attr("rel"))
		for _, r := range strings.Fields(rel) {
			switch r {
			case "stylesheet", "preload", "modulepreload", "prefetch", "import":
				check("href", attr("href"), true)
				return out
			case "icon", "manifest", "apple-touch-icon":
				check("href", attr("href"), false)
				return out
			}
		}
		return out
	}
	if spec, ok := subresourceAttrs[n.Data]; ok {
		for _, a := range spec.attrs {
			check(a, attr(a), spec.active)
		}
	}
	return out
}

// candidateURLs splits a srcset into its URLs; other attributes are one URL.
func candidateURLs(attr, val string) []string {
	if attr != "srcset" {
		return []string{strings.TrimSpace(val)}
	}
	var out []string
	for _, part := range strings.Split(val, ",") {
		if f := strings.Fields(part); len(f) > 0 {
			out = append(out, f[0])
		}
	}
	return out
}

func isHTTP(u string) bool {
	return len(u) >= 7 && strings.EqualFold(u[:7], "http://")
}

// checkMixedContent parses / and the login page (EDGE005).
func (s *scan) checkMixedContent(_ context.Context) {
	pages := []struct {
		path string
		res  *response
	}{{"/", s.root}}
	if s.loginPage != nil {
		pages = append(pages, struct {
			path string
			res  *response
		}{s.c.cfg.LoginPage, s.loginPage})
	}
	for _, p := range pages {
		if !strings.Contains(strings.ToLower(p.res.header.Get("Content-Type")), "html") {
			continue
		}
		upgrade := strings.Contains(p.res.header.Get("Content-Security-Policy"), "upgrade-insecure-requests")
		for _, r := range MixedContent(p.res.body) {
			sev, why := readiness.Warning, "passive mixed content: browsers load it with a warning, and anyone on the path can swap it"
			if r.Active && !upgrade {
				sev, why = readiness.Blocker, "active mixed content: browsers block it (the page breaks), and where loaded anyone on the path can rewrite the page or read what is posted"
			}
			if upgrade {
				why = "http:// reference (upgraded by the page's CSP upgrade-insecure-requests; fix the source anyway)"
			}
			f := finding("EDGE005", sev, fmt.Sprintf("<%s %s=%q>: %s", r.Tag, r.Attr, r.URL, why),
				"load every subresource over https (or same-origin relative URLs), and post forms to https")
			f.Route = "GET " + p.path
			s.add(f)
		}
	}
}
