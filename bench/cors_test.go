package bench

import (
	"net/http"
	"testing"

	rscors "github.com/rs/cors"
	"github.com/unrolled/secure"

	"github.com/launchready/launchready/cors"
)

// benchWriter is a reusable ResponseWriter so the benchmarks measure the
// middleware, not httptest.ResponseRecorder.
type benchWriter struct {
	h    http.Header
	code int
}

func (w *benchWriter) Header() http.Header         { return w.h }
func (w *benchWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *benchWriter) WriteHeader(code int)        { w.code = code }

func runHandler(b *testing.B, h http.Handler, r *http.Request) {
	w := &benchWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		clear(w.h)
		h.ServeHTTP(w, r)
	}
}

var benchOK = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})

func benchCORSHandlers(b *testing.B) map[string]http.Handler {
	origins := []string{"https://portal.example.com", "https://admin.example.com"}
	p, err := cors.New(cors.Config{AllowedOrigins: origins, AllowCredentials: true, AllowedMethods: []string{"GET", "POST", "PATCH"}})
	if err != nil {
		b.Fatal(err)
	}
	raw := rscors.New(rscors.Options{AllowedOrigins: origins, AllowCredentials: true,
		AllowedMethods: []string{"GET", "POST", "PATCH"}, AllowedHeaders: []string{"Accept", "Content-Type"}, MaxAge: 600})
	return map[string]http.Handler{"launchready": p.Handler(benchOK), "rs-cors": raw.Handler(benchOK)}
}

// BenchmarkCORSAllowedOrigin: a credentialed GET from a trusted origin.
func BenchmarkCORSAllowedOrigin(b *testing.B) {
	hs := benchCORSHandlers(b)
	for _, impl := range []string{"launchready", "rs-cors"} {
		b.Run("impl="+impl, func(b *testing.B) {
			r, _ := http.NewRequest(http.MethodGet, "https://api.example.com/api/clients/1", nil)
			r.Header.Set("Origin", "https://admin.example.com")
			r.Header.Set("Cookie", "__Host-session=x")
			runHandler(b, hs[impl], r)
		})
	}
}

// BenchmarkCORSPreflight: a granted preflight for PATCH with Content-Type.
func BenchmarkCORSPreflight(b *testing.B) {
	hs := benchCORSHandlers(b)
	for _, impl := range []string{"launchready", "rs-cors"} {
		b.Run("impl="+impl, func(b *testing.B) {
			r, _ := http.NewRequest(http.MethodOptions, "https://api.example.com/api/tickets/1", nil)
			r.Header.Set("Origin", "https://admin.example.com")
			r.Header.Set("Access-Control-Request-Method", "PATCH")
			r.Header.Set("Access-Control-Request-Headers", "content-type")
			runHandler(b, hs[impl], r)
		})
	}
}

// BenchmarkSecurityHeaders: the API preset against unrolled/secure set up
// to write the same headers.
func BenchmarkSecurityHeaders(b *testing.B) {
	ours, err := cors.NewHeaders(cors.HeadersConfig{})
	if err != nil {
		b.Fatal(err)
	}
	peer := secure.New(secure.Options{
		STSSeconds: 63072000, STSIncludeSubdomains: true, ForceSTSHeader: true,
		ContentTypeNosniff: true, ContentSecurityPolicy: cors.CSPAPI, ReferrerPolicy: "no-referrer",
		CrossOriginOpenerPolicy: "same-origin", CrossOriginResourcePolicy: "same-origin",
		FrameDeny: true, BrowserXssFilter: true, CustomBrowserXssValue: "0",
	})
	hs := map[string]http.Handler{"launchready": ours.Handler(benchOK), "unrolled-secure": peer.Handler(benchOK)}
	for _, impl := range []string{"launchready", "unrolled-secure"} {
		b.Run("impl="+impl, func(b *testing.B) {
			r, _ := http.NewRequest(http.MethodGet, "https://api.example.com/api/clients/1", nil)
			runHandler(b, hs[impl], r)
		})
	}
}
