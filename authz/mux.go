package authz

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures a Mux.
type Config struct {
	// Authenticate turns a request into a principal: read the session or
	// the bearer token and return who it is. Return ErrUnauthenticated (or
	// a Principal with an empty ID) for anonymous requests; any other error
	// also makes the request anonymous and is logged. Required.
	Authenticate func(r *http.Request) (Principal, error)

	// Deny answers refused requests. Nil means DefaultDeny, a problem+json
	// document without any detail of the request.
	Deny func(w http.ResponseWriter, r *http.Request, d Denial)

	// Logger receives denials (info) and loader failures (error). Nil
	// discards.
	Logger *slog.Logger

	// Now is the clock Fresh policies are judged by. Nil: time.Now.
	Now func() time.Time
}

// A Mux is a deny-by-default router: an http.ServeMux whose every route
// carries a Policy, checked on the matched pattern before the handler runs.
// It is the app's route inventory: readiness lists its routes with their
// policies (Routes, EachRoute).
//
// Requests first pass the path firewall (CheckRequest), then ServeMux
// matching (unknown paths get ServeMux's 404 or 405, unclean paths its
// redirect), then authentication and the route's policy.
type Mux struct {
	mux *http.ServeMux
	e   *Enforcer

	mu     sync.Mutex // serialises Handle
	routes atomic.Pointer[routeTable]
}

// routeTable is an immutable snapshot of the routes: Handle publishes a new
// one, readers (Decide, Routes) never lock.
type routeTable struct {
	list      []*route
	byPattern map[string]*route
}

// NewMux returns a Mux with no routes. It fails when Config.Authenticate is
// nil.
func NewMux(c Config) (*Mux, error) {
	e, err := NewEnforcer(c)
	if err != nil {
		return nil, err
	}
	m := &Mux{mux: http.NewServeMux(), e: e}
	m.routes.Store(&routeTable{byPattern: map[string]*route{}})
	return m, nil
}

// route is one registered route; it is also the handler registered with the
// inner ServeMux, so the decision runs exactly for the matched pattern.
type route struct {
	m       *Mux
	pattern string
	policy  Policy
	handler http.Handler
}

// Handle registers h for pattern (ServeMux syntax, "GET /api/clients/{id}")
// under policy. It panics, like http.ServeMux.Handle, on an invalid or
// duplicate pattern, a nil handler, or an invalid policy (the zero Policy,
// Public without a reason, Object without a loader): these are programming
// errors.
func (m *Mux) Handle(pattern string, policy Policy, h http.Handler) {
	if h == nil {
		panic("authz: nil handler for " + pattern)
	}
	if err := policy.Validate(); err != nil {
		panic(fmt.Sprintf("authz: route %q: %v", pattern, err))
	}
	rt := &route{m: m, pattern: pattern, policy: policy.clone(), handler: h}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.mux.Handle(pattern, rt) // panics on a bad or conflicting pattern
	old := m.routes.Load()
	t := &routeTable{list: append(old.list[:len(old.list):len(old.list)], rt), byPattern: make(map[string]*route, len(old.byPattern)+1)}
	for k, v := range old.byPattern {
		t.byPattern[k] = v
	}
	t.byPattern[pattern] = rt
	m.routes.Store(t)
}

// HandleFunc registers f for pattern under policy, as Handle.
func (m *Mux) HandleFunc(pattern string, policy Policy, f func(http.ResponseWriter, *http.Request)) {
	if f == nil {
		panic("authz: nil handler for " + pattern)
	}
	m.Handle(pattern, policy, http.HandlerFunc(f))
}

// ServeHTTP runs the path firewall, matches the route and applies its
// policy.
func (m *Mux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !m.e.Firewall(w, r) {
		return
	}
	if r.ProtoMajor == 1 && len(r.TransferEncoding) > 0 {
		// A request with Transfer-Encoding may also have carried a
		// Content-Length (net/http drops it and reads chunked), and a proxy
		// in front may have framed it by that Content-Length: what follows
		// on the connection is then a request the proxy never saw
		// (request smuggling). RFC 9112 §6.1: close the connection after
		// answering. net/http deletes the Content-Length header before the
		// handler runs, so every HTTP/1.x request with Transfer-Encoding
		// closes; browsers send chunked request bodies only over HTTP/2.
		w.Header().Set("Connection", "close")
	}
	m.mux.ServeHTTP(w, r)
}

func (rt *route) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Pattern != rt.pattern { // only reachable if someone calls the route directly
		rt.m.e.Deny(w, r, Denial{Status: http.StatusInternalServerError, Route: rt.pattern,
			Err: errors.New("authz: route handler called without its pattern")})
		return
	}
	rt.m.e.Enforce(w, r, rt.pattern, &rt.policy, rt.handler)
}

// Decide evaluates the policy of the route r.Pattern names for principal pr,
// object checks included, without serving, at the Mux's clock. Requests
// with an unknown pattern are NotFound. It does not allocate for routes
// without object checks.
func (m *Mux) Decide(r *http.Request, pr Principal) (Decision, error) {
	rt, ok := m.routes.Load().byPattern[r.Pattern]
	if !ok {
		return NotFound, nil
	}
	return rt.policy.DecideAt(r, pr, m.e.now())
}

// Route is one registered route as the inventory reports it.
type Route struct {
	// Pattern is the full pattern as registered: "GET /api/clients/{id}".
	Pattern string
	// Method is the pattern's method ("" for every method). A GET route also
	// serves HEAD, under the same policy.
	Method string
	// Host and Path are the other parts of the pattern.
	Host, Path string
	// Policy is the route's policy; read it with its accessors.
	Policy Policy
	// Handler is the handler as registered.
	Handler http.Handler
}

// Routes returns every route in registration order.
func (m *Mux) Routes() []Route {
	list := m.routes.Load().list
	out := make([]Route, len(list))
	for i, rt := range list {
		method, host, path := splitPattern(rt.pattern)
		out[i] = Route{Pattern: rt.pattern, Method: method, Host: host, Path: path,
			Policy: rt.policy.clone(), Handler: rt.handler}
	}
	return out
}

// EachRoute calls fn for every route in registration order with the pattern
// and the handler as registered. It makes *Mux a readiness.Inventory.
func (m *Mux) EachRoute(fn func(pattern string, h http.Handler)) {
	for _, rt := range m.Routes() {
		fn(rt.Pattern, rt.Handler)
	}
}

// Policy returns the policy registered for pattern.
func (m *Mux) Policy(pattern string) (Policy, bool) {
	rt, ok := m.routes.Load().byPattern[pattern]
	if !ok {
		return Policy{}, false
	}
	return rt.policy.clone(), true
}

func splitPattern(p string) (method, host, path string) {
	rest := strings.TrimSpace(p)
	if i := strings.IndexAny(rest, " \t"); i >= 0 {
		method, rest = rest[:i], strings.TrimLeft(rest[i:], " \t")
	}
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return method, rest[:i], rest[i:]
	}
	return method, rest, ""
}
