package ratelimit

import (
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
)

// ErrClientIP is returned (wrapped) when the client address cannot be
// determined: an unparseable RemoteAddr, or a forwarding header from a
// trusted proxy with an entry that does not parse. The limiter fails closed:
// such a request is refused, never keyed by a guess.
var ErrClientIP = errors.New("ratelimit: client address cannot be determined")

// The forwarding headers the resolver understands.
const (
	HeaderXForwardedFor = "X-Forwarded-For"
	HeaderForwarded     = "Forwarded"
	HeaderXRealIP       = "X-Real-IP"
)

// IPResolver finds the client address of a request. The zero value trusts no
// proxy and uses RemoteAddr only, which is the safe setting for a server that
// faces the internet directly.
type IPResolver struct {
	anyPeer bool
	trusted []netip.Prefix
	header  string
	v6bits  int
}

// IPConfig configures an IPResolver.
type IPConfig struct {
	// TrustedProxies are the addresses or CIDR prefixes of the proxies in
	// front of the app ("10.0.0.0/8", "192.0.2.7"). Forwarding headers are
	// read only when RemoteAddr is one of them. Empty (the default) means
	// RemoteAddr only: any forwarding header is ignored.
	TrustedProxies []string
	// Header is the forwarding header the trusted proxies set:
	// X-Forwarded-For (the default), Forwarded (RFC 7239) or X-Real-IP.
	Header string
	// IPv6PrefixBits is the prefix length IPv6 clients are keyed by, so that
	// rotating addresses inside one allocation shares a bucket. Default 64;
	// 0 < bits <= 128.
	IPv6PrefixBits int
	// InsecureTrustAnyPeer treats whatever peer connects as a trusted proxy
	// and reads the forwarding header from it, for platforms whose router
	// addresses are unknown. Only the rightmost untrusted entry is used, but
	// a client that reaches the app directly can set its own key. Readiness
	// reports it as RATE005.
	InsecureTrustAnyPeer bool
}

// NewIPResolver validates c and returns its resolver.
func NewIPResolver(c IPConfig) (*IPResolver, error) {
	res := &IPResolver{header: HeaderXForwardedFor, v6bits: 64, anyPeer: c.InsecureTrustAnyPeer}
	switch http.CanonicalHeaderKey(c.Header) {
	case "", http.CanonicalHeaderKey(HeaderXForwardedFor):
	case HeaderForwarded:
		res.header = HeaderForwarded
	case http.CanonicalHeaderKey(HeaderXRealIP):
		res.header = HeaderXRealIP
	default:
		return nil, fmt.Errorf("ratelimit: IPConfig.Header is %q; use X-Forwarded-For, Forwarded or X-Real-IP", c.Header)
	}
	if c.IPv6PrefixBits != 0 {
		if c.IPv6PrefixBits < 1 || c.IPv6PrefixBits > 128 {
			return nil, fmt.Errorf("ratelimit: IPConfig.IPv6PrefixBits is %d; use 1..128 (64 is the usual allocation)", c.IPv6PrefixBits)
		}
		res.v6bits = c.IPv6PrefixBits
	}
	for _, s := range c.TrustedProxies {
		p, err := parsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("ratelimit: IPConfig.TrustedProxies entry %q is not an address or CIDR prefix; write it like 10.0.0.0/8 or 192.0.2.7", s)
		}
		if p.Bits() == 0 {
			return nil, fmt.Errorf("ratelimit: IPConfig.TrustedProxies entry %q trusts every address, so any client could spoof its IP; list your proxies' addresses", s)
		}
		res.trusted = append(res.trusted, p)
	}
	return res, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = fold(a)
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// fold strips zones and unmaps v4-mapped IPv6 addresses, so ::ffff:192.0.2.1
// and 192.0.2.1 are one client.
func fold(a netip.Addr) netip.Addr { return a.WithZone("").Unmap() }

// TrustedProxies returns the trusted proxy prefixes (a copy).
func (res *IPResolver) TrustedProxies() []netip.Prefix {
	if res == nil {
		return nil
	}
	return append([]netip.Prefix(nil), res.trusted...)
}

// TrustsAnyPeer reports whether forwarding headers are read from any peer
// (IPConfig.InsecureTrustAnyPeer).
func (res *IPResolver) TrustsAnyPeer() bool { return res != nil && res.anyPeer }

// Header returns the forwarding header read from trusted proxies.
func (res *IPResolver) Header() string {
	if res == nil || res.header == "" {
		return HeaderXForwardedFor
	}
	return res.header
}

// IPv6PrefixBits returns the prefix length IPv6 clients are keyed by.
func (res *IPResolver) IPv6PrefixBits() int {
	if res == nil || res.v6bits == 0 {
		return 64
	}
	return res.v6bits
}

