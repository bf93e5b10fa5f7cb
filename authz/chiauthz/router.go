package chiauthz

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/go-chi/chi/v5"

	"github.com/launchready/launchready/authz"
)

// A Router is a chi router on which every route carries an authz.Policy.
// Build the root with New; Route, Group and With return routers that share
// it; NewSubrouter builds a router to Mount later.
//
// Every route is registered on one chi.Mux with its full path, so chi's
// matched pattern is the route's full pattern and the inventory lists it
// exactly as chi matches it. Register every route before serving: chi's
// routing tree is not safe for registration while requests are in flight
// (authz.Mux is).
type Router struct {
	root   *root  // nil for a subrouter that is not mounted yet
	prefix string // chi path prefix of this router ("/api/clients")
	mws    []func(http.Handler) http.Handler
	inline bool // With: Use is refused, as in chi

	// A subrouter records its routes until it is mounted.
	sub *subState
}

type subState struct {
	mu      sync.Mutex
	specs   []spec
	mounted bool
}

// spec is a route as registered, before any prefix of a later Mount.
type spec struct {
	method  string // "" for every method
	path    string // chi path, relative to the subrouter
	alias   string // a second chi path for the same route, or ""
	policy  authz.Policy
	handler http.Handler // wrapped in the subrouter's middleware
}

type root struct {
	e   *authz.Enforcer
	mux *chi.Mux
	// rctxPool recycles chi route contexts as chi.Mux does with its own.
	rctxPool sync.Pool

	mu     sync.Mutex // serialises registration
	routes atomic.Pointer[table]
}

type table struct {
	list      []*route
	byPattern map[string]*route
}

// route is one registered route; it is also the handler registered with
// chi, so the decision runs exactly for the route chi matched.
type route struct {
	e       *authz.Enforcer
	pattern string // inventory pattern: "GET /api/clients/{id}"
	chiPath string // chi pattern: "/api/clients/{id:[a-z0-9-]+}"
	matched string // chiPath as chi's RoutePattern reports it
	policy  authz.Policy
	handler http.Handler
}

// New returns a root Router with no routes. It fails when
// Config.Authenticate is nil. Unknown paths answer 404 and known paths with
// another method 405, both through Config.Deny (problem+json by default).
func New(c authz.Config) (*Router, error) {
	e, err := authz.NewEnforcer(c)
	if err != nil {
		return nil, fmt.Errorf("chiauthz: %w", err)
	}
	rt := &root{e: e, mux: chi.NewMux()}
	rt.rctxPool.New = func() any { return chi.NewRouteContext() }
	rt.routes.Store(&table{byPattern: map[string]*route{}})
	rt.mux.NotFound(func(w http.ResponseWriter, r *http.Request) {
		e.Deny(w, r, authz.Denial{Status: http.StatusNotFound})
	})
	rt.mux.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		e.Deny(w, r, authz.Denial{Status: http.StatusMethodNotAllowed})
	})
	return &Router{root: rt}, nil
}

// NewSubrouter returns a router whose routes are recorded until it is
// mounted on another with Mount, as chi apps build a section of the API in
// its own function. It serves nothing by itself.
func NewSubrouter() *Router { return &Router{sub: &subState{}} }

// ServeHTTP runs the path firewall, then chi's routing, then the matched
// route's policy.
func (rr *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rr.root == nil {
		authz.DefaultDeny(w, r, authz.Denial{Status: http.StatusInternalServerError,
			Err: errors.New("chiauthz: a subrouter serves only once it is mounted")})
		return
	}
	if !rr.root.e.Firewall(w, r) {
		return
	}
	// chi's route context and the authorization state ride in one context,
	// made with the request copy in one allocation; chi finds its route
	// context in place and adds no context of its own (two allocations).
	// The route context is recycled exactly as chi.Mux.ServeHTTP recycles
	// it (its pool, Reset, put back when the handler returns): handlers see
	// chi's usual semantics. The authorization state is never recycled.
	rctx := rr.root.rctxPool.Get().(*chi.Context)
	rctx.Reset()
	rctx.Routes = rr.root.mux
	rr.root.mux.ServeHTTP(w, rr.root.e.WithRouterValue(r, chi.RouteCtxKey, rctx))
	rr.root.rctxPool.Put(rctx)
}

