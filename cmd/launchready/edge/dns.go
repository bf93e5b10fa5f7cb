package edge

import (
	"context"
	"fmt"
	"net"
	"strings"

	"github.com/miekg/dns"

	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/readiness/email"
)

// checkDNS: the host resolves (A/AAAA) and a CAA record limits which CAs
// may issue for it (EDGE010; RFC 8659: the closest ancestor's CAA set
// applies). Skipped, with an info finding, for IP addresses and localhost.
func (s *scan) checkDNS(ctx context.Context) {
	c := s.c
	if net.ParseIP(c.host) != nil || c.host == "localhost" || strings.HasSuffix(c.host, ".localhost") {
		s.add(finding("EDGE010", readiness.Info, fmt.Sprintf("%s is an address or localhost: DNS (A/AAAA, CAA) not checked", c.host),
			"run the check against the public name to cover DNS"))
		return
	}
	qctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	addrs, err := c.res.LookupIPAddr(qctx, c.host)
	cancel()
	if err != nil || len(addrs) == 0 {
		f := finding("EDGE010", readiness.Blocker, fmt.Sprintf("%s has no A or AAAA record: %v", c.host, err),
			"publish A (and AAAA) records for the portal's name at the load balancer's addresses")
		s.add(f)
	} else {
		ips := make([]string, len(addrs))
		for i, a := range addrs {
			ips[i] = a.IP.String()
		}
		s.add(finding("EDGE010", readiness.Info, fmt.Sprintf("%s resolves to %s", c.host, strings.Join(ips, ", ")), "nothing to do"))
	}
	owner, caa, err := c.lookupCAA(ctx)
	switch {
	case err != nil:
		s.unverified("the CAA record of "+c.host, err)
	case len(caa) == 0:
		s.add(finding("EDGE010", readiness.Warning,
			fmt.Sprintf("no CAA record for %s or its parents: any certificate authority may issue certificates for the portal", c.host),
			fmt.Sprintf("publish a CAA record naming your CA, e.g. `%s. CAA 0 issue \"letsencrypt.org\"` plus an iodef contact", c.host)))
	default:
		var vals []string
		for _, r := range caa {
			vals = append(vals, fmt.Sprintf("%s %q", r.Tag, r.Value))
		}
		s.add(finding("EDGE010", readiness.Info, fmt.Sprintf("CAA at %s: %s", owner, strings.Join(vals, ", ")), "keep it in step with the CA that issues the certificate"))
	}
}

// lookupCAA walks from the host up to (not including) the top-level
// domain and returns the first CAA set found.
func (c *Checker) lookupCAA(ctx context.Context) (string, []*dns.CAA, error) {
	server := c.cfg.DNS
	if server == "" {
		conf, err := dns.ClientConfigFromFile("/etc/resolv.conf")
		if err != nil || len(conf.Servers) == 0 {
			return "", nil, fmt.Errorf("no resolver for CAA queries (read /etc/resolv.conf: %v); pass -dns", err)
		}
		server = net.JoinHostPort(conf.Servers[0], conf.Port)
	}
	labels := dns.SplitDomainName(c.host)
	for i := 0; i < len(labels)-1; i++ {
		name := dns.Fqdn(strings.Join(labels[i:], "."))
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeCAA)
		m.RecursionDesired = true
		cl := &dns.Client{Timeout: c.cfg.Timeout}
		in, _, err := cl.ExchangeContext(ctx, m, server)
		if err == nil && in.Truncated {
			cl.Net = "tcp"
			in, _, err = cl.ExchangeContext(ctx, m, server)
		}
		if err != nil {
			return "", nil, fmt.Errorf("CAA query for %s: %w", name, err)
		}
		if in.Rcode != dns.RcodeSuccess && in.Rcode != dns.RcodeNameError {
			return "", nil, fmt.Errorf("CAA query for %s: %s", name, dns.RcodeToString[in.Rcode])
		}
		var caa []*dns.CAA
		for _, rr := range in.Answer {
			if r, ok := rr.(*dns.CAA); ok {
				caa = append(caa, r)
			}
		}
		if len(caa) > 0 {
			return strings.TrimSuffix(name, "."), caa, nil
		}
	}
	return "", nil, nil
}

// mailCheck builds the readiness/email check for the sending domain.
func (c *Checker) mailCheck() (*email.Check, error) {
	return email.New(email.Config{FromDomain: c.cfg.MailDomain, DKIMSelectors: c.cfg.DKIMSelectors,
		SPFInclude: c.cfg.SPFInclude, SendingIPs: c.cfg.SendingIPs, Resolver: c.res, Timeout: c.cfg.Timeout})
}

// checkMail runs the EMAIL checks for the sending domain (-mail-domain).
func (s *scan) checkMail(ctx context.Context) {
	if s.c.cfg.MailDomain == "" {
		return
	}
	chk, err := s.c.mailCheck()
	if err != nil { // New validated the configuration already
		s.unverified("email authentication", err)
		return
	}
	s.add(chk.Run(ctx, nil)...)
}
