package email

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"blitiri.com.ar/go/spf"

	"github.com/launchready/launchready/readiness"
)

// probeAddrs are documentation addresses (RFC 5737 TEST-NET-1 and RFC 3849)
// that no real sender uses: SPF must not pass for them. The library stops at
// the first match, so a record that passes the real senders can still end in
// +all, authorise 0.0.0.0/0, or break after the match; the probe catches all
// three.
var probeAddrs = []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")}

const (
	maxLookups     = 10 // RFC 7208 section 4.6.4
	nearLookups    = 9
	maxVoidLookups = 2
)

// spfTree is what a static walk of the record and everything it includes
// found. The library does not expose its counters, so we count ourselves.
type spfTree struct {
	records  map[string][]spfTerm
	lookups  int
	voids    int
	voidAt   []string
	ptr      bool
	includes map[string]bool
	invalid  []string
	temp     error
}

func (c *Check) checkSPF(ctx context.Context, l *lookup) []readiness.Finding {
	d := c.envelope
	txts, err := l.TXT(ctx, d)
	if isUnverified(err) {
		return []readiness.Finding{unverified("EMAIL001", "SPF record of "+d, err)}
	}
	var spfs []string
	for _, t := range txts {
		if isSPF(t) {
			spfs = append(spfs, t)
		}
	}
	switch {
	case len(spfs) == 0:
		return []readiness.Finding{blocker("EMAIL001",
			fmt.Sprintf("no SPF record at %s (%d other TXT records); receivers get SPF none for the portal's mail", d, len(txts)),
			fmt.Sprintf("publish one TXT record at %s: %s", d, quote(c.suggestSPF(nil, c.ips, true))))}
	case len(spfs) > 1:
		return []readiness.Finding{blocker("EMAIL001",
			fmt.Sprintf("%d SPF records at %s (%s); receivers return permerror when there is more than one", len(spfs), d, quoteAll(spfs)),
			fmt.Sprintf("merge them into a single TXT record at %s, for example %s", d, quote(c.suggestSPF(nil, c.ips, true))))}
	}
	top := spfs[0]
	terms, err := parseSPF(top)
	if err != nil {
		return []readiness.Finding{blocker("EMAIL001",
			fmt.Sprintf("SPF record at %s is invalid (%v): %s; receivers return permerror", d, err, quote(top)),
			fmt.Sprintf("replace it with a valid record, for example %s", quote(c.suggestSPF(nil, c.ips, true))))}
	}

	w := &spfTree{records: map[string][]spfTerm{}, includes: map[string]bool{}}
	w.records[d] = terms
	c.walkSPF(ctx, l, w, d, terms, 0, map[string]bool{d: true})
	if w.temp != nil {
		return []readiness.Finding{unverified("EMAIL001", "SPF record tree of "+d, w.temp)}
	}

	var out []readiness.Finding
	broken := false
	if len(w.invalid) > 0 {
		broken = true
		out = append(out, blocker("EMAIL001",
			fmt.Sprintf("SPF record at %s (%s) leads to invalid records: %s; receivers return permerror once they get there", d, quote(top), strings.Join(w.invalid, "; ")),
			"fix or remove the broken include or redirect so every record it reaches is one valid v=spf1 record"))
	}
	if w.lookups > maxLookups {
		broken = true
		out = append(out, blocker("EMAIL003",
			fmt.Sprintf("SPF record at %s (%s) needs %d DNS lookups; receivers return permerror after %d", d, quote(top), w.lookups, maxLookups),
			"remove unused include/a/mx/exists/ptr terms or replace a and mx with ip4:/ip6: ranges so evaluation needs at most 10 lookups (8 or fewer leaves room for providers to grow)"))
	} else if w.lookups >= nearLookups {
		out = append(out, warning("EMAIL003",
			fmt.Sprintf("SPF record at %s (%s) needs %d DNS lookups, close to the limit of %d; one more include by a provider breaks SPF", d, quote(top), w.lookups, maxLookups),
			"replace a and mx terms with ip4:/ip6: ranges or drop unused includes to stay at 8 or fewer"))
	}
	if w.voids > maxVoidLookups {
		broken = true
		out = append(out, blocker("EMAIL003",
			fmt.Sprintf("SPF record at %s (%s) makes %d void lookups (names with no records: %s); receivers return permerror after %d", d, quote(top), w.voids, strings.Join(w.voidAt, ", "), maxVoidLookups),
			"remove the terms that point at names without records"))
	}
	if w.ptr {
		out = append(out, warning("EMAIL001",
			fmt.Sprintf("SPF record tree of %s (%s) uses the ptr mechanism, which RFC 7208 says not to use: it is slow, unreliable, and some receivers skip it", d, quote(top)),
			"replace ptr with ip4:/ip6: ranges or an include of the sending service"))
	}

	all := w.finalAll(d)
	switch all {
	case '+':
		out = append(out, blocker("EMAIL004",
			fmt.Sprintf("SPF record at %s ends in +all (%s): it authorises every host on the internet to send as the portal", d, quote(top)),
			fmt.Sprintf("end it in -all (or ~all while testing): %s", quote(c.suggestSPF(terms, nil, false)))))
	case '?':
		out = append(out, warning("EMAIL004",
			fmt.Sprintf("SPF record at %s ends in ?all (%s): unauthorised senders get neutral, not fail", d, quote(top)),
			fmt.Sprintf("end it in -all or ~all: %s", quote(c.suggestSPF(terms, nil, false)))))
	case 0:
		out = append(out, warning("EMAIL004",
			fmt.Sprintf("SPF record at %s has no all term and no redirect (%s): unauthorised senders get neutral, not fail", d, quote(top)),
			fmt.Sprintf("end it in -all or ~all: %s", quote(c.suggestSPF(terms, nil, false)))))
	}

	// Each sending address must pass.
	var missing []netip.Addr
	var ipFindings []readiness.Finding
	for _, ip := range c.ips {
		res, err := c.spfResult(ctx, l, ip)
		switch {
		case res == spf.TempError:
			ipFindings = append(ipFindings, unverified("EMAIL002", fmt.Sprintf("SPF result for sending address %s at %s", ip, d),
				&unverifiedError{qtype: "SPF", name: d, attempts: 2, timeout: l.timeout, err: errOr(err, "temperror")}))
		case res != spf.Pass:
			missing = append(missing, ip)
			ipFindings = append(ipFindings, blocker("EMAIL002",
				fmt.Sprintf("SPF at %s gives %s for sending address %s (%s); record: %s", d, res, ip, errText(err), quote(top)),
				""))
		}
	}
	for i := range ipFindings {
		if ipFindings[i].Fix == "" {
			ipFindings[i].Fix = fmt.Sprintf("authorise the sending service in the TXT record at %s: %s", d, quote(c.suggestSPF(terms, missing, false)))
		}
	}
	out = append(out, ipFindings...)
	if c.include != "" && !w.includes[c.include] {
		out = append(out, blocker("EMAIL002",
			fmt.Sprintf("SPF record at %s (%s) does not reach include:%s, the sending service's SPF", d, quote(top), c.include),
			fmt.Sprintf("publish at %s: %s", d, quote(c.suggestSPF(terms, nil, true)))))
	}

	// A stranger must not pass.
	probeReported := false
	for _, ip := range probeAddrs {
		res, err := c.spfResult(ctx, l, ip)
		switch {
		case res == spf.Pass && all != '+' && !probeReported:
			probeReported = true
			out = append(out, blocker("EMAIL004",
				fmt.Sprintf("SPF at %s passes for %s, a documentation address no real sender uses (%s), so it authorises any sender; record: %s", d, ip, errText(err), quote(top)),
				fmt.Sprintf("remove the over-broad term (0.0.0.0/0, ::/0, +all or a provider include that allows everyone): %s", quote(c.suggestSPF(terms, nil, false)))))
		case res == spf.PermError && !broken:
			broken = true
			out = append(out, blocker("EMAIL001",
				fmt.Sprintf("SPF at %s returns permerror for mail from other hosts (%s); record: %s", d, errText(err), quote(top)),
				"fix the record so receivers can evaluate it to the end (a valid term after every match, every include published)"))
		case res == spf.TempError && !probeReported:
			probeReported = true
			out = append(out, unverified("EMAIL004", fmt.Sprintf("SPF result for a stranger (%s) at %s", ip, d),
				&unverifiedError{qtype: "SPF", name: d, attempts: 2, timeout: l.timeout, err: errOr(err, "temperror")}))
		}
	}
	return out
}

