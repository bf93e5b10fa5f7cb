package readiness_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/flows"
	"github.com/launchready/launchready/monitor"
	"github.com/launchready/launchready/readiness"
)

// trackerReporter stands for an error-tracker reporter (monitor/sentry).
type trackerReporter struct{}

func (trackerReporter) Report(context.Context, monitor.Panic) {}
func (trackerReporter) ErrorTracker() string                  { return "test tracker" }

// declaredRelease is a release plan that passes DEPLOY008, DEPLOY009 and
// MON005: a rollback target and a flow over login and a workflow.
func declaredRelease() readiness.ReleasePlan {
	return readiness.ReleasePlan{Previous: "v0.9.0", Flows: []flows.Flow{{
		Name: "agent opens a ticket", Covers: []string{flows.CoverLogin, flows.CoverWorkflow},
		Steps: []flows.Step{{Name: "login", Request: "POST /api/login"}, {Name: "ticket", Request: "POST /api/tickets"}},
	}}}
}

func releaseIDs(t *testing.T, target readiness.Target) []string {
	t.Helper()
	rep, err := readiness.Run(context.Background(), target)
	require.NoError(t, err)
	var out []string
	for _, f := range rep.Findings {
		if f.ID == "DEPLOY008" || f.ID == "DEPLOY009" || f.ID == "MON005" || f.ID == "MON002" {
			out = append(out, f.ID+" "+f.Severity.String())
		}
	}
	return out
}

func TestReleasePlanChecks(t *testing.T) {
	loginOnly := declaredRelease()
	loginOnly.Flows[0].Covers = []string{flows.CoverLogin}
	for name, tc := range map[string]struct {
		env  readiness.Env
		plan readiness.ReleasePlan
		want []string
	}{
		"declared":             {readiness.Production, declaredRelease(), []string{"DEPLOY008 info"}},
		"nothing, production":  {readiness.Production, readiness.ReleasePlan{}, []string{"DEPLOY008 blocker", "DEPLOY009 blocker", "MON005 blocker"}},
		"nothing, development": {readiness.Development, readiness.ReleasePlan{}, []string{"MON005 warning"}},
		"no previous":          {readiness.Production, readiness.ReleasePlan{Flows: declaredRelease().Flows}, []string{"DEPLOY008 blocker"}},
		"login only":           {readiness.Production, loginOnly, []string{"DEPLOY008 info", "MON005 blocker"}},
	} {
		t.Run(name, func(t *testing.T) {
			target := monPortal{}.target(t)
			target.Env, target.Release = tc.env, tc.plan
			assert.ElementsMatch(t, tc.want, releaseIDs(t, target))
		})
	}
}

func TestReleaseReportNamesRunningAndPrevious(t *testing.T) {
	target := monPortal{}.target(t)
	target.Build = stampedBuild(false)
	rep, err := readiness.Run(context.Background(), target)
	require.NoError(t, err)
	f := rep.ByID("DEPLOY008")
	require.Len(t, f, 1)
	assert.Contains(t, f[0].Seen, "rolls back to v0.9.0")
	assert.Contains(t, f[0].Seen, monitor.ReleaseFrom(stampedBuild(false)).Revision)
}

func TestErrorTrackerRecognised(t *testing.T) {
	withReporter := func(rep monitor.Reporter, env readiness.Env) readiness.Target {
		target := monPortal{noRecovery: true}.target(t)
		target.Env = env
		target.Server.Handler = monitor.Recover(rep).Handler(target.Server.Handler)
		return target
	}
	mon002 := func(target readiness.Target) []string {
		var out []string
		for _, id := range releaseIDs(t, target) {
			if strings.HasPrefix(id, "MON002") {
				out = append(out, id)
			}
		}
		return out
	}
	assert.Empty(t, mon002(withReporter(trackerReporter{}, readiness.Production)), "an error tracker is recognised")
	ids := releaseIDs(t, withReporter(monitor.SlogReporter{}, readiness.Production))
	assert.Contains(t, ids, "MON002 info", "a log is not an error tracker")
	rep, err := readiness.Run(context.Background(), withReporter(nil, readiness.Production))
	require.NoError(t, err)
	require.Len(t, rep.ByID("MON002"), 1)
	assert.True(t, strings.Contains(rep.ByID("MON002")[0].Fix, "monitor/sentry"))
	assert.Empty(t, mon002(withReporter(monitor.SlogReporter{}, readiness.Development)), "development logs panics")
}
