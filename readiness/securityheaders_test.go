package readiness_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/cors"
	"github.com/launchready/launchready/readiness"
)

// TestSecurityHeaderFindings: the headers cors.NewHeaders sets pass the
// CORS007 rules; each one removed or weakened is reported.
func TestSecurityHeaderFindings(t *testing.T) {
	hdr, err := cors.NewHeaders(cors.HeadersConfig{Preset: cors.PresetPage})
	require.NoError(t, err)
	assert.Empty(t, readiness.SecurityHeaderFindings(hdr.Header()))

	for _, tc := range []struct {
		name   string
		change func(http.Header)
		sev    readiness.Severity
		seen   string
	}{
		{"no HSTS", func(h http.Header) { h.Del("Strict-Transport-Security") }, readiness.Blocker, "no Strict-Transport-Security"},
		{"short HSTS", func(h http.Header) { h.Set("Strict-Transport-Security", "max-age=86400") }, readiness.Blocker, "shorter than one year"},
		{"sniffing", func(h http.Header) { h.Del("X-Content-Type-Options") }, readiness.Blocker, "nosniff"},
		{"framing", func(h http.Header) {
			h.Set("Content-Security-Policy", "default-src 'self'")
			h.Del("X-Frame-Options")
		}, readiness.Blocker, "frame-ancestors"},
		{"no referrer policy", func(h http.Header) { h.Del("Referrer-Policy") }, readiness.Blocker, "Referrer-Policy"},
		{"XSS auditor on", func(h http.Header) { h.Set("X-XSS-Protection", "1; mode=block") }, readiness.Blocker, "X-XSS-Protection"},
		{"no COOP", func(h http.Header) { h.Del("Cross-Origin-Opener-Policy") }, readiness.Warning, "Cross-Origin-Opener-Policy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := hdr.Header()
			tc.change(h)
			got := readiness.SecurityHeaderFindings(h)
			require.Len(t, got, 1)
			assert.Equal(t, "CORS007", got[0].ID)
			assert.Equal(t, readiness.ItemCORS, got[0].Item)
			assert.Equal(t, tc.sev, got[0].Severity)
			assert.Contains(t, got[0].Seen, tc.seen)
		})
	}
}

// TestCookieFindings: a cookie as the session package sets it passes;
// each missing attribute is reported with the SESS rule's ID.
func TestCookieFindings(t *testing.T) {
	good := &http.Cookie{Name: "__Host-session", Value: "v", Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode}
	assert.Empty(t, readiness.CookieFindings(good, "GET /"))
	ids := func(c *http.Cookie) []string {
		var out []string
		for _, f := range readiness.CookieFindings(c, "GET /") {
			out = append(out, f.ID)
		}
		return out
	}
	assert.Equal(t, []string{"SESS001", "SESS002", "SESS003", "SESS004"}, ids(&http.Cookie{Name: "sid", Value: "v"}))
	assert.Equal(t, []string{"SESS003"}, ids(&http.Cookie{Name: "__Host-s", Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteNoneMode}))
	assert.Equal(t, []string{"SESS004"}, ids(&http.Cookie{Name: "s", Path: "/", Domain: "example.com", Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode}))
}
