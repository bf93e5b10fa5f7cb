package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sample = `goos: linux
goarch: amd64
pkg: github.com/launchready/launchready/bench
cpu: Intel(R) Xeon(R) Processor
BenchmarkCORS/preflight/impl=rscors-2         	 1000000	      1000 ns/op	     500 B/op	       5 allocs/op
BenchmarkCORS/preflight/impl=launchready-2    	 1000000	       900 ns/op	     400 B/op	       4 allocs/op
BenchmarkCORS/preflight/impl=rscors-2         	 1000000	      1100 ns/op	     500 B/op	       5 allocs/op
BenchmarkCORS/preflight/impl=launchready-2    	 1000000	       950 ns/op	     400 B/op	       4 allocs/op
BenchmarkScan/impl=launchready-2 	      10	 100000000 ns/op	  40.00 MB/s
BenchmarkScan/impl=gitleaks-2    	      10	 400000000 ns/op	  10.00 MB/s
BenchmarkReadinessStatic/routes=100-2   10014	     23384 ns/op	   36312 B/op	     126 allocs/op
BenchmarkLog line from a benchmark that is not a result
PASS
`

func TestParseAndReport(t *testing.T) {
	rs, err := Parse(strings.NewReader(sample))
	require.NoError(t, err)
	require.Len(t, rs, 7)
	assert.Equal(t, "BenchmarkCORS/preflight", rs[0].Group)
	assert.Equal(t, "rscors", rs[0].Impl)
	assert.Equal(t, 1000.0, rs[0].Metrics["ns/op"])
	assert.Equal(t, "BenchmarkReadinessStatic/routes=100", rs[6].Group)

	var b bytes.Buffer
	Write(&b, rs, Meta{Command: "bench/run", Go: "go1.26", Machine: "2 cores"})
	out := b.String()
	assert.Contains(t, out, "| BenchmarkCORS/preflight | rscors | 2 | 1.05 µs | 5 | 500 | 0.88× (0.85–0.91) |")
	assert.Contains(t, out, "| BenchmarkScan | gitleaks | 1 | 10.0 MB/s | — | — | 0.25× (0.25–0.25) |")
	assert.Contains(t, out, "| BenchmarkReadinessStatic/routes=100 | 1 | 23.38 µs | 126 | 36312 |")
}

