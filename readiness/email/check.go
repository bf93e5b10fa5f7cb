package email

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/launchready/launchready/readiness"
)

// DefaultTimeout bounds each DNS query when Config.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// Config says what the portal sends as and through which service.
type Config struct {
	// FromDomain is the domain of the From header of the portal's mail
	// (password resets, notices). DMARC is looked up for it. Required.
	FromDomain string

	// EnvelopeDomain is the Return-Path (SMTP MAIL FROM) domain, whose SPF
	// record receivers check. Empty means FromDomain.
	EnvelopeDomain string

	// DKIMDomain is the d= domain of the DKIM signatures. Empty means
	// FromDomain.
	DKIMDomain string

	// DKIMSelectors are the selectors the sending service signs with; each
	// must have a key record at <selector>._domainkey.<DKIMDomain>. At least
	// one is required.
	DKIMSelectors []string

	// SendingIPs are the addresses the portal's mail leaves from; SPF must
	// pass for each. SendingIPs or SPFInclude (or both) is required.
	SendingIPs []netip.Addr

	// SPFInclude is the SPF include of the sending service (for example
	// "_spf.provider.example"); it must be reachable from the envelope
	// domain's record.
	SPFInclude string

	// DKIMSigner is the DKIM private key, where the app signs mail itself.
	// When set, a test message is signed with it and verified against the
	// published key of DKIMSignerSelector. Optional; RSA or Ed25519.
	DKIMSigner crypto.Signer

	// DKIMSignerSelector is the selector DKIMSigner belongs to. Empty means
	// the first of DKIMSelectors.
	DKIMSignerSelector string

	// Resolver answers the DNS queries. Nil means net.DefaultResolver.
	Resolver *net.Resolver

	// Timeout bounds each DNS query (a temporary failure is retried once).
	// Zero means DefaultTimeout.
	Timeout time.Duration
}

// Check is the email authentication check. It implements readiness.Check;
// add it to readiness.Target.Checks. It is safe for concurrent use.
type Check struct {
	from, envelope, dkimDomain string
	selectors                  []string
	ips                        []netip.Addr
	include                    string
	signer                     crypto.Signer
	signerSelector             string
	resolver                   *net.Resolver
	timeout                    time.Duration
}

var _ readiness.Check = (*Check)(nil)

