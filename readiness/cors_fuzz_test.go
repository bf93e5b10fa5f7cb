package readiness_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/launchready/launchready/readiness"
)

// corsHeaders is a third-party headers middleware reporting arbitrary values.
type corsHeaders struct {
	next http.Handler
	h    http.Header
}

func (c corsHeaders) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.next.ServeHTTP(w, r) }
func (c corsHeaders) Unwrap() http.Handler                             { return c.next }
func (c corsHeaders) SecurityHeaders() http.Header                     { return c.h }

// FuzzCORSSecurityHeaders feeds arbitrary header values to the CORS007
// check: it never panics, and accepts an HSTS value only with a max-age of
// at least one year.
func FuzzCORSSecurityHeaders(f *testing.F) {
	f.Add("max-age=63072000; includeSubDomains", "default-src 'none'; frame-ancestors 'none'")
	f.Add("max-age=\"31536000\"", "frame-ancestors 'self'")
	f.Add("max-age=86400", "")
	f.Add("MAX-AGE=99999999999999999999", "default-src 'self'")
	f.Add(";;=;max-age", "frame-ancestors")
	f.Fuzz(func(t *testing.T, hsts, csp string) {
		h := http.Header{}
		h.Set("Strict-Transport-Security", hsts)
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		target := readiness.Target{Server: &http.Server{Handler: corsHeaders{next: newCORSMux("GET /x"), h: h}}}
		r, err := readiness.Run(context.Background(), // t.Context() ends with -fuzztime mid-run
			target)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.ByID("CHECK000")) > 0 {
			t.Fatalf("check panicked: %v", r.ByID("CHECK000"))
		}
		for _, f := range r.ByID("CORS007") {
			n, err := strconv.ParseInt(strings.TrimPrefix(hsts, "max-age="), 10, 64)
			if strings.Contains(f.Seen, "Strict-Transport-Security") && strings.HasPrefix(hsts, "max-age=") && err == nil && n >= 31536000 {
				t.Fatalf("a two-year HSTS was refused: %q", hsts)
			}
		}
	})
}
