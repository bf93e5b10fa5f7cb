package probe

import (
	"fmt"
	"sort"
	"strings"

	"github.com/launchready/launchready/readiness"
)

// record adds what the probe sent to the run's report.
func (b *bound) record() {
	b.in.RecordReach(b.c.Reaches(b.probe)...)
}

// reach returns what the probe sent to route so far.
func (b *bound) reach(route string) Reach {
	for _, r := range b.c.Reaches(b.probe) {
		if r.Route == route {
			return r
		}
	}
	return Reach{Probe: b.probe, Route: route}
}

// notExercised is the PROBE001 finding for a route where the claims
// (check IDs and what they verify) were never exercised: no request reached
// the layer that decides them.
func (b *bound) notExercised(item readiness.Item, route, claims string) readiness.Finding {
	r := b.reach(route)
	var layers []string
	for l, n := range r.Refused {
		layers = append(layers, fmt.Sprintf("%s ×%d", l, n))
	}
	sort.Strings(layers)
	seen := fmt.Sprintf("the %s sent %d request(s) to this route and none reached what it tests, so %s was not verified", b.probe, r.Sent, claims)
	if len(layers) > 0 {
		seen += "; refused by " + strings.Join(layers, ", ")
	}
	if r.Sent == 0 {
		seen = fmt.Sprintf("the %s sent no request to this route, so %s was not verified", b.probe, claims)
	}
	return readiness.Finding{
		ID: "PROBE001", Severity: readiness.Blocker, Item: item, Route: route,
		Seen: seen, Fix: setupFix(r.Refused),
	}
}

// setupFix says how to fix the probe's setup for the layers that refused
// its requests.
func setupFix(refused map[string]int) string {
	var fixes []string
	add := func(s string) {
		for _, f := range fixes {
			if f == s {
				return
			}
		}
		fixes = append(fixes, s)
	}
	for l := range refused {
		switch {
		case strings.HasPrefix(l, "Host allowlist"):
			add("leave Client.Host empty (the walked allowlist's first host is used) or set it to an allowed host")
		case strings.HasPrefix(l, "rate limit"):
			add("every probe has its own client address; a limit met anyway is met by the probe itself: lower its MaxAttempts or raise the limit in tests")
		case strings.HasPrefix(l, "authorization (401)"):
			add("give the probe a signed-in account: set Client.Login and Client.Accounts")
		case strings.HasPrefix(l, "authorization (403)"):
			add("sign in with an account whose role the route allows (Client.Accounts)")
		case strings.HasPrefix(l, "authorization (404)"), strings.HasPrefix(l, "router"):
			add("set Client.Values to the IDs of objects that exist (by wildcard name or route path)")
		default:
			add("make sure nothing in front of the route refuses the probe's requests, and that every response-writer wrapper has Unwrap() http.ResponseWriter")
		}
	}
	sort.Strings(fixes)
	if len(fixes) == 0 {
		return "make the probe send requests to the route (check its Client and the route's path values)"
	}
	return strings.Join(fixes, "; ")
}