func (res *IPResolver) isTrusted(a netip.Addr) bool {
	for _, p := range res.trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientIP returns the client address of r (folded, zone stripped, not
// masked). With no trusted proxies, or when RemoteAddr is not one, it is
// RemoteAddr. Otherwise it is the rightmost entry of the forwarding header
// that is not a trusted proxy; entries to its left are attacker-controlled
// and ignored. An unparseable entry on the way fails closed (ErrClientIP).
func (res *IPResolver) ClientIP(r *http.Request) (netip.Addr, error) {
	peer, err := parseRemoteAddr(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, err
	}
	if res == nil || !res.anyPeer && (len(res.trusted) == 0 || !res.isTrusted(peer)) {
		return peer, nil
	}
	values := r.Header.Values(res.Header())
	if len(values) == 0 {
		return peer, nil // the proxy itself (health checks)
	}
	if res.header == HeaderXRealIP {
		if len(values) != 1 {
			return netip.Addr{}, fmt.Errorf("%w: %d X-Real-IP lines", ErrClientIP, len(values))
		}
		a, err := parseHost(strings.TrimSpace(values[0]))
		if err != nil {
			return netip.Addr{}, err
		}
		return a, nil
	}
	var client netip.Addr
	err = walkRightToLeft(res.header, values, func(a netip.Addr) bool {
		client = a
		return !res.isTrusted(a)
	})
	if err != nil {
		return netip.Addr{}, err
	}
	if !client.IsValid() {
		return peer, nil
	}
	return client, nil
}

// Key returns the address r is limited by: ClientIP masked to the IPv6
// prefix (IPv4 addresses are keyed whole).
func (res *IPResolver) Key(r *http.Request) (netip.Addr, error) {
	a, err := res.ClientIP(r)
	if err != nil {
		return a, err
	}
	return res.mask(a), nil
}

func (res *IPResolver) mask(a netip.Addr) netip.Addr {
	if a.Is4() {
		return a
	}
	p, _ := a.Prefix(res.IPv6PrefixBits())
	return p.Addr()
}

func parseRemoteAddr(s string) (netip.Addr, error) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return fold(ap.Addr()), nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return fold(a), nil
	}
	return netip.Addr{}, fmt.Errorf("%w: unparseable RemoteAddr", ErrClientIP)
}

// parseHost parses one forwarding entry: an address, optionally with a port,
// IPv6 optionally in brackets.
func parseHost(s string) (netip.Addr, error) {
	if s == "" {
		return netip.Addr{}, fmt.Errorf("%w: empty forwarding entry", ErrClientIP)
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return fold(a), nil
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return fold(ap.Addr()), nil
	}
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil && a.Is6() {
			return fold(a), nil
		}
	}
	return netip.Addr{}, fmt.Errorf("%w: unparseable forwarding entry", ErrClientIP)
}

// walkRightToLeft parses the entries of the merged header lines from the
// right and calls fn with each until fn returns true.
func walkRightToLeft(header string, lines []string, fn func(netip.Addr) bool) error {
	for i := len(lines) - 1; i >= 0; i-- {
		line := lines[i]
		for line != "" {
			var elem string
			if j := strings.LastIndexByte(line, ','); j >= 0 {
				elem, line = line[j+1:], line[:j]
			} else {
				elem, line = line, ""
			}
			elem = strings.TrimSpace(elem)
			if header == HeaderForwarded {
				v, err := forwardedFor(elem)
				if err != nil {
					return err
				}
				elem = v
			}
			a, err := parseHost(elem)
			if err != nil {
				return err
			}
			if fn(a) {
				return nil
			}
		}
	}
	return nil
}

// forwardedFor returns the for= value of one RFC 7239 forwarded-element.
// Quoted strings may not contain commas here because addresses never do.
func forwardedFor(elem string) (string, error) {
	found := ""
	for _, pair := range strings.Split(elem, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok {
			return "", fmt.Errorf("%w: malformed Forwarded element", ErrClientIP)
		}
		if !strings.EqualFold(strings.TrimSpace(k), "for") {
			continue
		}
		if found != "" {
			return "", fmt.Errorf("%w: repeated for= in Forwarded element", ErrClientIP)
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		if v == "" {
			return "", fmt.Errorf("%w: empty for= in Forwarded element", ErrClientIP)
		}
		found = v
	}
	if found == "" {
		return "", fmt.Errorf("%w: Forwarded element without for=", ErrClientIP)
	}
	return found, nil
}

// ParseForwarding parses every entry of the given lines of a forwarding
// header (X-Forwarded-For or Forwarded), left to right, merging repeated
// lines. It fails on the first unparseable entry. ClientIP does not need it;
// it is exported for diagnostics and fuzzing.
func ParseForwarding(header string, lines []string) ([]netip.Addr, error) {
	h := http.CanonicalHeaderKey(header)
	if h != HeaderForwarded && h != http.CanonicalHeaderKey(HeaderXForwardedFor) {
		return nil, fmt.Errorf("ratelimit: ParseForwarding header %q; use X-Forwarded-For or Forwarded", header)
	}
	if h != HeaderForwarded {
		h = HeaderXForwardedFor
	}
	var rev []netip.Addr
	err := walkRightToLeft(h, lines, func(a netip.Addr) bool { rev = append(rev, a); return false })
	if err != nil {
		return nil, err
	}
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	return rev, nil
}
