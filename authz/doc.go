// Package authz is the portal's deny-by-default route inventory: every route
// is registered with an authorization policy, so no handler is reachable
// without an authentication, role, permission or object-level (owner/tenant)
// decision. It defends against unprotected endpoints, broken function-level
// authorization (OWASP API5: admin features guarded only in the front end),
// broken object-level authorization (OWASP API1, BOLA: one client reading
// another's invoices) and path tricks that slip past ServeMux patterns
// (`/files/..%2Fadmin`). It serves scorecard item 1, Auth protection.
//
//	mux, err := authz.NewMux(authz.Config{Authenticate: sessionPrincipal})
//	mux.Handle("GET /api/clients/{id}", authz.Role("support").Object(loadClient, authz.SameTenant), h)
//	srv := &http.Server{Handler: mux} // readiness walks to mux and lists every route with its policy
//
// Decisions key on the matched ServeMux pattern (r.Pattern), never on the
// raw path; HEAD is decided as GET. Unauthenticated requests get 401,
// authenticated ones without the role or permission 403, and object-level
// denials 404 by default, so another tenant's objects cannot be discovered
// (a missing object and a forbidden one look alike). A path firewall in
// front refuses encoded separators, NUL, `;`, CONNECT, TRACE and method
// override headers. Rejections are RFC 9457 problem+json documents through a
// replaceable Deny function.
//
// A stolen staff password must not open admin routes: RequireMFA demands a
// second factor verified in the session (Principal.Factors, filled by the
// app's Authenticate from its session, like OIDC's amr), and Fresh(d) a
// verification within d before a dangerous action. A signed-in principal
// who lacks one gets 401 with a problem document naming the step-up
// ("step_up": "mfa" or "reauthenticate"), so the client asks for the code
// rather than the password. Both show in the inventory (RequiresMFA,
// Freshness) for readiness check AUTH013.
//
// Handlers read the principal with PrincipalFrom(r.Context()). Guard fails a
// request that reaches a handler without a decision of the Mux (defence in
// depth against a handler mounted on a second, unguarded router).
//
// Other routers enforce the same policies through an Enforcer: Firewall
// before routing, Enforce once a route matched (the chiauthz module does this
// for go-chi/chi). A router that keeps its own state in the request context
// prepares the request with WithRouterValue, so its state and the decision
// share one context.
//
// Cost: an allowed request costs one allocation, the copy of the request
// that carries the principal and the decision to the handler. It is never
// pooled: handlers may keep the request or its context after returning.
//
// Outer middleware (access log, metrics, audit) learns the matched route and
// the principal through its response writer: after matching, the Mux calls
// SetRoute(pattern) and, after authenticating, SetPrincipal(id, tenant) on
// every writer of the chain (followed through Unwrap() http.ResponseWriter)
// that has those methods. After the policy decided, it calls
// SetDecision(pattern, d): the readiness probes use it to tell a request that
// reached the route's handler from one the policy refused.
package authz
