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
		if runtime.GOOS == "linux" {
			assert.Positive(t, s.At.ServerCPUUs, "the server process's CPU time is read from /proc")
		}
	}
	require.Len(t, rep.Fixed, 2)
	assert.Equal(t, routeNames[postRoute], rep.Fixed[0].Routes[postRoute].Route)
	assert.Positive(t, rep.Fixed[0].Routes[postRoute].P99Us)
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
