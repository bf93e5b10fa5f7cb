package authz

import (
	"errors"
	"log/slog"
	"net/http"
	"time"
)

// An Enforcer applies policies for a router: it runs the path firewall,
// authenticates, decides a route's policy and records the decision in the
// request context (PrincipalFrom, Decided, Guard) exactly as Mux does. Mux is
// built on one; adapters for other routers (go-chi/chi in the chiauthz
// module) use one so that a route behaves the same whichever router matched
// it.
//
// A router calls Firewall before it routes, and Enforce once it has matched
// a route, with the route's pattern as its inventory names it.
type Enforcer struct {
	authenticate func(*http.Request) (Principal, error)
	deny         func(http.ResponseWriter, *http.Request, Denial)
	logger       *slog.Logger
	now          func() time.Time
}

// NewEnforcer returns an Enforcer for c. It fails when Config.Authenticate is
// nil.
func NewEnforcer(c Config) (*Enforcer, error) {
	if c.Authenticate == nil {
		return nil, errors.New("authz: Config.Authenticate is nil; pass the function that turns a request into a Principal (from the session or bearer token)")
	}
	e := &Enforcer{authenticate: c.Authenticate, deny: c.Deny, logger: c.Logger, now: c.Now}
	if e.now == nil {
		e.now = time.Now
	}
	if e.deny == nil {
		e.deny = DefaultDeny
	}
	if e.logger == nil {
		e.logger = slog.New(slog.DiscardHandler)
	}
	return e, nil
}

// Firewall runs CheckRequest on r. When r is refused it answers 400 (405
// for CONNECT and TRACE) through the Deny function and returns false; the
// router must then stop.
func (e *Enforcer) Firewall(w http.ResponseWriter, r *http.Request) bool {
	err := CheckRequest(r)
	if err == nil {
		return true
	}
	status := http.StatusBadRequest
	if errors.Is(err, ErrMethod) {
		status = http.StatusMethodNotAllowed
	}
	if e.logger.Enabled(r.Context(), slog.LevelInfo) {
		e.logger.LogAttrs(r.Context(), slog.LevelInfo, "authz: request refused by the path firewall",
			slog.Int("status", status), slog.String("reason", err.Error()))
	}
	e.deny(w, r, Denial{Status: status, Err: err})
	return false
}

// Deny answers a refused request through the configured Deny function.
func (e *Enforcer) Deny(w http.ResponseWriter, r *http.Request, d Denial) { e.deny(w, r, d) }

// Enforce serves r with h when policy allows it, and denies it otherwise.
// pattern is the matched route as the router's inventory names it ("GET
// /api/clients/{id}"); r must carry the route's path values (r.PathValue),
// which object loaders read. Enforce tells the response-writer chain the
// route (SetRoute) and the principal (SetPrincipal), and records the
// decision in the context handed to h: a copy of r (one allocation), or r
// itself when it is the request WithRouterValue prepared for e. It does not
// validate policy: check it with Policy.Validate when the route is
// registered.
func (e *Enforcer) Enforce(w http.ResponseWriter, r *http.Request, pattern string, policy *Policy, h http.Handler) {
	annotateRoute(w, pattern)
	pr, err := e.authenticate(r)
	if err != nil || !pr.Authenticated() {
		if err != nil && !errors.Is(err, ErrUnauthenticated) && e.logger.Enabled(r.Context(), slog.LevelWarn) {
			e.logger.LogAttrs(r.Context(), slog.LevelWarn, "authz: authentication failed",
				slog.String("route", pattern), slog.String("error", err.Error()))
		}
		pr = Principal{}
	} else {
		annotatePrincipal(w, pr.ID, pr.Tenant)
	}
	st := state{pattern: pattern, principal: pr}
	sc := e.prepared(r)
	if sc != nil {
		sc.st = st
	} else {
		sc = newStateCtx(r, st)
		r = &sc.req
	}
	// Only Fresh policies read the clock (StepUpFor compares against it).
	var now time.Time
	if policy.fresh > 0 {
		now = e.now()
	}
	d, err := policy.DecideAt(r, pr, now)
	annotateDecision(w, pattern, d)
	if d != Allow {
		e.refuse(w, r, pattern, policy, pr, now, d, err)
		return
	}
	sc.st.decided = true
	h.ServeHTTP(w, r)
}

// refuse logs a denial of Enforce and answers it through the Deny function.
func (e *Enforcer) refuse(w http.ResponseWriter, r *http.Request, pattern string, policy *Policy, pr Principal, now time.Time, d Decision, err error) {
	denial := Denial{Status: int(d), Route: pattern, Err: err}
	if d == Unauthenticated && pr.Authenticated() {
		denial.StepUp = policy.StepUpFor(pr, now)
		denial.MaxAge = policy.Freshness()
	}
	level := slog.LevelInfo
	if err != nil {
		level = slog.LevelError
	}
	if e.logger.Enabled(r.Context(), level) {
		attrs := []slog.Attr{slog.String("route", pattern), slog.Int("status", int(d)), slog.String("principal", pr.ID)}
		if err != nil {
			attrs = append(attrs, slog.String("error", err.Error()))
		}
		if denial.StepUp != StepUpNone {
			attrs = append(attrs, slog.String("step_up", string(denial.StepUp)))
		}
		e.logger.LogAttrs(r.Context(), level, "authz: request denied", attrs...)
	}
	e.deny(w, r, denial)
}
