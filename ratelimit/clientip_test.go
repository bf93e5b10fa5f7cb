package ratelimit_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/ratelimit"
)

func req(remote string, hdr ...string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/api/login", nil)
	r.RemoteAddr = remote
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Add(hdr[i], hdr[i+1])
	}
	return r
}

func TestClientIP(t *testing.T) {
	direct, err := ratelimit.NewIPResolver(ratelimit.IPConfig{})
	require.NoError(t, err)
	proxied, err := ratelimit.NewIPResolver(ratelimit.IPConfig{TrustedProxies: []string{"10.0.0.0/8", "192.0.2.7"}})
	require.NoError(t, err)
	fwd, err := ratelimit.NewIPResolver(ratelimit.IPConfig{TrustedProxies: []string{"10.0.0.0/8"}, Header: "forwarded"})
	require.NoError(t, err)
	realIP, err := ratelimit.NewIPResolver(ratelimit.IPConfig{TrustedProxies: []string{"10.0.0.0/8"}, Header: "x-real-ip"})
	require.NoError(t, err)

	anyPeer, err := ratelimit.NewIPResolver(ratelimit.IPConfig{InsecureTrustAnyPeer: true, TrustedProxies: []string{"10.0.0.0/8"}})
	require.NoError(t, err)

	tests := []struct {
		name string
		res  *ratelimit.IPResolver
		r    *http.Request
		want string // "" means ErrClientIP
	}{
		{"direct peer", direct, req("203.0.113.9:4242"), "203.0.113.9"},
		// Attacks: spoofed headers from an untrusted peer never change the key.
		{"spoof XFF without trusted proxies", direct, req("203.0.113.9:4242", "X-Forwarded-For", "198.51.100.1"), "203.0.113.9"},
		{"spoof X-Real-IP without trusted proxies", direct, req("203.0.113.9:4242", "X-Real-IP", "198.51.100.1"), "203.0.113.9"},
		{"spoof Forwarded without trusted proxies", direct, req("203.0.113.9:4242", "Forwarded", "for=198.51.100.1"), "203.0.113.9"},
		{"spoof XFF from untrusted peer", proxied, req("203.0.113.9:4242", "X-Forwarded-For", "198.51.100.1"), "203.0.113.9"},
		{"spoof Forwarded from untrusted peer", fwd, req("203.0.113.9:4242", "Forwarded", "for=198.51.100.1"), "203.0.113.9"},
		{"spoof X-Real-IP from untrusted peer", realIP, req("203.0.113.9:4242", "X-Real-IP", "198.51.100.1"), "203.0.113.9"},
		// Attack: leftmost XFF is the attacker's; the rightmost untrusted entry wins.
		{"leftmost spoof behind one proxy", proxied, req("10.0.0.1:80", "X-Forwarded-For", "1.1.1.1, 203.0.113.9"), "203.0.113.9"},
		{"rightmost untrusted with two proxies", proxied, req("10.0.0.1:80", "X-Forwarded-For", "1.1.1.1, 203.0.113.9, 192.0.2.7"), "203.0.113.9"},
		{"merged header lines", proxied, req("10.0.0.1:80", "X-Forwarded-For", "1.1.1.1", "X-Forwarded-For", "203.0.113.9, 10.2.3.4"), "203.0.113.9"},
		{"garbage left of the client is ignored", proxied, req("10.0.0.1:80", "X-Forwarded-For", "not-an-ip, 203.0.113.9"), "203.0.113.9"},
		{"unparseable rightmost fails closed", proxied, req("10.0.0.1:80", "X-Forwarded-For", "203.0.113.9, bogus"), ""},
		{"empty entry fails closed", proxied, req("10.0.0.1:80", "X-Forwarded-For", "203.0.113.9,,"), ""},
		{"trusted proxy without header is the client", proxied, req("10.0.0.1:80"), "10.0.0.1"},
		{"all trusted gives leftmost", proxied, req("10.0.0.1:80", "X-Forwarded-For", "10.9.9.9, 10.0.0.2"), "10.9.9.9"},
		{"v4-mapped peer folds", direct, req("[::ffff:203.0.113.9]:4242"), "203.0.113.9"},
		{"v4-mapped entry folds and is trusted", proxied, req("10.0.0.1:80", "X-Forwarded-For", "203.0.113.9, ::ffff:10.0.0.3"), "203.0.113.9"},
		{"zone stripped", direct, req("[fe80::1%eth0]:4242"), "fe80::1"},
		{"entry with port", proxied, req("10.0.0.1:80", "X-Forwarded-For", "203.0.113.9:5555"), "203.0.113.9"},
		{"bracketed v6 entry", proxied, req("10.0.0.1:80", "X-Forwarded-For", "[2001:db8::1]"), "2001:db8::1"},
		{"Forwarded rightmost", fwd, req("10.0.0.1:80", "Forwarded", `for=1.1.1.1, for="[2001:db8::7]:443";proto=https`), "2001:db8::7"},
		{"Forwarded obfuscated fails closed", fwd, req("10.0.0.1:80", "Forwarded", "for=_hidden"), ""},
		{"Forwarded unknown fails closed", fwd, req("10.0.0.1:80", "Forwarded", "for=unknown"), ""},
		{"Forwarded without for fails closed", fwd, req("10.0.0.1:80", "Forwarded", "proto=https"), ""},
		{"X-Real-IP from trusted proxy", realIP, req("10.0.0.1:80", "X-Real-IP", "203.0.113.9"), "203.0.113.9"},
		{"two X-Real-IP lines fail closed", realIP, req("10.0.0.1:80", "X-Real-IP", "203.0.113.9", "X-Real-IP", "1.1.1.1"), ""},
		{"any peer: rightmost entry", anyPeer, req("198.51.100.5:1", "X-Forwarded-For", "1.1.1.1, 203.0.113.9"), "203.0.113.9"},
		{"any peer: trusted entries skipped", anyPeer, req("198.51.100.5:1", "X-Forwarded-For", "203.0.113.9, 10.0.0.3"), "203.0.113.9"},
		{"bad RemoteAddr fails closed", direct, req("nonsense"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.res.ClientIP(tt.r)
			if tt.want == "" {
				assert.ErrorIs(t, err, ratelimit.ErrClientIP)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, netip.MustParseAddr(tt.want), got)
		})
	}
}

