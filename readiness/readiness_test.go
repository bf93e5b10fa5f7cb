package readiness_test

import (
	"context"
	"net/http"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/readiness/egress"
)

// stampedBuild is the build information of a binary built from a clean
// checkout.
func stampedBuild(modified bool) *debug.BuildInfo {
	m := "false"
	if modified {
		m = "true"
	}
	return &debug.BuildInfo{
		Path: "example.com/portal",
		Main: debug.Module{Path: "example.com/portal", Version: "v1.4.0"},
		Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: "4f2a9c1e0b7d4f2a9c1e0b7d4f2a9c1e0b7d4f2a"},
			{Key: "vcs.modified", Value: m},
		},
	}
}

func hardenedServer() *http.Server {
	return &http.Server{
		Handler:           healthOnlyMux(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

func goodTarget(t *testing.T, env readiness.Env) readiness.Target {
	mail, err := egress.NewDependency(egress.DependencyConfig{Name: "mail", Deadline: 5 * time.Second, Fallback: egress.Queue})
	require.NoError(t, err)
	client := mail.Client()
	return readiness.Target{
		Server:          hardenedServer(),
		Env:             env,
		Build:           stampedBuild(false),
		ShutdownTimeout: 20 * time.Second,
		AllowedHosts:    []string{"portal.example.com"},
		Clients:         map[string]*http.Client{"mail": client},
		Release:         declaredRelease(),
	}
}

// deployIDs keeps the findings of the deployment checks, which are the only
// built-in checks that fire on a bare server; informational ones (the
// release identity, DEPLOY008) are left out.
func deployIDs(r *readiness.Report) []string {
	var out []string
	for _, f := range r.Findings {
		if f.Severity == readiness.Info {
			continue
		}
		if strings.HasPrefix(f.ID, "DEPLOY") || strings.HasPrefix(f.ID, "CHECK") {
			out = append(out, f.ID)
		}
	}
	return out
}

func TestDeployChecksBadServer(t *testing.T) {
	target := readiness.Target{
		Server:  &http.Server{Handler: http.NotFoundHandler()},
		Env:     readiness.Production,
		Build:   &debug.BuildInfo{Main: debug.Module{Path: "example.com/portal", Version: "(devel)"}},
		Clients: map[string]*http.Client{"payments": http.DefaultClient, "webhooks": {}},
	}
	r, err := readiness.Run(t.Context(), target)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{
		"DEPLOY001",                                                     // no VCS revision
		"DEPLOY003", "DEPLOY003", "DEPLOY003", "DEPLOY003", "DEPLOY003", // five server limits
		"DEPLOY004",              // no graceful shutdown
		"DEPLOY006", "DEPLOY006", // DefaultClient, and a client without timeout
		"DEPLOY007", "DEPLOY007", // no host allowlist; unguarded "webhooks" client
		"DEPLOY010", "DEPLOY010", // neither client declares a budget, breaker and fallback
	}, deployIDs(r))
	assert.True(t, r.Blocked())
	for _, f := range r.ByID("DEPLOY001") {
		assert.Equal(t, readiness.Blocker, f.Severity, "production never downgrades")
	}
	for _, f := range r.ByID("DEPLOY003") {
		assert.Contains(t, f.Seen, "http.Server.")
		assert.NotEmpty(t, f.Fix)
	}
}

func TestDeployChecksGoodServer(t *testing.T) {
	r, err := readiness.Run(t.Context(), goodTarget(t, readiness.Production))
	require.NoError(t, err)
	assert.Empty(t, deployIDs(r), "%s", r)
}

func TestModifiedTreeAndOldTLS(t *testing.T) {
	target := goodTarget(t, readiness.Production)
	target.Build = stampedBuild(true)
	target.Server.TLSConfig = &tlsConfigTLS10
	r, err := readiness.Run(t.Context(), target)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"DEPLOY002", "DEPLOY005"}, deployIDs(r))
}

