package attack_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestHostHeaderAndResetPoisoning (DEPLOY007): requests for a host the
// portal does not serve are refused (DNS rebinding), and no header an
// attacker sets (Host, X-Forwarded-Host, Forwarded host=, X-Original-Host)
// can point the password-reset link at the attacker: every link in the
// outbox starts with the portal's own URL.
func TestHostHeaderAndResetPoisoning(t *testing.T) { onEachRouter(t, testHostHeaderAndResetPoisoning) }

func testHostHeaderAndResetPoisoning(t *testing.T, p *portal) {
	g := newTally(t, "host-poisoning")
	for _, host := range []string{"evil.test", "evil.test:80", "127.0.0.1.evil.test", "localhost.evil.test", "127.0.0.2", "[::1]"} {
		res := p.raw(t, "GET /api/me HTTP/1.1\r\nHost: "+host+"\r\nConnection: close\r\n\r\n")
		g.check(res.status == http.StatusMisdirectedRequest || res.status == http.StatusBadRequest, "Host %q: %s", host, res)
	}
	poison := [][]string{
		{"X-Forwarded-Host", "evil.test"},
		{"Forwarded", "host=evil.test;proto=https"},
		{"X-Original-Host", "evil.test"},
		{"X-Host", "evil.test"},
		{"X-Forwarded-Server", "evil.test"},
		{"X-Forwarded-Proto", "javascript", "X-Forwarded-Port", "1337"},
	}
	for _, h := range poison {
		res := p.client().must(t, "POST", "/api/password-reset", map[string]string{"email": aliceEmail}, h...)
		g.check(res.status == http.StatusAccepted || res.status == http.StatusTooManyRequests, "reset with %v: %s", h, res)
	}
	res := p.raw(t, "POST /api/password-reset HTTP/1.1\r\nHost: evil.test\r\nContent-Type: application/json\r\nContent-Length: 31\r\nConnection: close\r\n\r\n{\"email\":\"alice@client-a.test\"}")
	g.check(res.status == http.StatusMisdirectedRequest || res.status == http.StatusBadRequest, "reset with Host evil.test: %s", res)
	time.Sleep(100 * time.Millisecond)
	entries, err := os.ReadDir(p.outbox)
	require.NoError(t, err)
	links := 0
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(p.outbox, e.Name()))
		require.NoError(t, err)
		body := string(raw)
		g.check(!strings.Contains(body, "evil.test") && !strings.Contains(body, "javascript") && !strings.Contains(body, "1337"),
			"a reset mail carries an attacker-chosen host: %s", body)
		for _, f := range strings.Fields(body) {
			if strings.Contains(f, "#reset=") || strings.Contains(f, "reset") && strings.HasPrefix(f, "http") {
				links++
				g.check(strings.HasPrefix(f, p.base+"/"), "reset link %q does not start with the portal's URL %s", f, p.base)
			}
		}
	}
	g.check(links > 0, "no reset link found in %d outbox files (the check would be vacuous)", len(entries))
	t.Logf("host-poisoning: %d mails, %d reset links, all on %s", len(entries), links, p.base)
}
