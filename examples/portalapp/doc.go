// Package portalapp is the launchready example portal: a support team's
// client portal (clients, tickets, invoices, CSV export, uploads, password
// reset by email) with roles admin, support and client user and tenants
// client-a and client-b, wired with every package of the kit.
//
//	p, err := portalapp.Build(portalapp.Options{Env: readiness.Development})
//	err = readiness.Launch(ctx, p.Target, os.Stdout, readiness.ServeOptions{})
//
// Build assembles, outermost first: Host allowlist, panic recovery
// (monitor), counters (monitor), access log (redact), API security headers
// (cors), CORS and cross-origin protection (cors), sessions (session),
// audit trail (audit), and the authz.Mux route inventory, where each route
// carries its policy (role and tenant object check), its limits
// (ratelimit) and its input validation (validate). The glue between the
// packages is a few lines here: session user ID to store user to authz
// principal; the submitted login email as the rate-limit account; the
// principal as the upload and export limit key.
//
// The returned readiness.Target carries the portal's own checks (AUTH010
// demo accounts, email authentication of the sending domain, logging,
// secrets in build output); the tests add every probe of the kit.
// BuildInsecure wires the same handlers the way rushed apps do; the gate
// refuses it.
package portalapp
