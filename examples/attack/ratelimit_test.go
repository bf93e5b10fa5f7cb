package attack_test

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
)

// loopbackIP returns a distinct 127.0.0.0/8 address (all loopback on
// Linux) for a client identity: block picks the /16 so tests do not share.
func loopbackIP(block, n int) net.IP {
	return net.IPv4(127, byte(block), byte(n/250), byte(1+n%250))
}

var unknownSeq atomic.Int64

// unknownAccount is a well-formed address no demo account has.
func unknownAccount() string {
	return fmt.Sprintf("nobody-%d@acme.test", unknownSeq.Add(1))
}

// loginLimitAfter sends failed logins (each for a new unknown account, so
// only the per-IP limits apply) from c until one is answered 429, and
// returns how many were sent; 0 if none within max. hdr is sent with each
// attempt, made by fn(i).
func loginLimitAfter(t *testing.T, c *client, max int, fn func(i int) []string) int {
	t.Helper()
	for i := 1; i <= max; i++ {
		var hdr []string
		if fn != nil {
			hdr = fn(i)
		}
		res := c.login(t, unknownAccount(), "wrong-password-1", hdr...)
		if res.status == http.StatusTooManyRequests {
			return i
		}
		require.Equal(t, http.StatusUnauthorized, res.status, "attempt %d: %s", i, res)
	}
	return 0
}

// spoofHeaders are the client-address headers an attacker sets to look
// like a new client each time.
func spoofHeaders(ip string) []string {
	return []string{
		"X-Forwarded-For", ip,
		"X-Real-IP", ip,
		"Forwarded", "for=" + ip,
		"True-Client-IP", ip,
		"CF-Connecting-IP", ip,
		"X-Client-IP", ip,
		"X-Forwarded", "for=" + ip,
		"Forwarded-For", ip,
	}
}

// TestLoginLimitIgnoresSpoofedClientIP (RATE005/RATE007): a client that
// rotates X-Forwarded-For, X-Real-IP, Forwarded and look-alike headers is
// limited exactly as one without them (the portal trusts no proxy), stays
// limited however the headers change, and cannot lock another client out by
// naming its address.
func TestLoginLimitIgnoresSpoofedClientIP(t *testing.T) {
	onEachRouter(t, testLoginLimitIgnoresSpoofedClientIP)
}

func testLoginLimitIgnoresSpoofedClientIP(t *testing.T, p *portal) {
	g := newTally(t, "login-limit-spoofing")
	const max = 60
	baseline := loginLimitAfter(t, p.clientFrom(loopbackIP(10, 0)), max, nil)
	require.NotZero(t, baseline, "the portal answered no 429 to %d failed logins from one address", max)
	t.Logf("baseline: the %dth failed login from one address is answered 429", baseline)

	// Rotating spoofed headers: limited at the same count.
	attacker := p.clientFrom(loopbackIP(10, 1))
	n := 0
	spoofed := loginLimitAfter(t, attacker, max, func(i int) []string {
		n++
		return spoofHeaders(fmt.Sprintf("203.0.113.%d", i))
	})
	g.check(spoofed == baseline, "with rotating spoofed headers the limit came after %d attempts, without after %d", spoofed, baseline)

	// Once limited, new spoofed identities do not reset the limit.
	for i := 0; i < 40; i++ {
		for _, hdr := range [][]string{
			spoofHeaders(fmt.Sprintf("198.51.100.%d", i)),
			spoofHeaders(fmt.Sprintf("2001:db8:%x::1", i)),
			{"X-Forwarded-For", fmt.Sprintf("198.51.100.%d, 127.0.0.1", i)},
			{"X-Forwarded-For", "unknown"},
			{"X-Forwarded-For", ""},
			{"Forwarded", `for="[2001:db8::1]:80";proto=https, for=127.0.0.1`},
		} {
			res := attacker.login(t, unknownAccount(), "wrong-password-1", hdr...)
			g.check(res.status == http.StatusTooManyRequests, "limited client with %v answered %s", hdr, res)
		}
	}
	// A real login from the limited address is also refused (per-IP login
	// limit), and the 429 says when to retry without echoing any address.
	res := attacker.login(t, aliceEmail, demoPassword, spoofHeaders("192.0.2.1")...)
	g.check(res.status == http.StatusTooManyRequests, "limited client logging in for real: %s", res)
	g.check(res.header.Get("Retry-After") != "", "429 without Retry-After")
	for _, ip := range []string{"127.0.10.1", "192.0.2.1", "203.0.113.", "198.51.100."} {
		g.check(!strings.Contains(string(res.body), ip), "the 429 echoes an address %q: %s", ip, res)
	}

	// Splitting the other way: flooding while naming the victim's address
	// does not lock the victim out.
	victimIP := loopbackIP(10, 2)
	flood := p.clientFrom(loopbackIP(10, 3))
	loginLimitAfter(t, flood, max, func(int) []string { return spoofHeaders(victimIP.String()) })
	victim := p.clientFrom(victimIP)
	res = victim.login(t, aliceEmail, demoPassword)
	g.check(res.status == http.StatusOK, "the victim whose address the attacker named cannot log in: %s", res)
	t.Logf("spoofed header sets sent: %d", n)
}

// TestLoginLimitOverIPv6Loopback: the portal served on [::1] limits a
// client there the same way (the address parsing path for IPv6 peers).
// Rotation inside a /64 cannot be done from loopback without root (only
// ::1 is assigned), so TestIPv6RotationSharesKey checks the ratelimit
// package's key function directly.
func TestLoginLimitOverIPv6Loopback(t *testing.T) {
	if ln, err := net.Listen("tcp", "[::1]:0"); err != nil {
		t.Skipf("no IPv6 loopback on this machine: %v", err)
	} else {
		_ = ln.Close()
	}
	p := startPortal(t, portalOpts{host: "::1"})
	g := newTally(t, "ipv6-loopback")
	c := p.client()
	res := c.login(t, aliceEmail, demoPassword)
	g.check(res.status == http.StatusOK, "login over [::1]: %s", res)
	n := loginLimitAfter(t, p.client(), 60, func(i int) []string { return spoofHeaders(fmt.Sprintf("2001:db8::%x", i)) })
	g.check(n > 0 && n <= 11, "IPv6 client limited after %d failed logins", n)
}
