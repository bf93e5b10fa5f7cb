package email

import (
	"context"
	"fmt"
	"strings"

	"github.com/emersion/go-msgauth/dmarc"

	"github.com/launchready/launchready/readiness"
)

// dmarcResult is the policy that applies to the From domain.
type dmarcResult struct {
	rec      *dmarc.Record // nil when missing, duplicated, invalid or unverified
	at       string        // where the record was found (_dmarc.<domain>)
	findings []readiness.Finding
}

func (c *Check) checkDMARC(ctx context.Context, l *lookup) dmarcResult {
	fix := fmt.Sprintf("publish one TXT record at _dmarc.%s: \"v=DMARC1; p=quarantine; rua=mailto:dmarc-reports@%s\" (p=reject once reports are clean)", c.from, c.from)
	domains := []string{c.from}
	if org := orgDomain(c.from); org != c.from {
		domains = append(domains, org) // RFC 7489 section 6.6.3 fallback
	}
	for i, d := range domains {
		name := "_dmarc." + d
		txts, err := l.TXT(ctx, name)
		if isUnverified(err) {
			return dmarcResult{findings: []readiness.Finding{unverified("EMAIL006", "DMARC record at "+name, err)}}
		}
		var recs []string
		for _, t := range txts {
			if strings.HasPrefix(t, "v=DMARC1") {
				recs = append(recs, t)
			}
		}
		if len(recs) == 0 {
			continue
		}
		if len(recs) > 1 {
			return dmarcResult{findings: []readiness.Finding{blocker("EMAIL006",
				fmt.Sprintf("%d DMARC records at %s (%s); receivers apply no policy when there is more than one", len(recs), name, quoteAll(recs)),
				"keep exactly one: "+fix)}}
		}
		rec, err := dmarc.LookupWithOptions(d, &dmarc.LookupOptions{
			LookupTXT: func(n string) ([]string, error) { return l.TXT(ctx, n) },
		})
		if err != nil {
			return dmarcResult{findings: []readiness.Finding{blocker("EMAIL006",
				fmt.Sprintf("DMARC record at %s is invalid (%v): %s", name, strings.TrimPrefix(err.Error(), "dmarc: "), quote(recs[0])),
				fix)}}
		}
		r := dmarcResult{rec: rec, at: name}
		policy, which := rec.Policy, "p"
		inherited := ""
		if i > 0 {
			inherited = fmt.Sprintf(" (no record at _dmarc.%s; the organisational domain's applies)", c.from)
			if rec.SubdomainPolicy != "" {
				policy, which = rec.SubdomainPolicy, "sp"
			}
		}
		if policy == dmarc.PolicyNone {
			// The checklist asks for at least quarantine: p=none only
			// monitors. A blocker in production, a warning in development.
			r.findings = append(r.findings, blocker("EMAIL006",
				fmt.Sprintf("DMARC at %s has %s=none%s: %s; receivers deliver spoofed mail as if it were the portal's", name, which, inherited, quote(recs[0])),
				fmt.Sprintf("once aggregate reports show the portal's mail passing, set %s=quarantine, then %s=reject", which, which)))
		}
		if len(rec.ReportURIAggregate) == 0 {
			// DESIGN's catalogue: a warning. Without reports nobody sees
			// spoofing or the portal's own mail failing.
			r.findings = append(r.findings, warning("EMAIL007",
				fmt.Sprintf("DMARC at %s has no rua=%s: nobody learns when mail fails authentication", name, inherited),
				fmt.Sprintf("add rua=mailto:dmarc-reports@%s (or your DMARC report service) to the record", d)))
		}
		if rec.Percent != nil && *rec.Percent < 100 {
			r.findings = append(r.findings, warning("EMAIL007",
				fmt.Sprintf("DMARC at %s has pct=%d%s: the policy applies to only part of failing mail", name, *rec.Percent, inherited),
				"remove pct= (100 is the default)"))
		}
		return r
	}
	return dmarcResult{findings: []readiness.Finding{blocker("EMAIL006",
		fmt.Sprintf("no DMARC record at _dmarc.%s%s; receivers apply no policy, and Gmail and Yahoo require one from bulk senders", c.from,
			orgNote(c.from)), fix)}}
}

