package probe_test

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/launchready/launchready/cors"
	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/readiness/probe"
)

// The CORS probe in an app's test: look-alike origins must get no grant and
// cross-site posts must be refused. Here the policy holds; the hand-written
// middleware in front of it does not.
func ExampleCORSProbe() {
	policy, _ := cors.New(cors.Config{AllowedOrigins: []string{"https://portal.example.com"}, AllowCredentials: true})
	headers, _ := cors.NewHeaders(cors.HeadersConfig{})
	app := headers.Handler(policy.Handler(newCORSMux("GET /api/me", "POST /api/tickets")))

	// A prefix match written by hand trusts https://portal.example.com.evil.test.
	leaky := corsRaw{next: app, serve: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); len(o) >= 26 && o[:26] == "https://portal.example.com" {
			w.Header().Set("Access-Control-Allow-Origin", o)
		}
		app.ServeHTTP(w, r)
	})}

	report, _ := readiness.Run(context.Background(), readiness.Target{
		Server: &http.Server{Handler: leaky, ReadHeaderTimeout: time.Second, ReadTimeout: time.Second,
			WriteTimeout: time.Second, IdleTimeout: time.Second, MaxHeaderBytes: 1 << 16},
		ShutdownTimeout: time.Second, AllowedHosts: []string{"portal.example.com"},
		Checks: []readiness.Check{probe.CORSProbe{}},
	})
	for _, f := range report.ByID("CORS008") {
		fmt.Println(f.Route, "|", f.Seen)
	}
	// Output:
	// GET /api/me | a preflight from the untrusted origin "https://portal.example.com.evil.test" to /api/me received Access-Control-Allow-Origin "https://portal.example.com.evil.test"
	// GET /api/me | a credentialed GET from the untrusted origin "https://portal.example.com.evil.test" to /api/me received Access-Control-Allow-Origin "https://portal.example.com.evil.test"
}
