package readiness

import (
	"context"
	"fmt"

	"github.com/launchready/launchready/monitor"
)

// Monitoring coverage (scorecard item 10): health endpoints, panic recovery
// reported to an error tracker, counters for alerting.
//
// The MON and AUDIT checks judge an app whose server handler leads to a
// route inventory. Without one, AUTH001 already blocks the launch and
// nothing about routes can be verified, so these checks stay silent rather
// than pile findings onto a handler tree they cannot see.

func init() {
	registerBuiltin("monitor/health", checkHealth)
	registerBuiltin("monitor/recovery", checkRecovery)
	registerBuiltin("monitor/counters", checkCounters)
}

func checkHealth(_ context.Context, in *Inspection) []Finding {
	if in.Inventory == nil {
		return nil
	}
	var live, ready []string
	var out []Finding
	for _, r := range in.Routes {
		if _, ok := Find[*monitor.LivenessHandler](r.Chain); ok {
			live = append(live, r.Pattern)
		}
		if rh, ok := Find[*monitor.ReadinessHandler](r.Chain); ok {
			ready = append(ready, r.Pattern)
			if rh.Health().PublicDetail() {
				out = append(out, Finding{
					ID: "MON004", Severity: Warning, Route: r.Pattern,
					Seen: fmt.Sprintf("the readiness endpoint shows dependency names, error text and the boot verdict to every caller (HealthConfig.InsecurePublicDetail; %d dependencies)", len(rh.Health().Dependencies())),
					Fix:  "remove InsecurePublicDetail and pass HealthConfig.Detail (an admin or monitoring-token check), or mount Health.DetailHandler on an admin route",
				})
			}
		}
	}
	const where = "among the routes of the inventory"
	if len(live) == 0 {
		out = append(out, Finding{
			ID: "MON001", Severity: Blocker,
			Seen: "no liveness endpoint (monitor.Health.Liveness) " + where + ": an orchestrator or uptime monitor cannot tell a hung process from a live one",
			Fix:  `register one: mux.Handle("GET /healthz", authz.Public("uptime monitor"), health.Liveness())`,
		})
	}
	if len(ready) == 0 {
		out = append(out, Finding{
			ID: "MON001", Severity: Blocker,
			Seen: "no readiness endpoint (monitor.Health.Readiness) " + where + ": traffic reaches instances whose database or boot check failed",
			Fix:  `register one with the app's dependencies and boot verdict: mux.Handle("GET /readyz", authz.Public("load balancer"), health.Readiness())`,
		})
	}
	return out
}

// coveredByAll reports whether a handler of type T is in the global chain,
// or else lists the routes whose own chain lacks one.
func coveredByAll[T any](in *Inspection, only func(Route) bool) (global bool, missing []string) {
	if _, ok := Find[T](in.Chain); ok {
		return true, nil
	}
	for _, r := range in.Routes {
		if only != nil && !only(r) {
			continue
		}
		if _, ok := Find[T](r.Chain); !ok {
			missing = append(missing, r.Pattern)
		}
	}
	return false, missing
}

func checkRecovery(_ context.Context, in *Inspection) []Finding {
	if in.Inventory == nil {
		return nil
	}
	global, missing := coveredByAll[*monitor.RecoveryHandler](in, nil)
	if global || (len(missing) == 0 && len(in.Routes) > 0) {
		return nil
	}
	seen := "no panic-recovery middleware (monitor.Recovery) in the server's middleware chain: a panicking handler kills its connection with no problem response, and the panic reaches no error tracker (net/http only prints it to stderr)"
	if len(missing) > 0 && len(missing) < len(in.Routes) {
		seen = fmt.Sprintf("panic recovery (monitor.Recovery) covers only some routes; %d route(s) have none, e.g. %s", len(missing), missing[0])
	}
	return []Finding{{
		ID: "MON002", Severity: Blocker, Seen: seen,
		Fix: "wrap the server handler: srv.Handler = monitor.Recover(reporter).Handler(...), with a Reporter for your error tracker (monitor.SlogReporter logs)",
	}}
}

func checkCounters(_ context.Context, in *Inspection) []Finding {
	if in.Inventory == nil {
		return nil
	}
	if _, ok := Find[*monitor.CountingHandler](in.Chain); ok {
		return nil
	}
	return []Finding{{
		ID: "MON003", Severity: Warning,
		Seen: "no counters for 5xx, 401, 403 and 429 responses (monitor.Counters) in the server's middleware chain: broken logins and error spikes are found by users, not alerts",
		Fix:  "wrap the server handler with counters.Handler(...) outside the route inventory and export them (monitor/prometheus) to your alerting",
	}}
}