func (rt *route) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc := chi.RouteContext(r.Context())
	if rc == nil || rc.RoutePattern() != rt.matched {
		// Only reachable if someone calls the route handler outside chi.
		rt.e.Deny(w, r, authz.Denial{Status: http.StatusInternalServerError, Route: rt.pattern,
			Err: errors.New("chiauthz: route handler called without its matched chi pattern")})
		return
	}
	rt.e.Enforce(w, r, rt.pattern, &rt.policy, rt.handler)
}

// Use appends middleware to this router's stack: it wraps every route
// registered on this router (and on the routers Route, Group and With make
// from it) afterwards, after the authorization decision. Like chi, it
// panics once routes are registered on the router, and on a With router.
func (rr *Router) Use(mws ...func(http.Handler) http.Handler) {
	if rr.inline {
		panic("chiauthz: Use on a With router; pass the middleware to With")
	}
	for _, mw := range mws {
		if mw == nil {
			panic("chiauthz: nil middleware")
		}
	}
	rr.mws = append(rr.mws[:len(rr.mws):len(rr.mws)], mws...)
}

// With returns a router for inline middleware: routes registered on it are
// wrapped in mws (after this router's own middleware).
func (rr *Router) With(mws ...func(http.Handler) http.Handler) *Router {
	c := rr.child(rr.prefix)
	c.Use(mws...)
	c.inline = true
	return c
}

// Group calls fn with a router that shares this router's prefix and a copy
// of its middleware stack, so middleware added in fn stays in the group.
func (rr *Router) Group(fn func(r *Router)) *Router {
	c := rr.child(rr.prefix)
	if fn != nil {
		fn(c)
	}
	return c
}

// Route calls fn with a router for the routes under pattern
// ("/api/clients"), which keeps this router's middleware. Routes registered
// in fn keep the full prefix.
func (rr *Router) Route(pattern string, fn func(r *Router)) *Router {
	if fn == nil {
		panic("chiauthz: Route " + pattern + " without a function")
	}
	c := rr.child(joinPath(rr.prefix, pattern))
	fn(c)
	return c
}

func (rr *Router) child(prefix string) *Router {
	return &Router{root: rr.root, prefix: prefix, mws: rr.mws[:len(rr.mws):len(rr.mws)], sub: rr.sub}
}

// Mount registers every route of sub (made by NewSubrouter) under pattern,
// each with its own policy, wrapped in this router's middleware outside
// sub's. sub is used up: registering on it afterwards panics. To put a
// handler that is not a Router (a plain chi router, a file server) under
// one policy, use MountHandler.
func (rr *Router) Mount(pattern string, sub *Router) {
	if sub == nil || sub.sub == nil || sub.root != nil {
		panic("chiauthz: Mount " + pattern + " needs a router from NewSubrouter")
	}
	sub.sub.mu.Lock()
	if sub.sub.mounted {
		sub.sub.mu.Unlock()
		panic("chiauthz: Mount " + pattern + ": the subrouter is already mounted")
	}
	sub.sub.mounted = true
	specs := sub.sub.specs
	sub.sub.mu.Unlock()
	prefix := joinPath(rr.prefix, pattern)
	for _, s := range specs {
		path, alias := routePaths(prefix, s.path)
		if s.alias != "" {
			alias = joinPath(prefix, s.alias)
		}
		rr.register(s.method, path, alias, s.policy, chainOf(rr.mws, s.handler))
	}
}

