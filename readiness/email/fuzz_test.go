package email

// The fuzz targets live in the internal test package because the record
// parsers are unexported. Seed corpora: testdata/fuzz/FuzzXxx/.

import (
	"crypto/rsa"
	"strings"
	"testing"
)

func FuzzDKIMKey(f *testing.F) {
	for _, s := range []string{
		"v=DKIM1; k=rsa; p=",
		"v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
		"v=DKIM1; h=sha1:sha256; t=y:s; s=email; p=MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAK",
		"k=rsa; v=DKIM1; p=AA==",
		"v=DKIM1;;p= AB CD ;",
		"v=DKIM1; p=\x00",
		"p=a=b; x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := parseDKIMKey(s)
		if err != nil {
			return
		}
		if k.keyType != "rsa" && k.keyType != "ed25519" {
			t.Fatalf("accepted key type %q", k.keyType)
		}
		if k.revoked != (k.key == nil) {
			t.Fatalf("revoked=%v but key=%v", k.revoked, k.key)
		}
		if r, ok := k.key.(*rsa.PublicKey); ok && r.N.BitLen() != k.bits {
			t.Fatalf("bits %d != modulus %d", k.bits, r.N.BitLen())
		}
		// The tag list is well formed: re-parsing gives the same tags.
		tags, err := parseTagList(s)
		if err != nil {
			t.Fatalf("key parsed but tag list does not: %v", err)
		}
		for _, tg := range tags {
			if !validTagName(tg[0]) {
				t.Fatalf("invalid tag name %q accepted", tg[0])
			}
		}
	})
}

func FuzzTagList(f *testing.F) {
	for _, s := range []string{"a=1; b=2", "a=1;a=2", " a = x y ;", "=x", "a", "a=\t;b=", "1a=2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tags, err := parseTagList(s)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		var b strings.Builder
		for _, tg := range tags {
			if seen[tg[0]] {
				t.Fatalf("duplicate tag %q accepted", tg[0])
			}
			seen[tg[0]] = true
			if strings.ContainsAny(tg[1], ";") {
				t.Fatalf("value %q contains ';'", tg[1])
			}
			b.WriteString(tg[0] + "=" + tg[1] + ";")
		}
		again, err := parseTagList(b.String())
		if err != nil || len(again) != len(tags) {
			t.Fatalf("round trip of %q: %v, %d tags want %d", b.String(), err, len(again), len(tags))
		}
	})
}

func FuzzSPF(f *testing.F) {
	for _, s := range []string{
		"v=spf1 include:_spf.provider.test -all",
		"v=spf1 ip4:198.51.100.0/24 ip6:2001:db8::/32 a mx:mx.example.com/24//64 ~all",
		"v=spf1 redirect=_spf.example.com",
		"v=spf1 exists:%{i}._spf.example.com ptr ?all exp=explain.example.com",
		"v=spf1 ip4:198.51.100.300 -all",
		"v=spf1 a//129",
		"V=SPF1 +ALL",
		"v=spf10 -all",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		terms, err := parseSPF(s)
		if err != nil {
			return
		}
		// Re-joining the raw terms parses to the same terms.
		raws := []string{"v=spf1"}
		for _, tm := range terms {
			raws = append(raws, tm.raw)
			switch tm.qualifier {
			case '+', '-', '~', '?':
			default:
				t.Fatalf("qualifier %q", tm.qualifier)
			}
			if tm.name == "include" && tm.domain == "" {
				t.Fatalf("include without domain accepted")
			}
		}
		again, err := parseSPF(strings.Join(raws, " "))
		if err != nil || len(again) != len(terms) {
			t.Fatalf("round trip: %v (%d terms, want %d)", err, len(again), len(terms))
		}
	})
}
