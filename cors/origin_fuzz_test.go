package cors_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/launchready/launchready/cors"
)

// FuzzOrigin feeds arbitrary configured origins to New. Whatever it accepts
// must never grant the look-alikes or "null", and must be granted itself
// when it is an exact origin.
func FuzzOrigin(f *testing.F) {
	for _, s := range []string{"https://portal.example.com", "h*", "null", "https://*.example.com", "http://localhost:8080", "https://[::1]:8443", "https://a.b/", "https://x:443", "*"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, wild bool) {
		p, err := cors.New(cors.Config{AllowedOrigins: []string{s}, AllowCredentials: true, InsecureAllowHTTP: true, InsecureAllowWildcardSubdomains: wild})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "cors: ") {
				t.Fatalf("error without prefix: %v", err)
			}
			return
		}
		h := p.Handler(http.NotFoundHandler())
		for _, evil := range []string{"null", "https://evil.test", s + ".evil.test", "https://evil" + strings.TrimPrefix(s, "https://")} {
			if evil == s {
				continue
			}
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Origin", evil)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "" {
				t.Fatalf("config %q granted %q", s, evil)
			}
		}
		if !strings.Contains(s, "*") {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Origin", s)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if got := rec.Header().Get("Access-Control-Allow-Origin"); got != s {
				t.Fatalf("accepted %q but did not grant it (got %q)", s, got)
			}
		}
	})
}