func TestDevelopmentDowngradesProductionOnly(t *testing.T) {
	target := goodTarget(t, readiness.Development)
	target.Build = &debug.BuildInfo{}
	r, err := readiness.Run(t.Context(), target)
	require.NoError(t, err)
	f := r.ByID("DEPLOY001")
	require.Len(t, f, 1)
	assert.Equal(t, readiness.Warning, f[0].Severity)
	assert.True(t, f[0].Downgraded)
	assert.False(t, r.Blocked(), "%s", r)

	target.Env = readiness.Production
	r, err = readiness.Run(t.Context(), target)
	require.NoError(t, err)
	assert.True(t, r.Blocked())
	assert.Equal(t, readiness.Blocker, r.ByID("DEPLOY001")[0].Severity)
}

func TestTestBinaryProvenanceIsInfo(t *testing.T) {
	target := goodTarget(t, readiness.Production)
	target.Build = nil // read the test binary's own build info
	r, err := readiness.Run(t.Context(), target)
	require.NoError(t, err)
	f := r.ByID("DEPLOY001")
	require.Len(t, f, 1)
	assert.Equal(t, readiness.Info, f[0].Severity)
}

func TestAcceptance(t *testing.T) {
	target := goodTarget(t, readiness.Production)
	target.Server.WriteTimeout = 0
	target.Accepted = []readiness.Acceptance{
		readiness.Accept("DEPLOY003", "exports stream for minutes; the proxy enforces a 10 min write deadline"),
	}
	r, err := readiness.Run(t.Context(), target)
	require.NoError(t, err)
	f := r.ByID("DEPLOY003")
	require.Len(t, f, 1, "an accepted finding stays in the report")
	assert.True(t, f[0].Accepted)
	assert.Contains(t, f[0].AcceptedReason, "proxy")
	assert.False(t, r.Blocked())
	assert.Contains(t, r.String(), "ACCEPTED: exports stream")
	assert.Equal(t, readiness.Warn, r.Scorecard()[readiness.ItemDeploy-1].Status)
}

func TestAcceptRouteOnlyMatchesThatRoute(t *testing.T) {
	check := readiness.CheckFunc("two routes", func(context.Context, *readiness.Inspection) []readiness.Finding {
		return []readiness.Finding{
			{ID: "AUTH002", Severity: readiness.Blocker, Route: "GET /a", Seen: "a"},
			{ID: "AUTH002", Severity: readiness.Blocker, Route: "GET /b", Seen: "b"},
		}
	})
	target := goodTarget(t, readiness.Production)
	target.Checks = []readiness.Check{check}
	target.Accepted = []readiness.Acceptance{readiness.AcceptRoute("AUTH002", "GET /a", "status page is public by design")}
	r, err := readiness.Run(t.Context(), target)
	require.NoError(t, err)
	got := r.ByID("AUTH002")
	require.Len(t, got, 2)
	assert.True(t, got[0].Accepted)
	assert.False(t, got[1].Accepted)
	assert.True(t, r.Blocked())
}

func TestBadTargets(t *testing.T) {
	good := goodTarget(t, readiness.Production)
	for name, tc := range map[string]struct {
		mutate func(*readiness.Target)
		want   string
	}{
		"nil server":   {func(tg *readiness.Target) { tg.Server = nil }, "Target.Server is nil"},
		"empty reason": {func(tg *readiness.Target) { tg.Accepted = []readiness.Acceptance{readiness.Accept("DEPLOY003", "")} }, "has no reason"},
		"unknown ID":   {func(tg *readiness.Target) { tg.Accepted = []readiness.Acceptance{readiness.Accept("DEPLOY999", "x")} }, `unknown check ID "DEPLOY999"`},
		"nil check":    {func(tg *readiness.Target) { tg.Checks = []readiness.Check{nil} }, "Target.Checks[0] is nil"},
		"bad env":      {func(tg *readiness.Target) { tg.Env = 7 }, "Target.Env"},
		"bad replicas": {func(tg *readiness.Target) { tg.Replicas = -2 }, "Target.Replicas is -2"},
	} {
		t.Run(name, func(t *testing.T) {
			tg := good
			tc.mutate(&tg)
			r, err := readiness.Run(t.Context(), tg)
			require.Error(t, err)
			assert.Nil(t, r)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "readiness: "))
		})
	}
}

type describedCheck struct{}