func TestParseRejectsMalformedValue(t *testing.T) {
	_, err := Parse(strings.NewReader("BenchmarkX-2 10 abc ns/op\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `line 1: value "abc" of ns/op is not a number`)
}

func FuzzParse(f *testing.F) {
	f.Add(sample)
	f.Add("BenchmarkX-2 1 2 ns/op 3 B/op\n")
	f.Add("Benchmark 0 0 0\n")
	f.Fuzz(func(t *testing.T, in string) {
		rs, err := Parse(strings.NewReader(in))
		if err != nil {
			return
		}
		var b bytes.Buffer
		Write(&b, rs, Meta{}) // must not panic on anything Parse accepts
	})
}

const chainSample = `BenchmarkChain/GET/impl=launchready-2   100  4000 ns/op  2000 B/op  20 allocs/op
BenchmarkChain/GET/impl=bare-2          100  1000 ns/op   500 B/op   4 allocs/op
BenchmarkChain/GET/impl=launchready-2   100  4200 ns/op  2000 B/op  20 allocs/op
BenchmarkChain/GET/impl=bare-2          100  1100 ns/op   500 B/op   4 allocs/op
BenchmarkRateHeap1MKeys/impl=launchready-2  1  900000000 ns/op  12.5 heapMB
BenchmarkRateHeap1MKeys/impl=ulule-2        1  800000000 ns/op  250.0 heapMB
BenchmarkRateAllow/impl=launchready-2  100  40 ns/op  0 B/op  0 allocs/op
BenchmarkRateAllow/impl=sethvargo-2    100  80 ns/op  0 B/op  0 allocs/op
BenchmarkRateAllow/impl=ulule-2        100  300 ns/op  0 B/op  0 allocs/op
BenchmarkReadinessStatic/routes=1000-2 10 25000000 ns/op 1 B/op 1 allocs/op
BenchmarkChainLayers/GET/layer=session/impl=launchready-2  100  4000 ns/op  2000 B/op  20 allocs/op
BenchmarkChainLayers/GET/layer=session/impl=without-2      100  3000 ns/op  1000 B/op  10 allocs/op
`

const targetsSample = `# comment

BenchmarkChain/GET        overhead-ns      <= 5000  issue 12
BenchmarkChain/GET        overhead-allocs  <= 25    issue 12
BenchmarkRateAllow        ratio:fastest    <= 0.8   issue 5
BenchmarkRateAllow        allocs           <= 0     issue 5
BenchmarkRateAllow        ns@ulule         <= 100
BenchmarkRateHeap1MKeys   ratio:ulule      <= 0.5
BenchmarkRateHeap1MKeys   metric:heapMB    <= 20
BenchmarkScan             speedup:gitleaks >= 2     issue 8
BenchmarkReadinessStatic/routes=1000 ns    <= 20000000 issue 2
BenchmarkMissing          ns               <= 1
`

func TestTargetsAndOverhead(t *testing.T) {
	rs, err := Parse(strings.NewReader(sample + chainSample))
	require.NoError(t, err)
	ts, err := ParseTargets(strings.NewReader(targetsSample))
	require.NoError(t, err)
	require.Len(t, ts, 10)
	assert.Equal(t, Target{Group: "BenchmarkChain/GET", Measure: "overhead-ns", AtMost: true, Limit: 5000, Source: "issue 12", Line: 3}, ts[0])
	assert.False(t, ts[7].AtMost)

	var b bytes.Buffer
	Write(&b, rs, Meta{Targets: ts})
	out := b.String()
	for _, want := range []string{
		"| BenchmarkChain/GET | overhead-ns | ≤ 5000 | 3.05 µs | ✅ met | issue 12 |",
		"| BenchmarkChain/GET | overhead-allocs | ≤ 25 | 16 | ✅ met | issue 12 |",
		"| BenchmarkRateAllow | ratio:fastest | ≤ 0.8 | 0.50× (0.50–0.50) vs sethvargo | ✅ met | issue 5 |",
		"| BenchmarkRateAllow | allocs | ≤ 0 | 0 | ✅ met | issue 5 |",
		"| BenchmarkRateAllow | ns@ulule | ≤ 100 | 300.0 ns | ❌ not met |  |",
		"| BenchmarkRateHeap1MKeys | ratio:ulule | ≤ 0.5 | 0.05× (0.05–0.05) vs ulule | ✅ met |  |",
		"| BenchmarkRateHeap1MKeys | metric:heapMB | ≤ 20 | 12.5 heapMB | ✅ met |  |",
		"| BenchmarkScan | speedup:gitleaks | ≥ 2 | 4.00× (4.00–4.00) vs gitleaks | ✅ met | issue 8 |",
		"| BenchmarkReadinessStatic/routes=1000 | ns | ≤ 20000000 | 25.00 ms | ❌ not met | issue 2 |",
		"| BenchmarkMissing | ns | ≤ 1 | — | no data |  |",
		"| BenchmarkChain/GET | 4.10 µs | 1.05 µs (bare) | 3.05 µs | 16 | 1500 |",
		"| BenchmarkChainLayers/GET/layer=session | 4.00 µs | 3.00 µs (without) | 1.00 µs | 10 | 1000 |",
		"| BenchmarkRateHeap1MKeys | ulule | 1 | 250 heapMB | — | — | 0.05× (0.05–0.05) |",
		"| BenchmarkChain/GET | bare | 2 | 1.05 µs | 4 | 500 | 3.90× (3.77–4.05) |",
	} {
		assert.Contains(t, out, want)
	}
	assert.Less(t, strings.Index(out, "## Targets"), strings.Index(out, "## Comparisons"))
}

func TestParseTargetsRejects(t *testing.T) {
	for _, c := range []struct{ in, err string }{
		{"BenchmarkX ns <=\n", "line 1: want: group measure <=|>= limit"},
		{"BenchmarkX speed <= 1\n", `line 1: unknown measure "speed"`},
		{"BenchmarkX ratio: <= 1\n", `line 1: unknown measure "ratio:"`},
		{"\nBenchmarkX ns < 1\n", `line 2: comparison "<" is neither <= nor >=`},
		{"BenchmarkX ns <= NaN\n", `line 1: limit "NaN" is not a finite number`},
		{"BenchmarkX ratio:x@y <= 1\n", `line 1: measure "ratio:x@y": @<impl> goes only with`},
		{"BenchmarkX ns@ <= 1\n", `line 1: measure "ns@": @<impl> goes only with`},
	} {
		_, err := ParseTargets(strings.NewReader(c.in))
		if assert.Error(t, err, c.in) {
			assert.Contains(t, err.Error(), c.err)
		}
	}
}

func FuzzParseTargets(f *testing.F) {
	f.Add(targetsSample)
	f.Add("BenchmarkX ratio:fastest >= 1e308 x\n")
	f.Fuzz(func(t *testing.T, in string) {
		ts, err := ParseTargets(strings.NewReader(in))
		if err != nil {
			return
		}
		rs, _ := Parse(strings.NewReader(sample + chainSample))
		var b bytes.Buffer
		Write(&b, rs, Meta{Targets: ts}) // must not panic on any accepted targets file
	})
}
