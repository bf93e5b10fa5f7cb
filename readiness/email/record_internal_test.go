package email

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseDKIMKeyRefuses(t *testing.T) {
	for rec, msg := range map[string]string{
		"k=rsa; v=DKIM1; p=":                   "v= must be the first tag",
		"v=DKIM2; p=":                          "not DKIM1",
		"v=DKIM1; k=dsa; p=AAAA":               "not rsa or ed25519",
		"v=DKIM1; k=rsa":                       "no p= tag",
		"v=DKIM1; p=!!!":                       "not valid base64",
		"v=DKIM1; p=AAAA":                      "neither a PKIX nor a PKCS#1",
		"v=DKIM1; k=ed25519; p=AAAA":           "32-byte key",
		"v=DKIM1; p=; p=":                      "appears twice",
		"v=DKIM1; 1x=2; p=":                    "invalid tag name",
		"v=DKIM1; novalue; p=":                 "has no '='",
		"v=DKIM1; n=a\x00b; p=":                "control character",
		"v=spf1 include:_spf.example.com -all": "is not DKIM1",
	} {
		_, err := parseDKIMKey(rec)
		if assert.Error(t, err, rec) {
			assert.Contains(t, err.Error(), msg, rec)
		}
	}
	k, err := parseDKIMKey("v=DKIM1; k=rsa; t=y:s; h=sha1:SHA256; s=*; p=")
	require.NoError(t, err)
	assert.True(t, k.revoked)
	assert.True(t, k.testing())
	assert.True(t, k.allowsSHA256())
	assert.True(t, k.allowsEmail())
}

func TestParseSPFRefuses(t *testing.T) {
	for _, rec := range []string{
		"v=spf1 ip4:198.51.100.300 -all",
		"v=spf1 ip4:2001:db8::1 -all",
		"v=spf1 ip6:198.51.100.1 -all",
		"v=spf1 ip4:198.51.100.0/33 -all",
		"v=spf1 include -all",
		"v=spf1 all:x",
		"v=spf1 foo:bar -all",
		"v=spf1 redirect=a.example redirect=b.example",
		"v=spf1 a//129 -all",
		"v=spf1 include:bad..name -all",
		"v=spf10 -all",
	} {
		_, err := parseSPF(rec)
		assert.Error(t, err, rec)
	}
	terms, err := parseSPF("v=spf1 +a mx:mx.example.com/24//64 -ip4:192.0.2.0/24 exists:%{i}.x.example ~all unknown-mod=1")
	require.NoError(t, err)
	require.Len(t, terms, 6)
	assert.Equal(t, byte('-'), terms[2].qualifier)
	assert.True(t, terms[3].macro())
	assert.True(t, terms[5].modifier)
}

func TestOrgDomain(t *testing.T) {
	for in, want := range map[string]string{
		"example.com": "example.com", "portal.example.com": "example.com", "a.b.example.co.uk": "example.co.uk",
		"example.co.uk": "example.co.uk", "com": "com", "Portal.Example.COM.": "example.com",
	} {
		assert.Equal(t, want, orgDomain(in), in)
	}
}