// spfResult evaluates SPF for ip as a receiver would, retrying a temperror once.
func (c *Check) spfResult(ctx context.Context, l *lookup, ip netip.Addr) (spf.Result, error) {
	var (
		res spf.Result
		err error
	)
	for attempt := 0; attempt < 2; attempt++ {
		res, err = spf.CheckHostWithSender(net.IP(ip.AsSlice()), c.envelope, "postmaster@"+c.envelope,
			spf.WithResolver(spfResolver{l}), spf.WithContext(ctx))
		if res != spf.TempError || ctx.Err() != nil {
			break
		}
	}
	return res, err
}

// walkSPF follows the record's includes and redirect and counts the DNS
// lookups and void lookups a receiver makes when it evaluates every term.
func (c *Check) walkSPF(ctx context.Context, l *lookup, w *spfTree, domain string, terms []spfTerm, depth int, path map[string]bool) {
	if depth > maxLookups+1 || w.lookups > 4*maxLookups {
		return
	}
	hasAll := false
	for _, t := range terms {
		if !t.modifier && t.name == "all" {
			hasAll = true
		}
	}
	for _, t := range terms {
		if w.temp != nil {
			return
		}
		switch {
		case t.modifier && t.name == "redirect" && !hasAll, !t.modifier && t.name == "include":
			w.lookups++
			if t.macro() {
				continue
			}
			target := normDomain(t.domain)
			if t.name == "include" {
				w.includes[target] = true
			}
			if path[target] {
				w.invalid = append(w.invalid, fmt.Sprintf("%s loops back to %s", t.raw, target))
				continue
			}
			sub, ok := c.fetchSPF(ctx, l, w, target, t.raw)
			if !ok {
				continue
			}
			w.records[target] = sub
			path[target] = true
			c.walkSPF(ctx, l, w, target, sub, depth+1, path)
			delete(path, target)
		case t.modifier:
		case t.name == "a" || t.name == "exists" || t.name == "mx":
			w.lookups++
			if t.macro() {
				continue
			}
			target := domain
			if t.domain != "" {
				target = normDomain(t.domain)
			}
			var found bool
			var err error
			if t.name == "mx" {
				found, err = l.hasMX(ctx, target)
			} else {
				found, err = l.hasAddr(ctx, target)
			}
			if err != nil {
				w.temp = err
				return
			}
			if !found {
				w.voids++
				w.voidAt = append(w.voidAt, t.raw+" in "+domain)
			}
		case t.name == "ptr":
			w.lookups++
			w.ptr = true
		}
	}
}

