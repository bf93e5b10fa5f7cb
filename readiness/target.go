package readiness

import (
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"time"
)

// Env is the environment the app runs in. The zero value is Production:
// the strict setting is the default and development must be asked for.
type Env int

const (
	// Production keeps every blocker a blocker.
	Production Env = iota
	// Development reports the blockers that need production infrastructure
	// (TLS, Secure cookies, email DNS) as warnings.
	Development
)

func (e Env) String() string {
	switch e {
	case Production:
		return "production"
	case Development:
		return "development"
	}
	return fmt.Sprintf("env(%d)", int(e))
}

// MarshalText writes the environment's name.
func (e Env) MarshalText() ([]byte, error) { return []byte(e.String()), nil }

// ParseEnv parses "production" or "development" (also "prod", "dev").
func ParseEnv(s string) (Env, error) {
	switch s {
	case "production", "prod":
		return Production, nil
	case "development", "dev":
		return Development, nil
	}
	return 0, fmt.Errorf("readiness: unknown environment %q (want production or development)", s)
}

// Target is what a readiness run inspects: the app's server and the facts
// about its deployment that cannot be read from the handler tree.
type Target struct {
	// Server is the app's server. Its Handler is walked (see Walk) to find the
	// kit's middleware and route inventory; its timeouts and TLS settings are
	// checked. Required.
	Server *http.Server

	// Env selects how production-only findings count. Zero is Production.
	Env Env

	// Replicas is how many instances serve the app behind the load balancer.
	// Zero means one. In-memory session and limit stores count once per
	// replica, so more than one makes them blockers.
	Replicas int

	// Clients are the app's outbound HTTP clients by name (mail API, payment
	// provider, webhooks…). Each must have a timeout; DefaultClient is refused.
	Clients map[string]*http.Client

	// AllowedHosts is the Host allowlist the app enforces (DEPLOY007). Leave
	// nil when a Host-checking middleware in the handler tree reports it.
	AllowedHosts []string

	// ShutdownTimeout is how long the app drains in-flight requests on
	// SIGTERM. Serve sets it; an app with its own shutdown code declares it.
	// Zero reports DEPLOY004.
	ShutdownTimeout time.Duration

	// Release declares the deployment's rollback path and the synthetic
	// flows that verify a release and monitor it (DEPLOY008, DEPLOY009,
	// MON005; probe.FlowProbe runs the flows in tests for MON006).
	Release ReleasePlan

	// Build overrides the build information read from the running binary.
	// Tests set it; apps leave it nil.
	Build *debug.BuildInfo

	// Checks are extra checks: the app's own rules, third-party middleware
	// adapters, and configured checks such as email or secrets. Probes (checks
	// that send requests through real handlers) belong here only in tests;
	// Gate refuses them.
	Checks []Check

	// Accepted lists risks the team accepts, each with a reason. An accepted
	// finding stays in the report, marked accepted, and no longer blocks.
	Accepted []Acceptance
}

// Acceptance accepts the findings of one check ID, on one route or on all.
type Acceptance struct {
	ID     string
	Route  string // empty: every route (and findings without a route)
	Reason string
}

// Accept accepts every finding with the given check ID. The reason is
// required and shown next to the finding in every report.
func Accept(id, reason string) Acceptance { return Acceptance{ID: id, Reason: reason} }

// AcceptRoute accepts the findings of one check ID on one route pattern.
func AcceptRoute(id, route, reason string) Acceptance {
	return Acceptance{ID: id, Route: route, Reason: reason}
}

// ErrNoServer is returned when a Target has no Server.
var ErrNoServer = errors.New("readiness: Target.Server is nil; pass the *http.Server the app serves")

func (t *Target) validate(knownIDs map[string]bool) error {
	if t.Server == nil {
		return ErrNoServer
	}
	if t.Env != Production && t.Env != Development {
		return fmt.Errorf("readiness: Target.Env is %v; use readiness.Production or readiness.Development", t.Env)
	}
	if t.Replicas < 0 {
		return fmt.Errorf("readiness: Target.Replicas is %d; use the number of instances (0 means 1)", t.Replicas)
	}
	var errs []error
	for _, a := range t.Accepted {
		if a.Reason == "" {
			errs = append(errs, fmt.Errorf("readiness: acceptance of %s has no reason; say why the risk is acceptable", a.ID))
		}
		if _, ok := catalogue[a.ID]; !ok && !knownIDs[a.ID] {
			errs = append(errs, fmt.Errorf("readiness: acceptance names unknown check ID %q; see readiness.Catalogue for the IDs", a.ID))
		}
	}
	for i, c := range t.Checks {
		if c == nil {
			errs = append(errs, fmt.Errorf("readiness: Target.Checks[%d] is nil", i))
		}
	}
	return errors.Join(errs...)
}

func (t *Target) replicas() int {
	if t.Replicas <= 0 {
		return 1
	}
	return t.Replicas
}
