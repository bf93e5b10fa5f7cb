package authz_test

import (
	"errors"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/authz"
)

// CheckRequest skips escaping plain paths. Paths set directly on the URL
// (RawPath empty, as a proxy or a test builds them) must still be refused
// when their escaped form is: a '%', '\', ';' or control character in the
// decoded path.
func TestCheckRequestDecodedPaths(t *testing.T) {
	for _, tc := range []struct {
		path string
		want error
	}{
		{"/api/clients/client-a/tickets/7", nil},
		{"/files/report-2026_v1.pdf", nil},
		{"/files/a b", nil},                    // escaped as %20
		{"/files/caf\u00e9", nil},              // escaped as %C3%A9
		{"/files/what?", nil},                  // escaped as %3F
		{"/files/a%2Fb", authz.ErrEncodedPath}, // a decoded '%': %25 escaped
		{"/files/..\\admin", authz.ErrEncodedPath},
		{"/files/a;b", authz.ErrPathCharacter},
		{"/files/a\x00b", authz.ErrEncodedPath},
		{"/files/a\x7fb", authz.ErrEncodedPath},
		{"/files/a\nb", authz.ErrEncodedPath},
	} {
		t.Run(tc.path, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.URL = &url.URL{Path: tc.path}
			got := authz.CheckRequest(r)
			assert.Equal(t, authz.CheckPath(r.URL.EscapedPath()), got, "the verdict of the full check")
			if tc.want == nil {
				assert.NoError(t, got)
			} else {
				assert.ErrorIs(t, got, tc.want)
			}
		})
	}
}

// FuzzCheckRequestPath: whatever the decoded path (and raw path), CheckRequest
// gives the verdict of CheckPath on the escaped path, fast path or not.
func FuzzCheckRequestPath(f *testing.F) {
	for _, s := range []string{"/api/clients/c1", "/a b", "/a%b", "/a;b", "/a\\b", "/\x00", "*", "/caf\u00e9", "/a/../b", "/$&+,:=@~"} {
		f.Add(s, "")
	}
	f.Add("/a/b", "/a%2Fb")
	f.Add("/a/b", "/a/b")
	f.Fuzz(func(t *testing.T, path, raw string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.URL = &url.URL{Path: path, RawPath: raw}
		got := authz.CheckRequest(r)
		want := authz.CheckPath(r.URL.EscapedPath())
		require.True(t, errors.Is(got, want) && (got == nil) == (want == nil), "CheckRequest(%q, raw %q) = %v, CheckPath(EscapedPath) = %v", path, raw, got, want)
	})
}
