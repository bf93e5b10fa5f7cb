// Package readiness decides whether a client portal is ready to launch.
//
// It walks the app's *http.Server — from Server.Handler through every
// middleware that exposes Unwrap() http.Handler down to the route inventory
// (authz.Mux) and down each route's chain — and asserts every item of the
// launch scorecard: auth protection, session handling, secrets, input
// validation, rate limiting, CORS, logging hygiene, email authentication,
// deployment safety and monitoring. Each finding has a stable check ID, a
// severity, the scorecard item, the route where one applies, what was seen
// and how to fix it.
//
// Use it in three places:
//
//	report, err := readiness.Run(ctx, readiness.Target{Server: srv})  // inspect
//	if err := readiness.Gate(ctx, target, os.Stderr); err != nil { … }  // refuse to boot
//	readiness.Require(t, target)                                        // fail the app's go test
//
// Static checks run at boot and in tests. Probes — checks that send requests
// through the app's real handlers, in package readiness/probe — run only in
// tests: Gate refuses them. They record what they reached with
// Inspection.RecordReach, and the report lists it (Report.Reach).
package readiness
