// Package cors is the browser trust boundary of a client portal (scorecard
// item 6, CORS policy): it defends against other web sites reading the
// portal's API with the user's cookies (CORS misconfiguration), submitting
// state-changing requests on the user's behalf (CSRF), and framing, sniffing
// or caching the portal's responses (missing security headers).
//
// One trusted-origin list feeds two protections: the CORS grants (done by
// github.com/rs/cors underneath) and cross-origin request protection (done by
// net/http.CrossOriginProtection). The list is validated once, at New: `*`
// with credentials, `null`, patterns like `h*`, origins with paths, trailing
// slashes, default ports or capitals, plain-http origins, lowercase methods,
// an origin function next to a list, `AllowedHeaders: *` with credentials and
// an excessive MaxAge are refused with an error naming the field and the fix.
//
// Use it in three lines:
//
//	policy, err := cors.New(cors.Config{AllowedOrigins: []string{"https://portal.example.com"}, AllowCredentials: true})
//	headers, err := cors.NewHeaders(cors.HeadersConfig{}) // API preset, HSTS, nosniff, no-store when authenticated
//	srv.Handler = headers.Handler(policy.Handler(mux))
//
// Both handlers are walkable (Unwrap) and expose their effective settings, so
// the readiness package checks CORS001–CORS007 from what is really served.
package cors