// fetchSPF gets the single SPF record of an include or redirect target.
func (c *Check) fetchSPF(ctx context.Context, l *lookup, w *spfTree, target, via string) ([]spfTerm, bool) {
	txts, err := l.TXT(ctx, target)
	if err != nil && !notFound(err) {
		w.temp = err
		return nil, false
	}
	if notFound(err) || len(txts) == 0 {
		w.voids++
		w.voidAt = append(w.voidAt, via)
	}
	var spfs []string
	for _, t := range txts {
		if isSPF(t) {
			spfs = append(spfs, t)
		}
	}
	switch len(spfs) {
	case 0:
		w.invalid = append(w.invalid, fmt.Sprintf("%s: no SPF record at %s", via, target))
		return nil, false
	case 1:
	default:
		w.invalid = append(w.invalid, fmt.Sprintf("%s: %d SPF records at %s", via, len(spfs), target))
		return nil, false
	}
	terms, err := parseSPF(spfs[0])
	if err != nil {
		w.invalid = append(w.invalid, fmt.Sprintf("%s: record at %s is invalid (%v)", via, target, err))
		return nil, false
	}
	return terms, true
}

// finalAll returns the qualifier of the all term that ends evaluation of
// domain's record (following redirect=), or 0 when there is none.
func (w *spfTree) finalAll(domain string) byte {
	for i := 0; i <= maxLookups; i++ {
		terms, ok := w.records[domain]
		if !ok {
			return 0
		}
		next := ""
		for _, t := range terms {
			if !t.modifier && t.name == "all" {
				return t.qualifier
			}
			if t.modifier && t.name == "redirect" && !t.macro() {
				next = normDomain(t.domain)
			}
		}
		if next == "" {
			return 0
		}
		domain = next
	}
	return 0
}

// suggestSPF builds the record to publish: the current terms without all and
// ptr, plus what the sending service needs, ending in -all.
func (c *Check) suggestSPF(terms []spfTerm, addIPs []netip.Addr, addInclude bool) string {
	parts := []string{"v=spf1"}
	have := map[string]bool{}
	redirect := ""
	for _, t := range terms {
		switch {
		case !t.modifier && (t.name == "all" || t.name == "ptr"):
			continue
		case t.modifier && t.name == "redirect":
			redirect = t.raw
			continue
		case !t.modifier && (t.name == "ip4" || t.name == "ip6") && coversProbe(t.raw):
			continue // 0.0.0.0/0 and the like authorise everyone
		}
		parts = append(parts, t.raw)
		have[strings.ToLower(t.raw)] = true
	}
	if addInclude && c.include != "" && !have["include:"+c.include] {
		parts = append(parts, "include:"+c.include)
	}
	for _, ip := range addIPs {
		term := "ip4:" + ip.String()
		if ip.Is6() {
			term = "ip6:" + ip.String()
		}
		if !have[term] {
			parts = append(parts, term)
		}
	}
	if redirect != "" && len(parts) == 1 {
		parts = append(parts, redirect)
		return strings.Join(parts, " ")
	}
	return strings.Join(append(parts, "-all"), " ")
}

// coversProbe reports whether an ip4:/ip6: term authorises a probe address.
func coversProbe(raw string) bool {
	arg := raw[strings.IndexByte(raw, ':')+1:]
	if !strings.Contains(arg, "/") {
		return false
	}
	p, err := netip.ParsePrefix(arg)
	if err != nil {
		return false
	}
	for _, a := range probeAddrs {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = quote(s)
	}
	return strings.Join(q, ", ")
}

func errText(err error) string {
	if err == nil {
		return "no detail"
	}
	return err.Error()
}

func errOr(err error, s string) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("%s", s)
}