func orgNote(from string) string {
	if org := orgDomain(from); org != from {
		return " or at _dmarc." + org
	}
	return ""
}

// checkAlignment reports a From domain that cannot align (RFC 7489 section
// 3.1) with the SPF (envelope) domain or the DKIM d= domain. DMARC passes
// when either aligns, so a blocker needs both to fail; DKIM alone failing is
// a warning, because DKIM is what survives forwarding. SPF alone failing is
// normal with a provider's bounce domain and is not reported.
func (c *Check) checkAlignment(dm dmarcResult) []readiness.Finding {
	aspf, adkim := dmarc.AlignmentMode(dmarc.AlignmentRelaxed), dmarc.AlignmentMode(dmarc.AlignmentRelaxed)
	src := "no DMARC record read, so relaxed alignment (the default)"
	if dm.rec != nil {
		aspf, adkim = dm.rec.SPFAlignment, dm.rec.DKIMAlignment
		src = "the record at " + dm.at
	}
	spfOK := aligned(c.from, c.envelope, aspf)
	dkimOK := aligned(c.from, c.dkimDomain, adkim)
	switch {
	case !spfOK && !dkimOK:
		return []readiness.Finding{blocker("EMAIL008",
			fmt.Sprintf("From domain %s aligns with neither the SPF domain %s (aspf=%s) nor the DKIM domain %s (adkim=%s) under %s; DMARC fails for every message",
				c.from, c.envelope, aspf, c.dkimDomain, adkim, src),
			alignFix(c.from, aspf, adkim))}
	case !dkimOK:
		return []readiness.Finding{warning("EMAIL008",
			fmt.Sprintf("From domain %s does not align with the DKIM domain %s (adkim=%s) under %s; DMARC rests on SPF alone, which breaks when mail is forwarded",
				c.from, c.dkimDomain, adkim, src),
			alignFix(c.from, aspf, adkim))}
	}
	return nil
}

func alignFix(from string, aspf, adkim dmarc.AlignmentMode) string {
	if aspf == dmarc.AlignmentStrict || adkim == dmarc.AlignmentStrict {
		return fmt.Sprintf("have the sending service sign with d=%s and use a Return-Path in %s, or relax the record to aspf=r; adkim=r", from, from)
	}
	return fmt.Sprintf("have the sending service sign with d=%s (a custom DKIM domain) and use a Return-Path under %s", orgDomain(from), orgDomain(from))
}

func aligned(from, other string, mode dmarc.AlignmentMode) bool {
	if mode == dmarc.AlignmentStrict {
		return from == other
	}
	return orgDomain(from) == orgDomain(other)
}

// multiLabelSuffixes approximates the public suffixes with two labels that
// businesses commonly register under. It is not the Public Suffix List.
var multiLabelSuffixes = map[string]bool{
	"co.uk": true, "org.uk": true, "ac.uk": true, "gov.uk": true, "ltd.uk": true, "plc.uk": true, "me.uk": true,
	"com.au": true, "net.au": true, "org.au": true, "edu.au": true, "gov.au": true,
	"co.nz": true, "org.nz": true, "net.nz": true, "co.jp": true, "ne.jp": true, "or.jp": true,
	"com.br": true, "net.br": true, "org.br": true, "co.za": true, "org.za": true,
	"com.cn": true, "net.cn": true, "org.cn": true, "co.in": true, "net.in": true, "org.in": true,
	"com.mx": true, "com.ar": true, "com.tr": true, "com.sg": true, "com.hk": true, "co.kr": true,
	"co.il": true, "com.tw": true, "co.id": true, "com.my": true, "com.ph": true, "com.pl": true,
}

// orgDomain approximates the organisational domain (RFC 7489 section 3.2):
// the last two labels, or three under a known two-label public suffix.
func orgDomain(d string) string {
	d = normDomain(d)
	labels := strings.Split(d, ".")
	n := 2
	if len(labels) >= 3 && multiLabelSuffixes[strings.Join(labels[len(labels)-2:], ".")] {
		n = 3
	}
	if len(labels) <= n {
		return d
	}
	return strings.Join(labels[len(labels)-n:], ".")
}
