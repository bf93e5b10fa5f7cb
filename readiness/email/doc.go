// Package email checks that mail from a client portal's sending domain will
// authenticate: it defends against password-reset and support mail landing in
// spam or being spoofed, because SPF, DKIM or DMARC is missing, broken or too
// permissive. It serves scorecard item 8, Email authentication (EMAIL001–EMAIL008).
//
// Use it in three lines:
//
//	chk, err := email.New(email.Config{FromDomain: "portal.example.com",
//		DKIMSelectors: []string{"s1"}, SPFInclude: "_spf.provider.example"})
//	target.Checks = append(target.Checks, chk) // runs in readiness.Run, Gate and Require
//
// The check queries DNS through Config.Resolver (default net.DefaultResolver),
// with Config.Timeout per query and one retry on a temporary failure. When a
// record cannot be fetched (offline, SERVFAIL, timeout) the result is
// "unverified": a blocker in production and a warning in development
// (readiness.Finding.ProductionOnly), never a pass, and the finding says which
// query failed and how. Every email blocker is ProductionOnly, because a
// development machine rarely sends through the production domain.
//
// What is checked:
//   - SPF (EMAIL001–EMAIL004) with blitiri.com.ar/go/spf: one valid v=spf1 record
//     at the envelope (Return-Path) domain; each configured sending IP gets
//     pass and the configured SPF include is reachable; a TEST-NET address
//     (192.0.2.1 and 2001:db8::1) must not pass, which catches +all, 0.0.0.0/0
//     and errors after the first match; the record tree is walked to count
//     DNS lookups (over 10 blocks, 9–10 warns) and void lookups (over 2
//     blocks), because the library stops at the first match and does not
//     expose its counters; ptr (EMAIL001) and ?all or no all (EMAIL004) warn.
//     A broken top-level record reports only EMAIL001, since every other
//     SPF result follows from it.
//   - DKIM (EMAIL005): each selector has exactly one key record with
//     v=DKIM1, a key that parses (RSA as PKIX or PKCS#1, Ed25519), not revoked
//     (empty p=), RSA of at least 1024 bits (blocker) and 2048 (warning), no
//     t=y testing flag (warning), h= allowing sha256. The key record parser is
//     our own (go-msgauth has no public one). With Config.DKIMSigner, a test
//     message is signed and verified against DNS with go-msgauth/dkim.
//   - DMARC (EMAIL006, EMAIL007) with github.com/emersion/go-msgauth/dmarc,
//     plus what it lacks: duplicate records are refused, and a From domain
//     without a record falls back to its organisational domain (and its sp=).
//   - Alignment (EMAIL008) of the From domain with the envelope and DKIM
//     domains under the record's aspf and adkim: a blocker when neither
//     aligns (DMARC fails for every message), a warning when only DKIM
//     does not (SPF alone breaks on forwarding); SPF alone misaligned is
//     normal with a provider's bounce domain and not reported.
//
// The organisational domain is approximated: the last two labels of the
// name, or the last three when the last two are a common multi-label public
// suffix (co.uk, com.au, …; see orgDomain). It is not the full Public Suffix
// List; for exotic suffixes set EnvelopeDomain and DKIMDomain explicitly and
// use strict alignment.
package email
