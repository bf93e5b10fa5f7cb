package readiness

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/launchready/launchready/readiness/egress"
)

// Outbound dependencies (scorecard items 9 and 10): a slow or failing mail
// API, payment provider or webhook target must not freeze the portal. Each
// registered client should be an egress.Dependency with a deadline below
// the server's WriteTimeout, a circuit breaker, and a declared fallback;
// the dependency probe (readiness/probe) verifies the fallback.

func init() {
	registerBuiltin("deploy/dependencies", checkDependencies)
	for _, c := range []CheckInfo{
		{"DEPLOY010", ItemDeploy, "outbound dependency without a deadline budget, circuit breaker and declared fallback"},
		{"DEPLOY011", ItemDeploy, "dependency deadline longer than the server's WriteTimeout or a support agent's wait"},
		{"MON007", ItemMonitoring, "a route hung, failed or leaked upstream errors while a dependency was slow or down"},
	} {
		catalogue[c.ID] = c
	}
}

// SyncDependencyBudget is the longest deadline a dependency called inside a
// request (fallback Degrade or FailFast) may have before DEPLOY011 warns:
// a support agent waits that long per click when it is down.
const SyncDependencyBudget = time.Second

func checkDependencies(_ context.Context, in *Inspection) []Finding {
	names := make([]string, 0, len(in.Target.Clients))
	for name := range in.Target.Clients {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []Finding
	for _, name := range names {
		c := in.Target.Clients[name]
		if c == nil {
			continue // DEPLOY006 reports it
		}
		dep := egress.DependencyOf(c)
		if dep == nil {
			out = append(out, Finding{
				ID: "DEPLOY010", Severity: Blocker,
				Seen: fmt.Sprintf("outbound client %q has no declared budget, circuit breaker or fallback: when it is slow every request that calls it waits for the full client timeout, and when it is down every such request fails", name),
				Fix:  "build it with egress.NewDependency (Deadline, Retries for idempotent calls, Failures/OpenFor for the breaker) and declare Fallback: egress.Queue for work that can wait, egress.Degrade to serve without it, egress.FailFast for a 503 with Retry-After",
			})
			continue
		}
		s := dep.Settings()
		if wt := in.Target.Server.WriteTimeout; wt > 0 && s.Deadline >= wt {
			out = append(out, Finding{
				ID: "DEPLOY011", Severity: Blocker,
				Seen: fmt.Sprintf("dependency %q may take %s, but the server's WriteTimeout is %s: the server cuts the response before the dependency gives up, and the agent sees a broken page instead of the fallback", name, s.Deadline, wt),
				Fix:  fmt.Sprintf("set DependencyConfig.Deadline well below %s (e.g. %s)", wt, wt/4),
			})
			continue
		}
		if s.Fallback != egress.Queue && s.Deadline > SyncDependencyBudget {
			out = append(out, Finding{
				ID: "DEPLOY011", Severity: Warning,
				Seen: fmt.Sprintf("dependency %q is called inside requests (fallback %s) with a %s deadline: while it is slow, each call makes a support agent wait that long", name, s.Fallback, s.Deadline),
				Fix:  fmt.Sprintf("lower DependencyConfig.Deadline to %s or less, or move the call out of the request (egress.Queue)", SyncDependencyBudget),
			})
		}
	}
	return out
}