// MountHandler puts h, which routes the rest of the path itself (a plain chi
// router, an http.FileServer), under pattern with one policy for all of it.
// readiness lists it as one route "pattern/{rest...}", reports AUTH012 (a
// router) or AUTH001 (a plain http.ServeMux) for it, and lists the routes
// of a plain router behind it under AUTH015: prefer Mount. It is the way
// to keep a not-yet-migrated section running during a migration.
func (rr *Router) MountHandler(pattern string, policy authz.Policy, h http.Handler) {
	if h == nil {
		panic("chiauthz: nil handler for " + pattern)
	}
	p := strings.TrimSuffix(joinPath(rr.prefix, pattern), "/")
	rr.register("", p+"/*", "", policy, chainOf(rr.mws, newStripPrefix(p, h)))
}

// Handle registers h for every method on pattern (a chi pattern, relative
// to the router's prefix) under policy. It panics on a nil handler, an
// invalid policy (the zero Policy, Public without a reason, Object without
// a loader) and a duplicate route: these are programming errors, as in
// authz.Mux.
func (rr *Router) Handle(pattern string, policy authz.Policy, h http.Handler) {
	rr.Method("", pattern, policy, h)
}

// HandleFunc registers f for every method on pattern under policy.
func (rr *Router) HandleFunc(pattern string, policy authz.Policy, f http.HandlerFunc) {
	rr.Method("", pattern, policy, nilFunc(pattern, f))
}

// Method registers h for method on pattern under policy, as Handle. A GET
// route also serves HEAD under the same policy, as on authz.Mux.
func (rr *Router) Method(method, pattern string, policy authz.Policy, h http.Handler) {
	if h == nil {
		panic("chiauthz: nil handler for " + pattern)
	}
	path, alias := routePaths(rr.prefix, pattern)
	rr.register(strings.ToUpper(method), path, alias, policy, chainOf(rr.mws, h))
}

// MethodFunc registers f for method on pattern under policy.
func (rr *Router) MethodFunc(method, pattern string, policy authz.Policy, f http.HandlerFunc) {
	rr.Method(method, pattern, policy, nilFunc(pattern, f))
}

// Get registers a GET (and HEAD) route.
func (rr *Router) Get(pattern string, p authz.Policy, f http.HandlerFunc) {
	rr.MethodFunc(http.MethodGet, pattern, p, f)
}

// Post registers a POST route.
func (rr *Router) Post(pattern string, p authz.Policy, f http.HandlerFunc) {
	rr.MethodFunc(http.MethodPost, pattern, p, f)
}

// Put registers a PUT route.
func (rr *Router) Put(pattern string, p authz.Policy, f http.HandlerFunc) {
	rr.MethodFunc(http.MethodPut, pattern, p, f)
}

// Patch registers a PATCH route.
func (rr *Router) Patch(pattern string, p authz.Policy, f http.HandlerFunc) {
	rr.MethodFunc(http.MethodPatch, pattern, p, f)
}

// Delete registers a DELETE route.
func (rr *Router) Delete(pattern string, p authz.Policy, f http.HandlerFunc) {
	rr.MethodFunc(http.MethodDelete, pattern, p, f)
}

func nilFunc(pattern string, f http.HandlerFunc) http.Handler {
	if f == nil {
		panic("chiauthz: nil handler for " + pattern)
	}
	return f
}

var knownMethods = map[string]bool{"": true, http.MethodGet: true, http.MethodHead: true, http.MethodPost: true,
	http.MethodPut: true, http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true}

