// Package egress builds outbound HTTP clients that cannot be turned against
// the portal's own network: every client has timeouts, and its dialer refuses
// loopback, link-local, private, carrier-grade NAT and cloud-metadata
// addresses (server-side request forgery, OWASP API7) unless a host is
// explicitly allowed. Scorecard item 9 (deployment safety), checks DEPLOY006
// and DEPLOY007.
//
//	client, err := egress.NewClient(egress.Config{Timeout: 10 * time.Second})
//	resp, err := client.Get(webhookURL) // a URL pointing at 169.254.169.254 fails
//
// The dialer resolves the name itself, checks every address, and connects to
// the address it checked, so DNS rebinding between check and connect cannot
// slip through. Redirects are dialled through the same guard.
package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// ErrDenied is wrapped by every error the guard returns for a refused address.
var ErrDenied = errors.New("egress: destination denied")

// DeniedError says which host and address the guard refused, and why.
type DeniedError struct {
	Host   string
	Addr   netip.Addr
	Reason string
}

func (e *DeniedError) Error() string {
	if e.Host != "" && e.Host != e.Addr.String() {
		return fmt.Sprintf("egress: %s resolves to %s, a %s address; add the host to Config.Allow if it is a trusted internal service", e.Host, e.Addr, e.Reason)
	}
	return fmt.Sprintf("egress: %s is a %s address; add it to Config.Allow if it is a trusted internal service", e.Addr, e.Reason)
}

func (e *DeniedError) Unwrap() error { return ErrDenied }

// Config configures a guarded client. The zero value is the hardened
// setting: 10 s overall timeout, every internal address refused.
type Config struct {
	// Timeout bounds a whole request including redirects and body read.
	// Zero means 10 s; it cannot be switched off.
	Timeout time.Duration
	// DialTimeout bounds connecting. Zero means 5 s.
	DialTimeout time.Duration
	// Allow lists exceptions: host names ("mail.internal"), IP addresses or
	// CIDR prefixes ("10.20.0.0/16") that may be reached although internal.
	Allow []string
	// Resolver resolves host names. Nil means net.DefaultResolver.
	Resolver *net.Resolver
}

type denyRange struct {
	prefix netip.Prefix
	reason string
}

var denied = func() []denyRange {
	var out []denyRange
	for _, d := range []struct{ cidr, reason string }{
		{"0.0.0.0/8", "unspecified"},
		{"10.0.0.0/8", "private"},
		{"100.64.0.0/10", "carrier-grade NAT"},
		{"127.0.0.0/8", "loopback"},
		{"169.254.0.0/16", "link-local (cloud metadata)"},
		{"172.16.0.0/12", "private"},
		{"192.0.0.0/24", "IETF protocol assignment"},
		{"192.168.0.0/16", "private"},
		{"198.18.0.0/15", "benchmarking"},
		{"224.0.0.0/4", "multicast"},
		{"240.0.0.0/4", "reserved"},
		{"::/128", "unspecified"},
		{"::1/128", "loopback"},
		{"fc00::/7", "unique local (private)"},
		{"fe80::/10", "link-local"},
		{"ff00::/8", "multicast"},
		{"fd00:ec2::254/128", "cloud metadata"},
	} {
		out = append(out, denyRange{netip.MustParsePrefix(d.cidr), d.reason})
	}
	return out
}()

