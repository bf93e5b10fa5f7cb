// Package flows defends against finding out that login broke from a support
// ticket: a synthetic flow signs in, runs a core workflow (look up a client,
// open a ticket) and signs out through the portal's real HTTP API, so the
// app's tests, the post-deploy gate (launchready verify) and the
// every-five-minutes monitor (launchready monitor) all exercise one
// definition. It serves scorecard items 9 (a release verified after deploy,
// with a rollback path) and 10 (synthetic login + workflow checks).
//
// Use it in three lines:
//
//	file, err := flows.Load("flows.yaml")               // or flows.Parse(data, "flows.json")
//	runner := &flows.Runner{BaseURL: "https://portal.example"}
//	for _, f := range file.Flows { res := runner.Run(ctx, f); fmt.Println(res) }
//
// A flow is a list of steps: a request (method, path relative to the base
// URL, headers, a JSON body), the expected status, assertions (a small
// JSON path whose value must match a regular expression, or a regular
// expression over the body) and captures (a JSON path whose value later
// steps use as {{name}}). Each run has its own cookie jar, so a flow signs
// in once and the session cookie follows it; each step has a timeout.
//
// # Secrets
//
// Credentials are never written into a flow: a value under a sensitive key
// (password, token, secret, authorization, cookie …, as redact decides) must
// be an environment reference, ${LAUNCHREADY_FLOW_PASSWORD}; Parse refuses a
// literal. A reference may carry a development default,
// ${NAME:-value}, for demo accounts. Every message a Runner produces
// (errors, results) passes through the redact detectors, and the values of
// sensitive references and captures are masked wherever they appear.
//
// # What a flow may reach
//
// A step's path is relative: it starts with "/" and names no scheme or host,
// so a flow file cannot send the signed-in session to another site. Redirects
// are not followed across hosts.
package flows