// register records a route; h is already wrapped in this router's
// middleware.
func (rr *Router) register(method, path, alias string, policy authz.Policy, h http.Handler) {
	if err := policy.Validate(); err != nil {
		panic(fmt.Sprintf("chiauthz: route %q: %v", strings.TrimSpace(method+" "+path), err))
	}
	if !knownMethods[method] {
		panic(fmt.Sprintf("chiauthz: route %q: method %q is not one chiauthz routes (CONNECT and TRACE are refused by the firewall)", path, method))
	}
	if !strings.HasPrefix(path, "/") {
		panic(fmt.Sprintf("chiauthz: route %q: a pattern starts with /", path))
	}
	if rr.root == nil {
		rr.sub.mu.Lock()
		defer rr.sub.mu.Unlock()
		if rr.sub.mounted {
			panic("chiauthz: route " + path + " registered on a subrouter that is already mounted; register routes before Mount")
		}
		rr.sub.specs = append(rr.sub.specs, spec{method: method, path: path, alias: alias, policy: policy, handler: h})
		return
	}
	rr.root.add(method, path, alias, policy, h)
}

func (rt *root) add(method, path, alias string, policy authz.Policy, h http.Handler) {
	pattern := InventoryPattern(method, path)
	entry := &route{e: rt.e, pattern: pattern, chiPath: path, matched: routePattern(path), policy: policy, handler: h}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	old := rt.routes.Load()
	if prev, ok := old.byPattern[pattern]; ok {
		panic(fmt.Sprintf("chiauthz: route %q (%s) conflicts with %q (%s)", pattern, path, prev.pattern, prev.chiPath))
	}
	for _, p := range []string{path, alias} {
		if p == "" {
			continue
		}
		switch method {
		case "":
			rt.mux.Handle(p, entry)
		case http.MethodGet:
			rt.mux.Method(method, p, entry)
			if _, ok := old.byPattern[InventoryPattern(http.MethodHead, path)]; !ok {
				rt.mux.Method(http.MethodHead, p, entry)
			}
		default:
			rt.mux.Method(method, p, entry)
		}
	}
	t := &table{list: append(old.list[:len(old.list):len(old.list)], entry), byPattern: make(map[string]*route, len(old.byPattern)+1)}
	for k, v := range old.byPattern {
		t.byPattern[k] = v
	}
	t.byPattern[pattern] = entry
	rt.routes.Store(t)
}

// chainOf wraps h in mws, the first outermost, as chi.Chain does.
func chainOf(mws []func(http.Handler) http.Handler, h http.Handler) http.Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// routePaths is the chi path of pattern registered under prefix, and the
// alias chi also serves: a "/" inside Route("/x") or a mounted subrouter
// answers both "/x" and "/x/", as in chi, and is listed as "/x".
func routePaths(prefix, p string) (path, alias string) {
	if prefix != "" && (p == "/" || p == "") {
		path = strings.TrimSuffix(prefix, "/")
		return path, path + "/"
	}
	return joinPath(prefix, p), ""
}

func joinPath(prefix, p string) string {
	if prefix == "" {
		return p
	}
	if p == "" || p == "/" {
		return prefix + "/"
	}
	return strings.TrimSuffix(prefix, "/") + "/" + strings.TrimPrefix(p, "/")
}

// stripPrefix is http.StripPrefix made walkable, so readiness sees what a
// MountHandler route hands its requests to.
type stripPrefix struct {
	prefix string
	next   http.Handler
	strip  http.Handler
}

func newStripPrefix(prefix string, next http.Handler) *stripPrefix {
	return &stripPrefix{prefix: prefix, next: next, strip: http.StripPrefix(prefix, next)}
}

func (s *stripPrefix) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.strip.ServeHTTP(w, r) }

// Unwrap returns the mounted handler.
func (s *stripPrefix) Unwrap() http.Handler { return s.next }

// StrippedPrefix is the prefix removed before the mounted handler routes:
// readiness lists a mounted plain router's routes under it.
func (s *stripPrefix) StrippedPrefix() string { return s.prefix }

// routePattern is path as chi.Context.RoutePattern reports a match of it:
// without a trailing slash (except for "/").
func routePattern(path string) string {
	if path == "/" {
		return path
	}
	return strings.TrimSuffix(strings.TrimSuffix(path, "//"), "/")
}