// New validates the configuration and returns the check.
func New(cfg Config) (*Check, error) {
	c := &Check{
		from:       normDomain(cfg.FromDomain),
		envelope:   normDomain(cfg.EnvelopeDomain),
		dkimDomain: normDomain(cfg.DKIMDomain),
		include:    normDomain(cfg.SPFInclude),
		signer:     cfg.DKIMSigner,
		resolver:   cfg.Resolver,
		timeout:    cfg.Timeout,
	}
	if c.from == "" {
		return nil, fmt.Errorf("email: Config.FromDomain is empty; set it to the domain of the From header of the portal's mail")
	}
	if err := validDomain(c.from); err != nil {
		return nil, fmt.Errorf("email: Config.FromDomain %q is not a domain name (%v); set it to a name like portal.example.com", cfg.FromDomain, err)
	}
	if c.envelope == "" {
		c.envelope = c.from
	} else if err := validDomain(c.envelope); err != nil {
		return nil, fmt.Errorf("email: Config.EnvelopeDomain %q is not a domain name (%v); set it to the Return-Path domain or leave it empty", cfg.EnvelopeDomain, err)
	}
	if c.dkimDomain == "" {
		c.dkimDomain = c.from
	} else if err := validDomain(c.dkimDomain); err != nil {
		return nil, fmt.Errorf("email: Config.DKIMDomain %q is not a domain name (%v); set it to the d= domain or leave it empty", cfg.DKIMDomain, err)
	}
	if len(cfg.DKIMSelectors) == 0 {
		return nil, fmt.Errorf("email: Config.DKIMSelectors is empty; list the selectors your sending service signs with (for example \"s1\")")
	}
	for _, s := range cfg.DKIMSelectors {
		s = normDomain(s)
		if err := validDomain(s); err != nil {
			return nil, fmt.Errorf("email: Config.DKIMSelectors has %q, which is not a DNS label (%v); use the selector as published (for example \"s1\")", s, err)
		}
		if !slices.Contains(c.selectors, s) {
			c.selectors = append(c.selectors, s)
		}
	}
	if len(cfg.SendingIPs) == 0 && c.include == "" {
		return nil, fmt.Errorf("email: Config.SendingIPs and Config.SPFInclude are both empty; set the sending service's addresses or its SPF include")
	}
	if c.include != "" {
		if err := validDomain(c.include); err != nil {
			return nil, fmt.Errorf("email: Config.SPFInclude %q is not a domain name (%v); use the provider's include, for example _spf.provider.example", cfg.SPFInclude, err)
		}
	}
	for _, ip := range cfg.SendingIPs {
		if !ip.IsValid() || ip.IsUnspecified() {
			return nil, fmt.Errorf("email: Config.SendingIPs has an invalid or unspecified address; list the sending service's public addresses")
		}
		ip = ip.Unmap()
		for _, p := range probeAddrs {
			if ip == p {
				return nil, fmt.Errorf("email: Config.SendingIPs has %s, the documentation address this check uses to prove SPF refuses strangers; list the real sending addresses", ip)
			}
		}
		c.ips = append(c.ips, ip)
	}
	if c.timeout < 0 {
		return nil, fmt.Errorf("email: Config.Timeout is negative; set it to a positive duration or zero for %s", DefaultTimeout)
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	if c.resolver == nil {
		c.resolver = net.DefaultResolver
	}
	if c.signer != nil {
		switch c.signer.Public().(type) {
		case *rsa.PublicKey, ed25519.PublicKey:
		default:
			return nil, fmt.Errorf("email: Config.DKIMSigner has a %T key; DKIM signs with RSA or Ed25519", c.signer.Public())
		}
		c.signerSelector = normDomain(cfg.DKIMSignerSelector)
		if c.signerSelector == "" {
			c.signerSelector = c.selectors[0]
		}
		if !slices.Contains(c.selectors, c.signerSelector) {
			return nil, fmt.Errorf("email: Config.DKIMSignerSelector %q is not in Config.DKIMSelectors; add it there or fix the name", cfg.DKIMSignerSelector)
		}
	} else if cfg.DKIMSignerSelector != "" {
		return nil, fmt.Errorf("email: Config.DKIMSignerSelector is set but Config.DKIMSigner is nil; set the signer or drop the selector")
	}
	return c, nil
}

// Name identifies the check in reports.
func (c *Check) Name() string { return "email authentication (" + c.from + ")" }

// Run queries DNS and returns the findings EMAIL001–EMAIL008. It does not
// use the Inspection, so it may be nil.
func (c *Check) Run(ctx context.Context, _ *readiness.Inspection) []readiness.Finding {
	l := newLookup(c.resolver, c.timeout)
	var out []readiness.Finding
	out = append(out, c.checkSPF(ctx, l)...)
	out = append(out, c.checkDKIM(ctx, l)...)
	dm := c.checkDMARC(ctx, l)
	out = append(out, dm.findings...)
	out = append(out, c.checkAlignment(dm)...)
	return out
}

func blocker(id, seen, fix string) readiness.Finding {
	return readiness.Finding{ID: id, Severity: readiness.Blocker, Item: readiness.ItemEmail,
		Seen: seen, Fix: fix, ProductionOnly: true}
}

func warning(id, seen, fix string) readiness.Finding {
	return readiness.Finding{ID: id, Severity: readiness.Warning, Item: readiness.ItemEmail, Seen: seen, Fix: fix}
}

func info(id, seen, fix string) readiness.Finding {
	return readiness.Finding{ID: id, Severity: readiness.Info, Item: readiness.ItemEmail, Seen: seen, Fix: fix}
}

// unverified is the finding for a record that could not be fetched: never a
// pass, a blocker in production and a warning in development.
func unverified(id, what string, err error) readiness.Finding {
	return blocker(id, fmt.Sprintf("%s unverified: %v", what, err),
		"make sure the record is published and the authoritative servers answer, then re-run the check where DNS is reachable; until then the result is unknown, not a pass")
}

func normDomain(s string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
}

// validDomain checks the syntax of a host name (labels of letters, digits,
// hyphens and underscores, 1-63 bytes, 253 in all).
func validDomain(s string) error {
	if s == "" {
		return fmt.Errorf("empty")
	}
	if len(s) > 253 {
		return fmt.Errorf("longer than 253 bytes")
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("empty or over-long label")
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return fmt.Errorf("character %q", r)
			}
		}
	}
	return nil
}

func quote(s string) string { return "\"" + s + "\"" }
