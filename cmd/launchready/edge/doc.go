// Package edge is the launch scorecard of a deployed portal seen from
// outside: what the TLS terminator, load balancer, CDN and proxy really
// serve, which the in-process readiness checks cannot see. It defends
// against launching with an untrusted, expiring or CBC-offering TLS
// endpoint, no HTTP→HTTPS redirect or HSTS, security headers dropped by a
// proxy, CORS grants to look-alike origins, cookies without Secure,
// HttpOnly or SameSite, mixed content, files the deploy left reachable
// (/.env, /.git, /debug/pprof, /metrics, backups, directory listings),
// slow or leaky health endpoints, missing CAA and broken SPF/DKIM/DMARC,
// and a p95 latency over 500 ms. It serves scorecard items 3, 6, 8, 9
// and 10; `launchready check URL` is its command.
//
// Use it in three lines:
//
//	c, err := edge.New(edge.Config{URL: "https://portal.example.com"})
//	findings, err := c.Run(ctx) // err: the target could not be checked at all
//	report := readiness.NewReport(readiness.Production, findings)
//
// It is read-only and non-intrusive: GET, HEAD and OPTIONS only (plus one
// POST to the login route when credentials are configured), at most
// Config.MaxRequests HTTP requests, each with a timeout and a User-Agent
// naming launchready. Findings use the readiness catalogue: the EDGE
// family for what only the outside sees, and the in-process IDs where the
// rule is the same (DEPLOY005 TLS floor, CORS007 headers, CORS008 grants,
// SESS001–SESS004 cookies, AUTH008 debug endpoints, MON001/MON004 health,
// EMAIL001–EMAIL008 through readiness/email). A check that could not run
// reports EDGE012, never a pass. The package lives in the command's module
// so the kit's boot path never imports network scanning.
package edge
