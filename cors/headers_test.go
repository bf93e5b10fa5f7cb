package cors_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/cors"
)

func TestHeadersDefaults(t *testing.T) {
	h, err := cors.NewHeaders(cors.HeadersConfig{})
	require.NoError(t, err)
	srv := h.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest("GET", "/api/me", nil))
	want := map[string]string{
		"Strict-Transport-Security":    "max-age=63072000; includeSubDomains",
		"X-Content-Type-Options":       "nosniff",
		"Content-Security-Policy":      "default-src 'none'; frame-ancestors 'none'",
		"Referrer-Policy":              "no-referrer",
		"Cross-Origin-Opener-Policy":   "same-origin",
		"Cross-Origin-Resource-Policy": "same-origin",
		"X-Frame-Options":              "DENY",
		"X-Xss-Protection":             "0",
	}
	for k, v := range want {
		assert.Equal(t, v, rec.Header().Get(k), k)
	}
	assert.Empty(t, rec.Header().Get("Cache-Control"), "anonymous responses keep their caching")
	assert.NotEqual(t, "1", rec.Header().Get("X-XSS-Protection"))
	assert.Equal(t, want["Content-Security-Policy"], srv.SecurityHeaders().Get("Content-Security-Policy"))
	assert.True(t, srv.NoStoreWhenAuthenticated())
	assert.NotNil(t, srv.Unwrap())
}

func TestHeadersNoStore(t *testing.T) {
	h, err := cors.NewHeaders(cors.HeadersConfig{Preset: cors.PresetPage})
	require.NoError(t, err)
	tests := []struct {
		name       string
		header     string
		handlerSet string
		want       string
	}{
		{"anonymous", "", "", ""},
		{"cookie", "Cookie", "", "no-store"},
		{"bearer", "Authorization", "", "no-store"},
		{"handler opts into caching", "Cookie", "private, max-age=60", "private, max-age=60"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := h.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.handlerSet != "" {
					w.Header().Set("Cache-Control", tt.handlerSet)
				}
				w.Header().Add("X-Content-Type-Options", "extra") // must not leak into the shared values
			}))
			r := httptest.NewRequest("GET", "/", nil)
			if tt.header != "" {
				r.Header.Set(tt.header, "x")
			}
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, r)
			assert.Equal(t, tt.want, rec.Header().Get("Cache-Control"))
			assert.Equal(t, cors.CSPPage, rec.Header().Get("Content-Security-Policy"))
			assert.Equal(t, []string{"nosniff"}, h.Header().Values("X-Content-Type-Options"))
		})
	}
}

func TestHeadersConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  cors.HeadersConfig
		err  string
		hsts string
	}{
		{"short hsts", cors.HeadersConfig{HSTSMaxAge: 24 * time.Hour}, "HeadersConfig.HSTSMaxAge is 24h0m0s; use at least one year", ""},
		{"csp without frame-ancestors", cors.HeadersConfig{CSP: "default-src 'self'"}, "no frame-ancestors directive", ""},
		{"csp injection", cors.HeadersConfig{CSP: "frame-ancestors 'none'\r\nSet-Cookie: x"}, "line break", ""},
		{"leaky referrer", cors.HeadersConfig{ReferrerPolicy: "unsafe-url"}, `ReferrerPolicy is "unsafe-url"`, ""},
		{"bad preset", cors.HeadersConfig{Preset: 7}, "HeadersConfig.Preset is 7", ""},
		{"one year preload", cors.HeadersConfig{HSTSMaxAge: cors.MinHSTSMaxAge, HSTSPreload: true}, "", "max-age=31536000; includeSubDomains; preload"},
		{"no hsts for dev", cors.HeadersConfig{InsecureNoHSTS: true}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := cors.NewHeaders(tt.cfg)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.hsts, h.Header().Get("Strict-Transport-Security"))
		})
	}
}
