package readiness

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/launchready/launchready/flows"
	"github.com/launchready/launchready/monitor"
)

// ReleasePlan is what the app declares about its releases: what a failed
// deploy rolls back to, and the synthetic flows that decide whether a
// release works (launchready verify after each deploy, launchready monitor
// every five minutes, probe.FlowProbe in the app's tests).
type ReleasePlan struct {
	// Previous names the release a failed deploy rolls back to: its VCS
	// revision or version, as the deploy tooling knows it (the release
	// script exports it; examples/deploy). Empty in production reports
	// DEPLOY008.
	Previous string
	// Flows are the synthetic flows. None in production reports DEPLOY009;
	// none covering login and a core workflow reports MON005.
	Flows []flows.Flow
}

func init() {
	registerBuiltin("deploy/release", checkRelease)
	registerBuiltin("monitor/flows", checkFlowCoverage)
	registerBuiltin("monitor/tracker", checkErrorTracker)
}

func runningRelease(t *Target) monitor.Release {
	if t.Build != nil {
		return monitor.ReleaseFrom(t.Build)
	}
	bi, _ := debug.ReadBuildInfo()
	return monitor.ReleaseFrom(bi)
}

// Like the MON checks, the release checks judge an app whose server handler
// leads to a route inventory: without one AUTH001 already blocks.
func checkRelease(_ context.Context, in *Inspection) []Finding {
	if in.Inventory == nil {
		return nil
	}
	plan := in.Target.Release
	running := runningRelease(&in.Target)
	var out []Finding
	if plan.Previous == "" {
		if in.Target.Env == Production {
			out = append(out, Finding{
				ID: "DEPLOY008", Severity: Blocker,
				Seen: fmt.Sprintf("running %s with no rollback target declared: when this release breaks, nobody has written down what to go back to", running),
				Fix:  "deploy with a script that keeps the previous release and exports it (examples/deploy/release.sh), and set Target.Release.Previous; a first release accepts DEPLOY008 with that reason",
			})
		}
	} else {
		out = append(out, Finding{
			ID: "DEPLOY008", Severity: Info,
			Seen: fmt.Sprintf("running %s; a failed deploy rolls back to %s", running, plan.Previous),
			Fix:  "nothing to do; keep the previous release installed until the next one verifies",
		})
	}
	if len(plan.Flows) == 0 && in.Target.Env == Production {
		out = append(out, Finding{
			ID: "DEPLOY009", Severity: Blocker,
			Seen: "no synthetic flow is declared to verify a release after deploy, so a release whose login is broken goes live and stays live",
			Fix:  "write flows (login → core workflow → logout; see examples/portal/flows.yaml), set Target.Release.Flows from the same file, and gate each deploy with `launchready verify -flows FILE URL`",
		})
	}
	return out
}

func checkFlowCoverage(_ context.Context, in *Inspection) []Finding {
	if in.Inventory == nil {
		return nil
	}
	var names []string
	for _, f := range in.Target.Release.Flows {
		if f.Covering(flows.CoverLogin) && f.Covering(flows.CoverWorkflow) {
			return nil
		}
		names = append(names, fmt.Sprintf("%q", f.Name))
	}
	seen := "no synthetic flow is declared, so nothing signs in and runs a core workflow every few minutes: a broken login is found by the support team, not by an alert"
	if len(names) > 0 {
		seen = fmt.Sprintf("none of the declared flows (%s) covers both login and a core workflow (covers: [login, workflow])", strings.Join(names, ", "))
	}
	return []Finding{{
		ID: "MON005", Severity: Blocker, ProductionOnly: true, Seen: seen,
		Fix: "declare a flow that signs in through the real login route and runs one core workflow (covers: [login, workflow]) in Target.Release.Flows, and run it with `launchready monitor -flows FILE -every 5m URL`",
	}}
}

// ErrorTracker is implemented by monitor.Reporters that send panics beyond
// the process log (monitor/sentry.Reporter): ErrorTracker names the
// service.
type ErrorTracker interface {
	ErrorTracker() string
}

// checkErrorTracker: in production, panic recovery that only logs is noted
// (info) under MON002, naming the reporter; the recovery itself is checked
// by monitor/recovery. A reporter implementing ErrorTracker is recognised
// and the note disappears.
func checkErrorTracker(_ context.Context, in *Inspection) []Finding {
	if in.Inventory == nil || in.Target.Env != Production {
		return nil
	}
	var rh *monitor.RecoveryHandler
	if h, ok := Find[*monitor.RecoveryHandler](in.Chain); ok {
		rh = h
	} else {
		return nil
	}
	if _, ok := rh.Reporter().(ErrorTracker); ok {
		return nil
	}
	return []Finding{{
		ID: "MON002", Severity: Info,
		Seen: fmt.Sprintf("recovered panics go to %T, the process log only: nobody is told when handlers panic", rh.Reporter()),
		Fix:  "report them to an error tracker: monitor.Recover(rep) with rep from monitor/sentry (sentry.New), which sends redacted panics and 5xx with route and release",
	}}
}
