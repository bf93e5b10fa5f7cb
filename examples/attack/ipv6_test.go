package attack_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/ratelimit"
)

// TestIPv6RotationSharesKey (RATE, IPv6 rotation): a client owning an IPv6
// /64 (every home and cloud allocation) cannot rotate source addresses to
// get fresh login budgets. From loopback only ::1 is available without
// root, so the portal cannot be attacked this way over the wire; this test
// drives the ratelimit package's public API instead: the IPResolver key
// function and a Login limit keyed ByIP, with RemoteAddr set per request.
func TestIPv6RotationSharesKey(t *testing.T) {
	g := newTally(t, "ipv6-rotation")
	res, err := ratelimit.NewIPResolver(ratelimit.IPConfig{})
	require.NoError(t, err)
	key := func(remote string, hdr ...string) string {
		r := httptest.NewRequest(http.MethodPost, "/api/login", nil)
		r.RemoteAddr = remote
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		k, err := res.Key(r)
		if err != nil {
			return "error: " + err.Error()
		}
		return k.String()
	}
	same := []struct{ a, b string }{
		{"[2001:db8:1:2::1]:1000", "[2001:db8:1:2:ffff:ffff:ffff:ffff]:2000"},
		{"[2001:db8:1:2::1]:1000", "[2001:db8:1:2:1234:5678:9abc:def0]:1"},
		{"[::ffff:192.0.2.1]:1", "192.0.2.1:2"},             // v4-mapped folds to IPv4
		{"[fe80::1%eth0]:1", "[fe80::2%eth1]:1"},            // zones stripped, same /64
		{"[2001:DB8:1:2::1]:1", "[2001:db8:1:2::99]:1"},     // case
		{"[2001:db8:1:2:0:0:0:1]:1", "[2001:db8:1:2::1]:1"}, // zero compression
	}
	for _, c := range same {
		ka, kb := key(c.a), key(c.b)
		g.check(ka == kb, "%s and %s key apart: %q vs %q", c.a, c.b, ka, kb)
	}
	// Spoofed forwarding headers change nothing without trusted proxies.
	base := key("[2001:db8:1:2::1]:1")
	for _, h := range [][]string{
		{"X-Forwarded-For", "2001:db8:ffff::1"},
		{"X-Real-IP", "203.0.113.9"},
		{"Forwarded", `for="[2001:db8:ffff::1]"`},
	} {
		g.check(key("[2001:db8:1:2::1]:1", h...) == base, "header %v changed the key", h)
	}
	g.check(key("[2001:db8:1:3::1]:1") != base, "a different /64 must be a different client")

	// Rotating 1,000 addresses inside one /64 against a login limit: the
	// budget is the /64's, so the 11th attempt is refused.
	lim, err := ratelimit.New(ratelimit.Config{})
	require.NoError(t, err)
	login := lim.Login(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), ratelimit.ByIP())
	passed := 0
	for i := 0; i < 1000; i++ {
		r := httptest.NewRequest(http.MethodPost, "/api/login", nil)
		r.RemoteAddr = fmt.Sprintf("[2001:db8:aa:bb:%x:%x:%x:%x]:443", i>>12, i>>8&0xf, i>>4&0xf, i&0xf)
		w := httptest.NewRecorder()
		login.ServeHTTP(w, r)
		if w.Code == http.StatusOK {
			passed++
		}
	}
	g.check(passed == ratelimit.LoginPolicy.Burst, "rotating inside a /64 passed %d logins, want the burst %d", passed, ratelimit.LoginPolicy.Burst)
	t.Logf("ipv6-rotation: 1000 addresses in one /64 got %d logins (LoginPolicy burst %d)", passed, ratelimit.LoginPolicy.Burst)
}
