package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/audit"
)

// TestRunSmoke drives the in-process portal briefly at a low rate: every
// request of the mix must succeed through all protections.
func TestRunSmoke(t *testing.T) {
	assert.NoError(t, run(100, 300*time.Millisecond, 4, "", filepath.Join(t.TempDir(), "audit.jsonl"), ""))
	assert.Error(t, run(0, time.Second, 1, "", "", ""))
	assert.Error(t, run(10, time.Hour, 1, "", "", ""))
	assert.Error(t, run(10, time.Second, 1, "", "", "sometimes"))
	assert.Error(t, run(10, time.Second, 1, "http://127.0.0.1:1", "", "slow"))
}

// With a CRM that hangs, client lookups degrade within their deadline and
// every request still answers 2xx.
func TestRunWithSlowCRM(t *testing.T) {
	assert.NoError(t, run(60, 500*time.Millisecond, 8, "", filepath.Join(t.TempDir(), "audit.jsonl"), "slow"))
}

// TestMain lets the test binary stand in for loadgen when -saturate
// re-executes itself as a server process (-serve kit|bare).
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "-serve" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// -saturate drives the kit and the bare twin, each in its own server
// process, and writes both into the results file.
func TestSaturateSmoke(t *testing.T) {
	results := filepath.Join(t.TempDir(), "saturation.json")
	var out bytes.Buffer
	c := saturateConfig{Workers: 8, Step: 300 * time.Millisecond, SLO: time.Second, Start: 50, MaxSteps: 2,
		FixedRate: 60, Fixed: 300 * time.Millisecond, Results: results}
	require.NoError(t, saturate(c, "loadgen -saturate", &out))
	b, err := os.ReadFile(results)
	require.NoError(t, err)
	var rep saturationReport
	require.NoError(t, json.Unmarshal(b, &rep))
	require.Len(t, rep.Saturation, 2)
	for i, impl := range []string{implKit, implBare} {
		s := rep.Saturation[i]
		assert.Equal(t, impl, s.Impl)
		assert.Len(t, s.Steps, 2, "the search stops at -max-steps")
		assert.Equal(t, 100, s.Rate, "50 and then 100 req/s pass with a 1 s SLO")
		require.NotNil(t, s.At)
		assert.Zero(t, s.At.Errors)
		// /proc counts CPU time in 10 ms ticks: a 300 ms step at 100 req/s
		// may not reach one (TestServerCPU checks the reading itself).
		assert.GreaterOrEqual(t, s.At.ServerCPUUs, 0.0)
	}
	require.Len(t, rep.Fixed, 2)
	assert.Equal(t, routeNames[postRoute], rep.Fixed[0].Routes[postRoute].Route)
	assert.Positive(t, rep.Fixed[0].Routes[postRoute].P99Us)
	for _, f := range rep.Fixed {
		post := f.Routes[postRoute]
		assert.Positive(t, post.ServerP50Us, "%s: the server's part of the POST latency", f.Impl)
		assert.Positive(t, post.WaitP50Us, "%s: the generator's part", f.Impl)
		assert.LessOrEqual(t, post.ServerP50Us, post.P99Us, "%s: a part of the latency is no longer than its p99", f.Impl)
	}
	require.NotNil(t, rep.Fixed[0].Audit, "the kit server reports its audit file when it stops")
	assert.Nil(t, rep.Fixed[1].Audit, "the bare twin has no audit trail")
	a := rep.Fixed[0].Audit
	assert.GreaterOrEqual(t, a.Records, uint64(6), "the fixed run's POSTs (60 req/s for 300 ms, a third of them) are audited")
	assert.Positive(t, a.Syncs)
	assert.Positive(t, a.SyncMeanUs)
	assert.Equal(t, float64(audit.DefaultCommitDelay.Microseconds()), a.CommitDelayUs, "the portal's default commit delay")
	assert.Contains(t, out.String(), "per fsync")
	assert.Contains(t, out.String(), "kit ÷ bare")
	assert.Contains(t, rep.Pinning, "none")

	assert.Error(t, saturate(saturateConfig{}, "", io.Discard), "a zero config is refused")
	assert.Error(t, serve("fast", -1, "", "", 0, strings.NewReader(""), io.Discard), "an unknown server is refused")
}

