package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// As examples/cmd/loadgen -saturate -results writes it.
const saturationSample = `{
  "command": "loadgen -saturate -workers 256 -results results/saturation.json",
  "pinning": "server process on CPU 0, generator on CPU 1 (sched_setaffinity), GOMAXPROCS=1 each",
  "slo_p95_ms": 50, "step_seconds": 3, "workers": 256,
  "saturation": [
    {"impl": "kit", "rate": 3500,
     "at": {"rate": 3500, "achieved": 3499, "pass": true, "p50_us": 1200, "p95_us": 31000, "p99_us": 48000, "errors": 0, "server_cpu_us_per_req": 210.5, "generator_cpu": 0.4},
     "steps": [{"rate": 1000, "pass": true, "p95_us": 3000, "server_cpu_us_per_req": 250},
               {"rate": 4000, "pass": false, "p95_us": 900000, "errors": 3, "server_cpu_us_per_req": 200},
               {"rate": 3500, "pass": true, "p95_us": 31000, "server_cpu_us_per_req": 210.5, "attempt": 2}]},
    {"impl": "bare", "rate": 4000,
     "at": {"rate": 4000, "achieved": 4000, "pass": true, "p50_us": 900, "p95_us": 8400, "p99_us": 16860, "errors": 0, "server_cpu_us_per_req": 85, "generator_cpu": 0.39},
     "steps": [{"rate": 4000, "pass": true, "p95_us": 8400, "server_cpu_us_per_req": 85}]}
  ],
  "fixed": [
    {"impl": "kit", "rate": 4000, "all": {"rate": 4000, "errors": 0},
     "routes": [{"route": "GET /api/clients/{id}", "p50_us": 1000, "p95_us": 2000, "p99_us": 3000},
                {"route": "GET /api/clients/{id}/tickets", "p50_us": 1000, "p95_us": 2000, "p99_us": 3000},
                {"route": "POST /api/clients/{id}/tickets", "p50_us": 2000, "p95_us": 5000, "p99_us": 8000,
                 "wait_p50_us": 300, "wait_p99_us": 2500, "server_p50_us": 1600, "server_p99_us": 4000}],
     "audit": {"records": 7000, "fsyncs": 2000, "records_per_fsync": 3.5, "max_batch": 40, "fsync_mean_us": 420, "commit_delay_us": 1000}},
    {"impl": "bare", "rate": 4000, "all": {"rate": 4000, "errors": 0},
     "routes": [{"route": "POST /api/clients/{id}/tickets", "p50_us": 500, "p95_us": 700, "p99_us": 1000}]}
  ],
  "mix": "1/3 GET /api/clients/{id}, 1/3 GET /api/clients/{id}/tickets, 1/3 POST /api/clients/{id}/tickets",
  "date": "2026-12-05 20:00 UTC"
}`

func TestSaturationSection(t *testing.T) {
	s, err := ParseSaturation(strings.NewReader(saturationSample))
	require.NoError(t, err)
	var b bytes.Buffer
	Write(&b, nil, Meta{Saturation: s})
	out := b.String()
	assert.Contains(t, out, "## Saturation: the kit beside its bare twin")
	assert.Contains(t, out, "| kit | 3500 req/s | 1.20 ms | 31.00 ms | 48.00 ms | 210.5 µs | 40% of a core |")
	assert.Contains(t, out, "| bare | 4000 req/s | 0.90 ms | 8.40 ms | 16.86 ms | 85.0 µs | 39% of a core |")
	assert.Contains(t, out, "Kit ÷ bare twin, rate sustained: **0.88×** (target ≥ 0.8×: ✅ met).")
	assert.Contains(t, out, "kit 210.5 µs, bare 85.0 µs (2.48×)")
	assert.Contains(t, out, "4000: 900.00 ms, 200 µs, fail, 3 errors")
	assert.Contains(t, out, "3500: 31.00 ms, 210 µs, pass (attempt 2)")
	assert.Contains(t, out, "| kit | POST /api/clients/{id}/tickets | 2.00 ms | 5.00 ms | 8.00 ms | 4.0 | 0.30 ms / 2.50 ms | 1.60 ms / 4.00 ms |")
	assert.Contains(t, out, "| bare | POST /api/clients/{id}/tickets | 0.50 ms | 0.70 ms | 1.00 ms | 2.0 | — | — |", "an older results file without the split")
	assert.Contains(t, out, "audit file 7000 records, 3.50 per fsync (at most 40), 420 µs per fsync on average, commit delay 1000 µs")
	assert.NotContains(t, out, "- bare: server CPU 0.0 µs per request; the generator ran 0 garbage collections (0.00 ms of pauses); audit", "the bare twin has no audit file")
	assert.Contains(t, out, "Kit POST p99 ÷ p50: **4.0 (p99 8.00 ms, p50 2.00 ms at 4000 req/s)** (target ≤ 3: ❌ not met).")
	assert.Contains(t, out, "server process on CPU 0")
	assert.NotContains(t, out, "generator's limit", "40% of a core is no limit")
	assert.NotContains(t, out, "kit-tmpfs", "a results file without the tmpfs search")

	s.Saturation[1].At.GeneratorCPU = 0.95
	b.Reset()
	writeSaturation(&b, s)
	assert.Contains(t, b.String(), "⚠ The generator used 95% of its core at bare's rate")

	// The kit at half the bare twin's rate misses the target.
	s.Saturation[0].Rate = 2000
	b.Reset()
	writeSaturation(&b, s)
	assert.Contains(t, b.String(), "**0.50×** (target ≥ 0.8×: ❌ not met)")
}

