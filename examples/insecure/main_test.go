package main

import (
	"bytes"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestRefusesToBoot: the twin exits 1 and names every planted blocker that
// the boot gate (static checks; the probes run in portalapp's tests) can
// see, by ID.
func TestRefusesToBoot(t *testing.T) {
	t.Setenv("PORTAL_SESSION_KEY", "") // unset: the twin falls back to its placeholder
	var stdout, stderr bytes.Buffer
	assert.Equal(t, 1, run(nil, &stdout, &stderr))
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^  ([A-Z]+[0-9]{3})\b`).FindAllStringSubmatch(stderr.String(), -1) {
		listed[m[1]] = true
	}
	for _, id := range []string{
		"AUTH002", "AUTH003", "AUTH004", "AUTH008", "AUTH010", // public admin route, no tenant check, pprof, demo accounts
		"AUTH013",                       // admin route without a second factor
		"CORS001", "CORS006", "CORS007", // wildcard CORS with credentials, no CSRF protection, no headers
		"RATE001", "RATE002", "RATE003", // no limits
		"LOG001",             // logger not redacting (the password itself: LOG002, a probe)
		"SESS001", "SESS005", // plain cookie, no idle timeout
		"SECRET002", "SECRET005", // placeholder key, key in build output
		"DEPLOY003",                    // no server timeouts
		"AUDIT001", "MON001", "MON002", // no audit trail, readiness endpoint, recovery
		"CORS009", // a cross-site link runs the export
		"SESS011", // a reset cannot end the sessions of the old password
	} {
		assert.True(t, listed[id], "blocker %s not listed:\n%s", id, stderr.String())
	}
}