// The search doubles until a step fails, then bisects, and stops within 5%.
func TestSearch(t *testing.T) {
	s := &search{impl: implKit, next: 1000, maxSteps: 20}
	capacity := 5300
	var tried []int
	for !s.done() {
		tried = append(tried, s.next)
		s.record(stepReport{Rate: s.next, Pass: s.next <= capacity})
	}
	assert.Equal(t, []int{1000, 2000, 4000, 8000, 6000, 5000, 5500, 5250}, tried, "5250 passes and 5500 fails: within 5%")
	assert.Equal(t, 5250, s.report().Rate)
	require.NotNil(t, s.report().At)
	assert.Equal(t, 5250, s.report().At.Rate)

	failing := &search{impl: implBare, next: 100, maxSteps: 20}
	for !failing.done() {
		failing.record(stepReport{Rate: failing.next, Pass: false})
	}
	assert.Zero(t, failing.report().Rate, "nothing sustained")
	assert.Nil(t, failing.report().At)
	assert.Len(t, failing.steps, 2, "100, then 50, then it gives up")
}

// The kit server's audit report: records per fsync and the mean fsync
// time from the sink's counters, the commit delay as the portal applies it.
func TestAuditReport(t *testing.T) {
	st := audit.FileStats{Records: 12, Synced: 12, Syncs: 3, MaxBatch: 6, SyncTime: 900 * time.Microsecond}
	r := newAuditReport(st, 0)
	assert.Equal(t, auditReport{Records: 12, Syncs: 3, PerSync: 4, MaxBatch: 6, SyncMeanUs: 300, CommitDelayUs: 1000}, r)
	assert.Zero(t, newAuditReport(st, -1).CommitDelayUs, "a negative delay turns it off")
	assert.Equal(t, 2000.0, newAuditReport(st, 2*time.Millisecond).CommitDelayUs)
	assert.Zero(t, newAuditReport(audit.FileStats{}, 0).SyncMeanUs, "no fsync: no mean")
}

// The server process's CPU time is read from /proc: its start alone (the
// portal's build and boot gate, bcrypt hashes of the demo accounts) takes
// many 10 ms ticks.
func TestServerCPU(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc: Linux only")
	}
	srv, err := startServer(implKit, -1, filepath.Join(t.TempDir(), "audit.jsonl"), 0)
	require.NoError(t, err)
	d, err := srv.cpu()
	require.NoError(t, err)
	assert.Positive(t, d, "the server process's CPU time is read from /proc")
	require.NoError(t, srv.stop())
	require.NotNil(t, srv.audit, "the kit server reports its audit file when it stops")
	assert.Zero(t, srv.audit.Records, "no request, no record")
}

// -tmpfs-audit adds a third server, the kit with its audit file on tmpfs,
// searched like the others; a directory not on tmpfs is refused, since
// the comparison would then measure a disk.
func TestSaturateTmpfsAudit(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("-tmpfs-audit needs Linux")
	}
	const shm = "/dev/shm"
	if err := checkTmpfs(shm); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI: %s must be a tmpfs: %v", shm, err)
		}
		t.Skipf("%s is not a tmpfs here: %v", shm, err)
	}
	dir, err := os.MkdirTemp(shm, "loadgen-test-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })

	var out bytes.Buffer
	c := saturateConfig{Workers: 4, Step: 300 * time.Millisecond, SLO: time.Second, Start: 50, MaxSteps: 1, TmpfsAuditDir: dir}
	require.NoError(t, saturate(c, "loadgen -saturate -tmpfs-audit", &out))
	assert.Contains(t, out.String(), "kit-tmpfs (audit file on tmpfs: fsync costs nothing) ÷ bare")
	assert.Contains(t, out.String(), "| kit-tmpfs | 50 req/s")
	left, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, left, "each step's audit file is removed with its server")

	// A directory on a disk is refused before anything runs.
	disk, err := os.Getwd()
	require.NoError(t, err)
	if checkTmpfs(disk) == nil {
		t.Logf("the package directory is on tmpfs too: the refusal is not checked here")
		return
	}
	c.TmpfsAuditDir = disk
	err = saturate(c, "", io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is not on tmpfs")
}
