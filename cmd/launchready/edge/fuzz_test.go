package edge_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/cmd/launchready/edge"
)

// FuzzParseSecurityTxt: the parser never panics, and whatever it accepts
// has a Contact and an Expires. Seeds in testdata/fuzz/FuzzParseSecurityTxt.
func FuzzParseSecurityTxt(f *testing.F) {
	f.Add([]byte("Contact: mailto:security@portal.test\nExpires: 2030-01-01T00:00:00Z\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := edge.ParseSecurityTxt(b)
		if err != nil {
			return
		}
		require.NotEmpty(t, st.Contact)
		require.False(t, st.Expires.IsZero())
	})
}

func TestParseSecurityTxt(t *testing.T) {
	signed := "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n# our policy\nContact: https://portal.test/report\ncontact: mailto:sec@portal.test\nExpires: 2031-05-01T10:00:00+02:00\nPolicy: https://portal.test/policy\n-----BEGIN PGP SIGNATURE-----\nxyz\n-----END PGP SIGNATURE-----\n"
	st, err := edge.ParseSecurityTxt([]byte(signed))
	require.NoError(t, err)
	assert.Equal(t, []string{"https://portal.test/report", "mailto:sec@portal.test"}, st.Contact)
	assert.True(t, st.Expires.Equal(time.Date(2031, 5, 1, 8, 0, 0, 0, time.UTC)))
	for in, want := range map[string]string{
		"Expires: 2031-05-01T10:00:00Z\n":               "no Contact",
		"Contact: mailto:a@b.test\n":                    "no Expires",
		"Contact: mailto:a@b.test\nExpires: tomorrow\n": "not an RFC 3339",
		"Contact: mailto:a@b.test\nExpires: 2031-05-01T10:00:00Z\nExpires: 2032-05-01T10:00:00Z\n": "more than one Expires",
		"Contact:\nExpires: 2031-05-01T10:00:00Z\n":                                                "empty Contact",
	} {
		_, err := edge.ParseSecurityTxt([]byte(in))
		assert.ErrorContains(t, err, want, in)
	}
}

// FuzzMixedContent: any bytes parse (as browsers parse any HTML), and
// every reported reference is an http:// URL found in the input.
func FuzzMixedContent(f *testing.F) {
	f.Add([]byte(`<script src="http://cdn.example/a.js"></script><img srcset="http://x.example/a.png 1x, /b.png 2x">`))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, r := range edge.MixedContent(b) {
			require.True(t, strings.HasPrefix(strings.ToLower(r.URL), "http://"), r.URL)
			if utf8.Valid(b) && !strings.ContainsAny(string(b), "&\x00\r") {
				require.Contains(t, string(b), r.URL)
			}
		}
	})
}

func TestMixedContent(t *testing.T) {
	page := `<!doctype html><html><head>
<link rel="stylesheet" href="HTTP://cdn.example/site.css">
<link rel="icon" href="http://cdn.example/favicon.ico">
<link rel="canonical" href="http://portal.example/">
<script src="https://cdn.example/ok.js"></script>
</head><body>
<a href="http://docs.example/">a link is navigation</a>
<img src="/local.png" srcset="/a.png 1x, http://cdn.example/b.png 2x">
<iframe src="http://widgets.example/frame"></iframe>
<form action="http://portal.example/login"></form>
<video poster="http://cdn.example/p.jpg"></video>
</body></html>`
	var got []string
	for _, r := range edge.MixedContent([]byte(page)) {
		kind := "passive"
		if r.Active {
			kind = "active"
		}
		got = append(got, r.Tag+" "+r.Attr+" "+kind)
	}
	assert.Equal(t, []string{
		"link href active", "link href passive", "img srcset passive",
		"iframe src active", "form action active", "video poster passive",
	}, got)
	svg := edge.MixedContent([]byte(`<svg><script href="http://x.example/a.js"></script><image xlink:href="http://x.example/i.png"/></svg>`))
	require.Len(t, svg, 2)
	assert.True(t, svg[0].Active)
	assert.False(t, svg[1].Active)
	assert.Empty(t, edge.MixedContent([]byte(`<script src="//cdn.example/x.js"></script><img src="data:image/png;base64,AA">`)),
		"protocol-relative and data: URLs are not mixed content")
}
