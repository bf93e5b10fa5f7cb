// Package chiauthz puts the launchready kit's deny-by-default authorization
// on a go-chi/chi router (scorecard item 1, Auth protection). It defends
// against the same flaws as authz.Mux — unprotected routes, broken
// function-level authorization (BFLA: admin features guarded only in the
// front end), broken object-level authorization (BOLA: one client reading
// another's invoices) and path tricks (`/files/..%2Fadmin`) — for apps that
// route with chi and do not want to rewrite their routing first.
//
//	r, err := chiauthz.New(authz.Config{Authenticate: sessionPrincipal})
//	r.Route("/api/clients", func(r *chiauthz.Router) {
//		r.Get("/{id:[a-z0-9-]+}", authz.Role("support").Object(loadClient, authz.SameTenant), h)
//	})
//	srv := &http.Server{Handler: middleware(r)} // readiness walks to r and lists every route with its policy
//
// Every route is registered with an authz.Policy: the methods mirror chi's
// (Get, Post, Handle, Method, Route, Group, With, Use, Mount) with a policy
// argument, and a route without one cannot be registered. Decisions run
// through authz.Enforcer, so a route answers exactly as it would on an
// authz.Mux: 401, 403, 404 for another tenant's objects, problem+json bodies,
// the path firewall before routing, PrincipalFrom, Decided and Guard for the
// handlers. The decision is made for the route chi matched: the route handler
// checks chi's matched pattern (chi.RouteContext(ctx).RoutePattern()) against
// the pattern it was registered for, and object loaders read chi's path
// parameters with r.PathValue.
//
// The Router is a readiness.Inventory and readiness.Policies: each route is
// listed once, with the full pattern across Route, Mount and Group
// ("GET /api/clients/{id}"; a regexp parameter {id:[0-9]+} is listed as
// {id}), and with its handler wrapped in the middleware of Use and With, so
// readiness walks each route's chain and sees its limits, body schema and
// audit. Use and With middleware run after the authorization decision, as a
// route's own middleware does on authz.Mux; middleware that must see every
// request (sessions, CORS, the access log) goes in front of the Router.
//
// Cost: a request takes one allocation (plain chi takes two): chi's route
// context rides in the context that carries the decision
// (authz.Enforcer.WithRouterValue). Route contexts are recycled as chi
// recycles them; the principal and decision never are.
//
// For an app that still routes with a plain chi.Mux, Assess lists its routes
// for readiness' assessment mode: every route with what protects it, and one
// finding per unprotected sensitive route with the migration step.
package chiauthz