func (describedCheck) Name() string { return "demo accounts" }
func (describedCheck) Describe() []readiness.CheckInfo {
	return []readiness.CheckInfo{{ID: "APP001", Item: readiness.ItemAuth, Title: "support shared mailbox login"}}
}
func (describedCheck) Run(context.Context, *readiness.Inspection) []readiness.Finding {
	return []readiness.Finding{{ID: "APP001", Severity: readiness.Blocker, Item: readiness.ItemAuth, Seen: "shared login"}}
}

func TestCustomCheckIDsCanBeAccepted(t *testing.T) {
	target := goodTarget(t, readiness.Production)
	target.Checks = []readiness.Check{describedCheck{}}
	target.Accepted = []readiness.Acceptance{readiness.Accept("APP001", "migrating by June")}
	r, err := readiness.Run(t.Context(), target)
	require.NoError(t, err)
	require.Len(t, r.ByID("APP001"), 1)
	assert.True(t, r.ByID("APP001")[0].Accepted)
}

func TestPanickingCheckBecomesFinding(t *testing.T) {
	target := goodTarget(t, readiness.Production)
	target.Checks = []readiness.Check{
		readiness.CheckFunc("explodes", func(context.Context, *readiness.Inspection) []readiness.Finding {
			var m map[string]int
			m["boom"]++ // a nil-map write: a realistic bug
			return nil
		}),
		readiness.CheckFunc("after", func(context.Context, *readiness.Inspection) []readiness.Finding {
			return []readiness.Finding{{ID: "AUTH010", Severity: readiness.Blocker, Seen: "demo accounts"}}
		}),
	}
	r, err := readiness.Run(t.Context(), target)
	require.NoError(t, err)
	f := r.ByID("CHECK000")
	require.Len(t, f, 1)
	assert.Contains(t, f[0].Seen, `check "explodes" panicked`)
	assert.Len(t, r.ByID("AUTH010"), 1, "the run continues after a panic")
	assert.Equal(t, readiness.ItemAuth, r.ByID("AUTH010")[0].Item, "item filled from the catalogue")
}

func TestCancelledRun(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := readiness.Run(ctx, goodTarget(t, readiness.Production))
	require.ErrorIs(t, err, context.Canceled)
}

type fakeProbe struct{}

func (fakeProbe) Name() string { return "fake probe" }
func (fakeProbe) ProbeOnly()   {}
func (fakeProbe) Run(context.Context, *readiness.Inspection) []readiness.Finding {
	return nil
}

func TestGate(t *testing.T) {
	var out strings.Builder
	bad := goodTarget(t, readiness.Production)
	bad.Server.ReadHeaderTimeout, bad.Server.ReadTimeout = 0, 0
	err := readiness.Gate(t.Context(), bad, &out)
	require.ErrorIs(t, err, readiness.ErrBlocked)
	var be *readiness.BlockedError
	require.ErrorAs(t, err, &be)
	assert.Contains(t, err.Error(), "DEPLOY003")
	assert.Contains(t, out.String(), "BLOCKED")
	assert.Contains(t, out.String(), "9  Deployment safety      FAIL")

	out.Reset()
	require.NoError(t, readiness.Gate(t.Context(), goodTarget(t, readiness.Production), &out))
	assert.Contains(t, out.String(), "READY")

	withProbe := goodTarget(t, readiness.Production)
	withProbe.Checks = []readiness.Check{fakeProbe{}}
	err = readiness.Gate(t.Context(), withProbe, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "probes run only in tests")
}

// fakeTB records what Require does to a test.
type fakeTB struct {
	testing.TB
	errors []string
	failed bool
}

func (f *fakeTB) Helper()                        {}
func (f *fakeTB) Errorf(format string, a ...any) { f.errors = append(f.errors, format); _ = a }
func (f *fakeTB) FailNow()                       { f.failed = true }
func (f *fakeTB) Logf(string, ...any)            {}
func (f *fakeTB) Context() context.Context       { return context.Background() }

func TestRequireFailsOnBlockers(t *testing.T) {
	bad := goodTarget(t, readiness.Production)
	bad.Server.WriteTimeout = 0
	ft := &fakeTB{}
	r := readiness.Require(ft, bad)
	assert.True(t, ft.failed)
	require.NotNil(t, r)
	assert.True(t, r.Blocked())

	ft = &fakeTB{}
	readiness.Require(ft, goodTarget(t, readiness.Production))
	assert.False(t, ft.failed)
}