func TestParseSaturationRefuses(t *testing.T) {
	_, err := ParseSaturation(strings.NewReader(`{"saturation": [{"impl": "kit", "rate": 100}]}`))
	assert.ErrorContains(t, err, "bare twin")
	_, err = ParseSaturation(strings.NewReader(`{"saturation": `))
	assert.Error(t, err)
}

func TestSaturationTargets(t *testing.T) {
	ts, err := ParseTargets(strings.NewReader(`Saturation sat:rate-ratio >= 0.8 issue 25
Saturation sat:post-tail <= 3 issue 25
`))
	require.NoError(t, err)
	s, err := ParseSaturation(strings.NewReader(saturationSample))
	require.NoError(t, err)
	var b bytes.Buffer
	Write(&b, nil, Meta{Targets: ts, Saturation: s})
	out := b.String()
	assert.Contains(t, out, "| Saturation | sat:rate-ratio | ≥ 0.8 | 0.88× (3500 vs 4000 req/s) | ✅ met | issue 25 |")
	assert.Contains(t, out, "| Saturation | sat:post-tail | ≤ 3 | 4.0 (p99 8.00 ms, p50 2.00 ms at 4000 req/s) | ❌ not met | issue 25 |")

	// Overloaded at the fixed rate: the ratio of two queueing delays is no
	// tail figure, and the target is not met whatever it is.
	s.Fixed[0].All.P95Us = 900000
	s.Fixed[0].Routes[2].P99Us = 2500
	b.Reset()
	Write(&b, nil, Meta{Targets: ts, Saturation: s})
	assert.Contains(t, b.String(), "| Saturation | sat:post-tail | ≤ 3 | 1.2 (p99 2.50 ms, p50 2.00 ms at 4000 req/s), but the kit did not sustain the rate (p95 900.00 ms, 0 errors) | ❌ not met |")

	b.Reset()
	Write(&b, nil, Meta{Targets: ts})
	assert.Contains(t, b.String(), "| Saturation | sat:rate-ratio | ≥ 0.8 | — | no data | issue 25 |", "SATURATE=0: no data, not a pass")

	_, err = ParseTargets(strings.NewReader("Saturation sat:median <= 3 x\n"))
	assert.Error(t, err, "an unknown saturation measure is refused")
}

// ParseSaturation never panics, and the report renders whatever it accepts.
func FuzzParseSaturation(f *testing.F) {
	f.Add(saturationSample)
	f.Add(`{"saturation": [{"impl": "kit"}, {"impl": "bare"}], "fixed": [{"impl": "kit", "routes": [{"route": "POST /", "p50_us": 1}]}]}`)
	f.Add(`{"saturation": [{"impl": "kit", "at": {}}, {"impl": "bare", "rate": 1}]}`)
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseSaturation(strings.NewReader(in))
		if err != nil {
			return
		}
		var b bytes.Buffer
		writeSaturation(&b, s)
		if !strings.Contains(b.String(), "## Saturation") {
			t.Fatal("no section")
		}
	})
}

// A results file with the kit-tmpfs search (loadgen -tmpfs-audit) shows it
// as a third server with its ratio to the bare twin; the target is still
// judged on the kit.
func TestSaturationSectionWithTmpfs(t *testing.T) {
	sample := strings.Replace(saturationSample, `    {"impl": "bare", "rate": 4000,`, `    {"impl": "kit-tmpfs", "rate": 3800,
     "at": {"rate": 3800, "achieved": 3800, "pass": true, "p50_us": 1000, "p95_us": 9000, "p99_us": 17000, "errors": 0, "server_cpu_us_per_req": 120, "generator_cpu": 0.4},
     "steps": [{"rate": 3800, "pass": true, "p95_us": 9000, "server_cpu_us_per_req": 120}]},
    {"impl": "bare", "rate": 4000,`, 1)
	require.NotEqual(t, saturationSample, sample)
	s, err := ParseSaturation(strings.NewReader(sample))
	require.NoError(t, err)
	var b bytes.Buffer
	Write(&b, nil, Meta{Saturation: s})
	out := b.String()
	assert.Contains(t, out, "| kit-tmpfs | 3800 req/s | 1.00 ms | 9.00 ms | 17.00 ms | 120.0 µs | 40% of a core |")
	assert.Contains(t, out, "Kit-tmpfs ÷ bare twin: **0.95×** (no target")
	assert.Contains(t, out, "kit-tmpfs 120.0 µs (1.41× bare)")
	assert.Contains(t, out, "- kit-tmpfs — 3800: 9.00 ms, 120 µs, pass")
	assert.Contains(t, out, "Kit ÷ bare twin, rate sustained: **0.88×** (target ≥ 0.8×: ✅ met).", "the target is the kit's")
}
