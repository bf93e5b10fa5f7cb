// Package monitor defends against finding out about an outage from a support
// ticket: it gives a portal liveness and readiness endpoints a synthetic
// monitor can poll, recovers panics into a problem+json 500 and hands them
// (with stack and redacted request context) to an error reporter, and counts
// 5xx responses, authentication failures, authorization denials, rate-limit
// and cross-origin rejections by route pattern for alerting. It serves
// scorecard item 10, Monitoring coverage (readiness checks MON001–MON004).
//
// Use it in three lines:
//
//	health, _ := monitor.NewHealth(monitor.HealthConfig{Dependencies: deps, Boot: bootVerdict})
//	mux.Handle("GET /healthz", authz.Public("uptime monitor"), health.Liveness())
//	srv.Handler = monitor.Recover(reporter).Handler(counters.Handler(mux))
//
// # Route patterns and principals
//
// Middleware outside the route inventory cannot see r.Pattern (session
// middleware clones the request). The response writers installed by
// Recovery and Counters implement SetRoute(pattern string); the inventory
// (authz.Mux) walks the writer chain through Unwrap() http.ResponseWriter and
// calls it once a route matched. Without it the route is "" (unmatched).
//
// # Error trackers
//
// Reporter is the hook for Sentry-style trackers: implement Report and pass
// it to Recover. The default, SlogReporter, logs the panic at Error level.
// A Sentry adapter is a few lines of app code:
//
//	type sentryReporter struct{ hub *sentry.Hub }
//
//	func (s sentryReporter) Report(ctx context.Context, p monitor.Panic) {
//		hub := s.hub.Clone()
//		hub.Scope().SetTags(map[string]string{"route": p.Route, "method": p.Method, "request_id": p.RequestID})
//		hub.RecoverWithContext(ctx, p.Value)
//	}
//
// Reporters receive the method, the route pattern and the request ID, never
// headers, cookies, query strings or bodies.
package monitor
