package readiness

import (
	"context"
	"fmt"
	"runtime/debug"
	"sort"
	"strings"
)

// A Check inspects the target and returns its findings. The kit's own checks
// are built in and always run; an app adds its own (and third-party
// middleware adapters) through Target.Checks.
//
// Run must not modify the Inspection. A check that panics does not stop the
// run: the panic becomes a CHECK000 blocker naming the check.
type Check interface {
	// Name identifies the check in reports and errors.
	Name() string
	Run(ctx context.Context, in *Inspection) []Finding
}

// Describer is implemented by checks whose findings use IDs outside the
// built-in catalogue, so those IDs can be accepted and documented.
type Describer interface {
	Describe() []CheckInfo
}

// ProbeOnly is implemented by checks that send requests through the app's
// real handlers. They belong in the app's tests: Gate refuses them, because
// at boot they would act on real data.
type ProbeOnly interface {
	ProbeOnly()
}

type checkFunc struct {
	name string
	fn   func(context.Context, *Inspection) []Finding
}

func (c checkFunc) Name() string { return c.name }
func (c checkFunc) Run(ctx context.Context, in *Inspection) []Finding {
	return c.fn(ctx, in)
}

// CheckFunc makes a Check from a function, for app rules such as "demo
// accounts present" (AUTH010).
func CheckFunc(name string, fn func(ctx context.Context, in *Inspection) []Finding) Check {
	return checkFunc{name: name, fn: fn}
}

// builtins are the kit's own checks, registered by the file that owns them.
var builtins []Check

func registerBuiltin(name string, fn func(context.Context, *Inspection) []Finding) {
	builtins = append(builtins, checkFunc{name: name, fn: fn})
}

// Run runs every built-in check and the target's own checks and returns the
// report. It returns an error, and no report, only when the target itself is
// unusable: no server, an acceptance without a reason or with an unknown ID,
// a nil check. Everything the checks find is in the report.
func Run(ctx context.Context, t Target) (*Report, error) {
	known := map[string]bool{}
	for _, c := range t.Checks {
		if d, ok := c.(Describer); ok {
			for _, info := range d.Describe() {
				known[info.ID] = true
			}
		}
	}
	if err := t.validate(known); err != nil {
		return nil, err
	}
	in := inspect(t)
	var findings []Finding
	for _, c := range append(append([]Check(nil), builtins...), t.Checks...) {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("readiness: run cancelled: %w", err)
		}
		findings = append(findings, runOne(ctx, c, in)...)
	}
	in.reach.resolve(findings)
	r := newReport(t, findings)
	r.Routes = routeTable(in, r.Findings)
	r.Reach = in.reach.snapshot()
	return r, nil
}

func runOne(ctx context.Context, c Check, in *Inspection) (out []Finding) {
	defer func() {
		if p := recover(); p != nil {
			stack := string(debug.Stack())
			out = []Finding{{
				ID:       "CHECK000",
				Severity: Blocker,
				Item:     ItemDeploy,
				Seen:     fmt.Sprintf("check %q panicked: %v (%s)", c.Name(), p, firstFrame(stack)),
				Fix:      "fix the check or the configuration it reads; until it runs, what it verifies is unverified",
			}}
		}
	}()
	return c.Run(ctx, in)
}

// firstFrame returns the first stack frame below the panic, to point at the
// failing code without dumping the whole stack into the report.
func firstFrame(stack string) string {
	lines := strings.Split(stack, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "panic(") && i+3 < len(lines) {
			return strings.TrimSpace(lines[i+3])
		}
	}
	return "stack unavailable"
}

func newReport(t Target, findings []Finding) *Report {
	r := &Report{Env: t.Env}
	for _, f := range findings {
		if f.Item == 0 {
			if info, ok := catalogue[f.ID]; ok {
				f.Item = info.Item
			}
		}
		if f.Severity == 0 {
			f.Severity = Blocker // a check that forgot a severity is taken seriously
		}
		if f.ProductionOnly && f.Severity == Blocker && t.Env != Production {
			f.Severity = Warning
			f.Downgraded = true
		}
		for _, a := range t.Accepted {
			if a.ID == f.ID && (a.Route == "" || a.Route == f.Route) {
				f.Accepted, f.AcceptedReason = true, a.Reason
				break
			}
		}
		r.Findings = append(r.Findings, f)
	}
	sort.SliceStable(r.Findings, func(i, j int) bool {
		a, b := r.Findings[i], r.Findings[j]
		if a.Item != b.Item {
			return a.Item < b.Item
		}
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		return a.Route < b.Route
	})
	return r
}
