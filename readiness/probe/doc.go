// Package probe holds the readiness probes: checks that prove, in the app's
// own tests, what the static checks can only infer from the handler tree —
// that an anonymous client, a low-privilege user and another tenant's user
// are refused (AuthProbe), that a planted session token dies at login and a
// copied one at logout (SessionProbe), that bad bodies are refused
// (InputProbe), that untrusted origins get no CORS grant and cross-site
// posts are refused (CORSProbe), that failed logins meet a 429
// (LoginRateProbe), that secrets never reach the logs (LogCanary) and that
// the synthetic flows verify and monitor run pass (FlowProbe, MON006), and
// that a slow or failing outbound dependency degrades the app instead of
// freezing it (DependencyProbe).
//
// It defends against the checker's own failure mode: a probe that passes
// without testing anything. Every probe sends through one shared Client,
// which reaches the app the way a real client does (through
// Target.Server.Handler, to an allowed Host, from a client address of the
// probe's own, signed in through the app's own login route) and counts, per
// route, the requests that reached the route's handler. A claim a probe
// could not exercise — its requests refused by a Host allowlist, the path
// firewall, a rate limit or the route's policy, or a sign-in that failed —
// is reported as PROBE001 with the refusing layer and the setup fix, never
// as a pass; the counts are in the report (readiness.Report.Reach).
//
// Probes execute real handlers against the app's data, so they run only in
// tests (readiness.Require); readiness.Gate refuses them. Scorecard items
// 1, 2, 4, 5, 6, 7 and 10.
//
//	c := &probe.Client{Login: probe.Login{Path: "/api/login"},
//		Accounts: map[string]probe.Account{"agent": {Username: "agent@acme.test", Password: pw}}}
//	target.Checks = append(target.Checks, &probe.AuthProbe{Client: c, Identities: ids},
//		probe.InputProbe{Client: c, Account: "agent"}, probe.CORSProbe{Client: c})
//	readiness.Require(t, target)
//
// New probes (MFA step-up, synthetic flows, router adapters) belong here:
// bind the Client with c.bind(in, name), send with bound.do, and end with
// bound.record and a PROBE001 (bound.notExercised) for every claim no
// request reached.
package probe
