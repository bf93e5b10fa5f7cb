package edge

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"

	"github.com/launchready/launchready/readiness"
)

// An exposure is a path a deploy must not leave reachable and the content
// that proves it is really there. A 200 alone proves nothing: single-page
// apps answer 200 with their index for every path, so the body must match
// the signature and differ from the answer to a path that cannot exist.
type exposure struct {
	path  string
	id    string // check ID
	what  string
	match func(body []byte) bool
	fix   string
}

var (
	envLine    = regexp.MustCompile(`(?m)^\s*(export\s+)?[A-Za-z_][A-Za-z0-9_]*\s*=`)
	gitHead    = regexp.MustCompile(`^(ref: refs/|[0-9a-f]{40})`)
	gitConfig  = regexp.MustCompile(`(?m)^\s*\[(core|remote|branch)[\] "]`)
	promLine   = regexp.MustCompile(`(?m)^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* `)
	dirListing = regexp.MustCompile(`(?i)<title>\s*Index of /|<h1>\s*Index of /|^<!doctype html>\s*<meta name="viewport"[^>]*>\s*<pre>\s*<a href=|^<pre>\s*<a href="`)
)

func notHTML(b []byte) bool {
	t := bytes.TrimSpace(b)
	return len(t) > 0 && t[0] != '<'
}

func contains(subs ...string) func([]byte) bool {
	return func(b []byte) bool {
		for _, s := range subs {
			if bytes.Contains(b, []byte(s)) {
				return true
			}
		}
		return false
	}
}

const fixDeploy = "deploy only the build output (a binary or a dist/ directory), never the working tree; deny dotfiles at the proxy; then rotate any secret the file held"

var exposures = []exposure{
	{"/.env", "EDGE006", "an environment file", func(b []byte) bool { return notHTML(b) && envLine.Match(b) }, fixDeploy},
	{"/.git/HEAD", "EDGE006", "the git repository (HEAD)", func(b []byte) bool { return gitHead.Match(bytes.TrimSpace(b)) }, fixDeploy},
	{"/.git/config", "EDGE006", "the git repository (config)", func(b []byte) bool { return notHTML(b) && gitConfig.Match(b) }, fixDeploy},
	{"/debug/pprof/", "AUTH008", "Go's profiler (net/http/pprof)", contains("Types of profiles available", "/debug/pprof/goroutine", "goroutine?debug="),
		"do not import net/http/pprof in the public server; serve it on a separate admin listener bound to localhost"},
	{"/debug/vars", "AUTH008", "Go's expvar (memstats, command line)", func(b []byte) bool { return notHTML(b) && contains(`"memstats"`, `"cmdline"`)(b) },
		"do not import expvar in the public server, or serve http.DefaultServeMux only on a localhost admin listener"},
	{"/metrics", "EDGE007", "Prometheus metrics", func(b []byte) bool { return notHTML(b) && promLine.Match(b) },
		"serve metrics on a separate listener (monitor/prometheus) or require a bearer token; never on the public host"},
	{"/server-status", "EDGE007", "Apache mod_status", contains("Apache Server Status", "Server uptime:", "Total Accesses:"),
		"disable mod_status or restrict it to localhost (Require local)"},
}

// backupNames are editor and backup copies of the index; a 200 that is
// neither the fallback page nor / is the source or an old copy.
var backupNames = []string{"/index.html~", "/index.html.bak", "/index.html.old", "/.index.html.swp", "/index.php.bak", "/index.php~", "/backup.zip", "/site.tar.gz"}

// listingDirs are directories commonly left browsable.
var listingDirs = []string{"/static/", "/assets/", "/uploads/", "/files/", "/backup/"}

// checkExposures requests each known leak path once (EDGE006, EDGE007,
// AUTH008) and compares with the answer to a path that cannot exist.
func (s *scan) checkExposures(ctx context.Context) {
	c := s.c
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	missing := "/launchready-check-" + hex.EncodeToString(rnd[:]) + "/nonexistent.txt"
	fallback, err := c.do(ctx, s.client, http.MethodGet, c.url(missing), nil, nil)
	if err != nil {
		s.unverified("exposed files", err)
		return
	}
	// isFallback: the answer is the catch-all page (SPA) or the index.
	isFallback := func(path string, b []byte) bool {
		if fallback.status == http.StatusOK && bytes.Equal(bytes.ReplaceAll(b, []byte(path), []byte(missing)), fallback.body) {
			return true
		}
		return bytes.Equal(b, s.root.body)
	}
	get := func(path string) (*response, bool) {
		res, err := c.do(ctx, s.client, http.MethodGet, c.url(path), nil, nil)
		if err != nil {
			s.unverified("the exposure "+path, err)
			return nil, false
		}
		return res, res.status == http.StatusOK && len(bytes.TrimSpace(res.body)) > 0 && !isFallback(path, res.body)
	}
	report := func(id, path, seen, fix string) {
		f := finding(id, readiness.Blocker, seen, fix)
		f.Route = "GET " + path
		s.add(f)
	}
	for _, e := range exposures {
		if res, ok := get(e.path); ok && e.match(res.body) {
			report(e.id, e.path, fmt.Sprintf("%s answers 200 with %s (%d bytes) to anonymous callers", e.path, e.what, len(res.body)), e.fix)
		}
	}
	for _, p := range backupNames {
		if res, ok := get(p); ok {
			report("EDGE006", p, fmt.Sprintf("%s answers 200 with %d bytes that are neither the index nor the fallback page: a backup or editor copy of the site", p, len(res.body)), fixDeploy)
		}
	}
	if dirListing.Match(bytes.TrimSpace(s.root.body)) {
		report("EDGE007", "/", "/ is a directory listing", "turn off directory listings (in Go, wrap http.FileServer so directories without index.html answer 404)")
	}
	for _, p := range listingDirs {
		if res, ok := get(p); ok && dirListing.Match(bytes.TrimSpace(res.body)) {
			report("EDGE007", p, fmt.Sprintf("%s is a directory listing", p),
				"turn off directory listings (in Go, wrap http.FileServer so directories without index.html answer 404)")
		}
	}
}
