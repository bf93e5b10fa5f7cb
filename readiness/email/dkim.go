package email

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/launchready/launchready/readiness"
)

const (
	minRSABits  = 1024 // below: blocker (receivers ignore the signature)
	goodRSABits = 2048 // below: warning
)

func (c *Check) checkDKIM(ctx context.Context, l *lookup) []readiness.Finding {
	var out []readiness.Finding
	for _, sel := range c.selectors {
		name := sel + "._domainkey." + c.dkimDomain
		genFix := fmt.Sprintf("publish one TXT record at %s with the sending service's key: \"v=DKIM1; k=rsa; p=<base64 of a 2048-bit public key>\" (or k=ed25519 alongside an RSA selector)", name)
		txts, err := l.TXT(ctx, name)
		if isUnverified(err) {
			out = append(out, unverified("EMAIL005", "DKIM key for selector "+sel, err))
			continue
		}
		var keys []string
		for _, t := range txts {
			// Records that are not key records (no p= at all) do not count.
			if strings.Contains(t, "p=") || strings.HasPrefix(strings.TrimSpace(t), "v=DKIM1") {
				keys = append(keys, t)
			}
		}
		switch {
		case len(keys) == 0:
			out = append(out, blocker("EMAIL005",
				fmt.Sprintf("no DKIM key record at %s: receivers cannot verify signatures of selector %s", name, sel), genFix))
			continue
		case len(keys) > 1:
			out = append(out, blocker("EMAIL005",
				fmt.Sprintf("%d DKIM key records at %s; receivers pick one at random and verification fails intermittently", len(keys), name), genFix))
			continue
		}
		rec := keys[0]
		k, err := parseDKIMKey(rec)
		if err != nil {
			out = append(out, blocker("EMAIL005",
				fmt.Sprintf("DKIM key record at %s is invalid (%v): %s", name, err, quote(shorten(rec))), genFix))
			continue
		}
		if k.revoked {
			out = append(out, blocker("EMAIL005",
				fmt.Sprintf("DKIM key at %s is revoked (empty p=): %s; every signature with selector %s fails", name, quote(rec), sel),
				"sign with a selector that has a current key, or publish the new key at "+name))
			continue
		}
		if !k.allowsEmail() {
			out = append(out, blocker("EMAIL005",
				fmt.Sprintf("DKIM key at %s is restricted to services %s, not email", name, strings.Join(k.services, ":")),
				"remove the s= tag or set s=email"))
		}
		if !k.allowsSHA256() {
			out = append(out, blocker("EMAIL005",
				fmt.Sprintf("DKIM key at %s allows only h=%s; signatures use sha256 (sha1 is obsolete, RFC 8301)", name, strings.Join(k.hashes, ":")),
				"remove the h= tag or set h=sha256"))
		}
		if k.keyType == "rsa" && k.bits < minRSABits {
			out = append(out, blocker("EMAIL005",
				fmt.Sprintf("DKIM key at %s is RSA %d bits; receivers ignore signatures with keys under %d bits (RFC 8301)", name, k.bits, minRSABits),
				"generate a 2048-bit key, publish it under a new selector and switch signing to it"))
		} else if k.keyType == "rsa" && k.bits < goodRSABits {
			out = append(out, warning("EMAIL005",
				fmt.Sprintf("DKIM key at %s is RSA %d bits; %d bits is the current recommendation", name, k.bits, goodRSABits),
				"generate a 2048-bit key, publish it under a new selector and switch signing to it"))
		}
		if k.testing() {
			out = append(out, warning("EMAIL005",
				fmt.Sprintf("DKIM key at %s has t=y (testing): receivers may treat its signatures as absent", name),
				"remove t=y from the record once signing works"))
		}
		if c.signer != nil && sel == c.signerSelector {
			if f, ok := c.signAndVerify(ctx, l, name); !ok {
				out = append(out, f)
			}
		}
	}
	return out
}

// signAndVerify signs a test message with the configured private key and
// verifies it against the published record.
func (c *Check) signAndVerify(ctx context.Context, l *lookup, name string) (readiness.Finding, bool) {
	msg := "From: readiness-check@" + c.from + "\r\nTo: postmaster@" + c.from +
		"\r\nSubject: launchready DKIM self-test\r\n\r\nThis message is signed and verified locally; it is never sent.\r\n"
	var signed bytes.Buffer
	err := dkim.Sign(&signed, strings.NewReader(msg), &dkim.SignOptions{
		Domain: c.dkimDomain, Selector: c.signerSelector, Signer: c.signer,
		HeaderKeys: []string{"From", "To", "Subject"},
	})
	if err != nil {
		return blocker("EMAIL005", fmt.Sprintf("signing a test message with Config.DKIMSigner failed: %v", err),
			"check that Config.DKIMSigner is the key the portal signs with"), false
	}
	vs, err := dkim.VerifyWithOptions(&signed, &dkim.VerifyOptions{
		LookupTXT: func(domain string) ([]string, error) { return l.TXT(ctx, domain) },
	})
	if err == nil && len(vs) == 1 && vs[0].Err == nil {
		return readiness.Finding{}, true
	}
	if err == nil && len(vs) == 1 {
		err = vs[0].Err
	}
	if isUnverified(err) {
		return unverified("EMAIL005", "DKIM self-test signature for "+name, err), false
	}
	return blocker("EMAIL005",
		fmt.Sprintf("a test message signed with Config.DKIMSigner does not verify against the key at %s: %v", name, err),
		fmt.Sprintf("publish the public half of the signing key at %s, or set DKIMSignerSelector to the selector that holds it", name)), false
}

// shorten keeps a long key record readable in the report.
func shorten(s string) string {
	if len(s) <= 120 {
		return s
	}
	return s[:100] + "…(" + fmt.Sprint(len(s)) + " bytes)"
}