// nat64 is the well-known NAT64 prefix; addresses in it embed an IPv4
// address that is checked in turn.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// Classify returns why addr is internal, or "" when it is a public address.
// IPv4-mapped IPv6 addresses and NAT64 addresses are judged by the IPv4
// address they carry.
func Classify(addr netip.Addr) string {
	addr = addr.Unmap().WithZone("")
	if addr.Is6() && nat64.Contains(addr) {
		b := addr.As16()
		addr = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	for _, d := range denied {
		if d.prefix.Contains(addr) {
			return d.reason
		}
	}
	return ""
}

// Guard decides which destinations a dialer may reach.
type Guard struct {
	hosts    map[string]bool
	prefixes []netip.Prefix
	resolver *net.Resolver
	dialer   *net.Dialer
}

// NewGuard validates cfg and returns the guard its clients dial through.
func NewGuard(cfg Config) (*Guard, error) {
	g := &Guard{hosts: map[string]bool{}, resolver: cfg.Resolver}
	if g.resolver == nil {
		g.resolver = net.DefaultResolver
	}
	dt := cfg.DialTimeout
	if dt < 0 {
		return nil, fmt.Errorf("egress: Config.DialTimeout is %v; use a positive duration or zero for 5s", dt)
	}
	if dt == 0 {
		dt = 5 * time.Second
	}
	g.dialer = &net.Dialer{Timeout: dt, KeepAlive: 30 * time.Second}
	for _, a := range cfg.Allow {
		a = strings.TrimSpace(a)
		switch {
		case a == "":
			return nil, errors.New("egress: Config.Allow has an empty entry; remove it")
		case strings.Contains(a, "/"):
			p, err := netip.ParsePrefix(a)
			if err != nil {
				return nil, fmt.Errorf("egress: Config.Allow entry %q is not a valid CIDR prefix: %v", a, err)
			}
			if p.Bits() == 0 {
				return nil, fmt.Errorf("egress: Config.Allow entry %q allows every address; list the internal ranges you trust instead", a)
			}
			g.prefixes = append(g.prefixes, p.Masked())
		default:
			if ip, err := netip.ParseAddr(a); err == nil {
				g.prefixes = append(g.prefixes, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
				continue
			}
			g.hosts[strings.ToLower(strings.TrimSuffix(a, "."))] = true
		}
	}
	return g, nil
}

// Check returns nil when host may be reached at addr, and a *DeniedError
// otherwise.
func (g *Guard) Check(host string, addr netip.Addr) error {
	if g.hosts[strings.ToLower(strings.TrimSuffix(host, "."))] {
		return nil
	}
	u := addr.Unmap().WithZone("")
	for _, p := range g.prefixes {
		if p.Contains(u) {
			return nil
		}
	}
	if reason := Classify(addr); reason != "" {
		return &DeniedError{Host: host, Addr: u, Reason: reason}
	}
	return nil
}

// DialContext resolves address, refuses internal destinations, and connects
// to the first allowed address it checked. It has the signature of
// http.Transport.DialContext.
func (g *Guard) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("egress: bad address %q: %w", address, err)
	}
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		ipNet := "ip"
		switch network {
		case "tcp4", "udp4":
			ipNet = "ip4"
		case "tcp6", "udp6":
			ipNet = "ip6"
		}
		addrs, err = g.resolver.LookupNetIP(ctx, ipNet, host)
		if err != nil {
			return nil, fmt.Errorf("egress: resolving %s: %w", host, err)
		}
	}
	// Every address must be allowed: a name that resolves to one public and
	// one internal address is refused, or a retry could land inside.
	for _, a := range addrs {
		if err := g.Check(host, a); err != nil {
			return nil, err
		}
	}
	var lastErr error
	for _, a := range addrs {
		conn, err := g.dialer.DialContext(ctx, network, net.JoinHostPort(a.Unmap().String(), port))
		if err == nil {
			return conn, nil
		}
		lastErr = err
	}
	if lastErr == nil {
		lastErr = fmt.Errorf("egress: %s has no addresses", host)
	}
	return nil, lastErr
}

// Transport is an *http.Transport dialling through a Guard. readiness
// recognises clients that use it as SSRF-guarded (DEPLOY007).
type Transport struct {
	*http.Transport
	guard *Guard
}

// Guard returns the guard the transport dials through.
func (t *Transport) Guard() *Guard { return t.guard }

// NewClient returns an *http.Client with timeouts whose every connection goes
// through the guard. It does not use proxies from the environment: a proxy
// would dial on the client's behalf, outside the guard.
func NewClient(cfg Config) (*http.Client, error) {
	if cfg.Timeout < 0 {
		return nil, fmt.Errorf("egress: Config.Timeout is %v; use a positive duration or zero for 10s", cfg.Timeout)
	}
	g, err := NewGuard(cfg)
	if err != nil {
		return nil, err
	}
	timeout := cfg.Timeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	tr := &http.Transport{
		DialContext:            g.DialContext,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    5 * time.Second,
		ResponseHeaderTimeout:  timeout,
		ExpectContinueTimeout:  time.Second,
		IdleConnTimeout:        90 * time.Second,
		MaxIdleConns:           100,
		MaxResponseHeaderBytes: 1 << 20,
	}
	return &http.Client{Timeout: timeout, Transport: &Transport{Transport: tr, guard: g}}, nil
}