func TestClientIPKeyIPv6Prefix(t *testing.T) {
	def, err := ratelimit.NewIPResolver(ratelimit.IPConfig{})
	require.NoError(t, err)
	a, err := def.Key(req("[2001:db8:1:2:aaaa::1]:1"))
	require.NoError(t, err)
	b, err := def.Key(req("[2001:db8:1:2:ffff:1:2:3]:1"))
	require.NoError(t, err)
	c, err := def.Key(req("[2001:db8:1:3::1]:1"))
	require.NoError(t, err)
	assert.Equal(t, a, b, "rotation inside one /64 shares a key")
	assert.NotEqual(t, a, c, "another /64 is another key")

	wide, err := ratelimit.NewIPResolver(ratelimit.IPConfig{IPv6PrefixBits: 48})
	require.NoError(t, err)
	a, _ = wide.Key(req("[2001:db8:1:2::1]:1"))
	c, _ = wide.Key(req("[2001:db8:1:3::1]:1"))
	assert.Equal(t, a, c)
	v4, _ := wide.Key(req("203.0.113.9:1"))
	assert.Equal(t, netip.MustParseAddr("203.0.113.9"), v4, "IPv4 keyed whole")
}

func TestIPConfigErrors(t *testing.T) {
	for name, c := range map[string]ratelimit.IPConfig{
		"bad header":      {Header: "X-Client-IP"},
		"bad prefix bits": {IPv6PrefixBits: 129},
		"bad proxy":       {TrustedProxies: []string{"10.0.0.0/33"}},
		"trust everyone":  {TrustedProxies: []string{"0.0.0.0/0"}},
		"not an address":  {TrustedProxies: []string{"proxy.internal"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ratelimit.NewIPResolver(c)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "ratelimit: IPConfig.")
		})
	}
}

func TestParseForwarding(t *testing.T) {
	got, err := ratelimit.ParseForwarding("X-Forwarded-For", []string{"1.1.1.1, 2001:db8::1", "::ffff:10.0.0.1"})
	require.NoError(t, err)
	assert.Equal(t, []netip.Addr{netip.MustParseAddr("1.1.1.1"), netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("10.0.0.1")}, got)
	_, err = ratelimit.ParseForwarding("X-Forwarded-For", []string{"1.1.1.1, x"})
	assert.True(t, errors.Is(err, ratelimit.ErrClientIP))
	_, err = ratelimit.ParseForwarding("X-Real-IP", nil)
	assert.Error(t, err)
}

// FuzzClientIP checks that whatever the headers say, the resolver either
// fails closed or returns a valid address, and that an untrusted peer is
// always keyed by its own address.
func FuzzClientIP(f *testing.F) {
	f.Add("10.0.0.1:80", "X-Forwarded-For", "1.1.1.1, 203.0.113.9", "")
	f.Add("10.0.0.1:80", "Forwarded", `for="[2001:db8::7]:443";proto=https, for=1.1.1.1`, "for=10.0.0.2")
	f.Add("203.0.113.9:1", "X-Forwarded-For", "198.51.100.1", "")
	f.Add("[::ffff:10.0.0.1]:80", "X-Forwarded-For", "::ffff:203.0.113.9%eth0", "10.1.1.1")
	f.Add("10.0.0.1:80", "X-Real-IP", "[2001:db8::1]", "")
	f.Fuzz(func(t *testing.T, remote, header, line1, line2 string) {
		for _, h := range []string{"X-Forwarded-For", "Forwarded", "X-Real-IP"} {
			res, err := ratelimit.NewIPResolver(ratelimit.IPConfig{TrustedProxies: []string{"10.0.0.0/8"}, Header: h})
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = remote
			r.Header[http.CanonicalHeaderKey(header)] = []string{line1, line2}
			a, err := res.ClientIP(r)
			if err != nil {
				if !errors.Is(err, ratelimit.ErrClientIP) {
					t.Fatalf("error %v does not wrap ErrClientIP", err)
				}
				continue
			}
			if !a.IsValid() || a.Zone() != "" || a.Is4In6() {
				t.Fatalf("invalid client address %v", a)
			}
			if peer, perr := netip.ParseAddrPort(remote); perr == nil {
				p := peer.Addr().WithZone("").Unmap()
				if !netip.MustParsePrefix("10.0.0.0/8").Contains(p) && a != p {
					t.Fatalf("untrusted peer %v keyed as %v", p, a)
				}
			}
			if _, err := res.Key(r); err != nil {
				t.Fatal(err)
			}
		}
		_, _ = ratelimit.ParseForwarding(header, []string{line1, line2})
	})
}
