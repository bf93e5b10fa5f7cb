package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGrowth(t *testing.T) {
	for _, c := range []struct {
		n1, n2, c1, c2 float64
		want           string
	}{
		{100, 10000, 1000, 1100, "constant"},
		{1, 64, 4500, 4400, "constant"},
		{1, 64, 4500, 2300, "decreasing"},
		{10, 1000, 100, 240, "logarithmic"},   // the log model gives ×2.4
		{1000, 1e6, 148, 2037, "sublinear"},   // ×13.8 for ×1000: k 0.38
		{100, 10000, 1.5e6, 1.45e8, "linear"}, // ×97 for ×100
		{1000, 1e6, 0.09, 92, "linear"},       // heap: ×1000 for ×1000
		{100, 200, 10, 40, "superlinear"},     // ×4 for ×2: k 2
		{100, 10000, 0, 10, "n/a"},            // no cost to compare
		{1000, 100, 10, 10, "n/a"},            // sizes out of order
	} {
		got, _, _ := growth(c.n1, c.n2, c.c1, c.c2)
		assert.Equal(t, c.want, got, "%v→%v sizes, %v→%v cost", c.n1, c.n2, c.c1, c.c2)
	}
	_, r, k := growth(100, 10000, 1, 100)
	assert.InDelta(t, 100, r, 1e-9)
	assert.InDelta(t, 1, k, 1e-9)
}

const scalingSample = `BenchmarkReadinessStatic/routes=100-2     158   1500000 ns/op   586639 B/op   3612 allocs/op
BenchmarkReadinessStatic/routes=1000-2     16  15000000 ns/op  4769939 B/op  35157 allocs/op
BenchmarkReadinessStatic/routes=10000-2     1 150000000 ns/op 64737960 B/op 350290 allocs/op
BenchmarkRateScaling/keys=1000-2      1402588   148.0 ns/op   0.09 heapMB   17 B/op   0 allocs/op
BenchmarkRateScaling/keys=1000000-2    116961    2037 ns/op  92.00 heapMB    0 B/op   0 allocs/op
BenchmarkChainConcurrency/conc=1-2   56952  4543 ns/op  4595 cpu-ns/op  0 refused/op  1320 B/op  12 allocs/op
BenchmarkChainConcurrency/conc=8-2   54511  2300 ns/op  4357 cpu-ns/op  0 refused/op  1321 B/op  12 allocs/op
BenchmarkChainConcurrency/conc=64-2  45447  2400 ns/op  4429 cpu-ns/op  0 refused/op  1330 B/op  12 allocs/op
BenchmarkAuthzScaling/routes=10/impl=launchready-2   1000000  50 ns/op  0 B/op  0 allocs/op
BenchmarkAuthzScaling/routes=1000/impl=launchready-2 1000000  55 ns/op  0 B/op  0 allocs/op
BenchmarkReadinessProbe/routes=100-2   10  900000 ns/op
BenchmarkCORSPreflight/impl=launchready-2  100  900 ns/op
`

func TestScalingSection(t *testing.T) {
	rs, err := Parse(strings.NewReader(scalingSample))
	require.NoError(t, err)
	series := scalingSeries(rs)
	require.Len(t, series, 4, "ReadinessProbe has one size and CORS none: no series")
	assert.Equal(t, "BenchmarkReadinessStatic/routes=N", series[0].name)
	require.Len(t, series[0].points, 3)
	assert.Equal(t, []float64{100, 1000, 10000}, []float64{series[0].points[0].size, series[0].points[1].size, series[0].points[2].size})
	assert.Equal(t, "launchready", series[3].impl)

	var b bytes.Buffer
	Write(&b, rs, Meta{})
	out := b.String()
	assert.Contains(t, out, "## Scaling")
	assert.Contains(t, out, "| BenchmarkReadinessStatic/routes=N | ns/op | 100: 1.50 ms · 1000: 15.00 ms · 10000: 150.00 ms | **linear**: ×100 for ×100 routes (k 1.00) | ×10 (k 1.00), ×10 (k 1.00) |")
	assert.Contains(t, out, "| BenchmarkRateScaling/keys=N | ns/op | 1000: 148.0 ns · 1000000: 2.04 µs | **sublinear**: ×13.8 for ×1000 keys (k 0.38) |")
	assert.Contains(t, out, "| BenchmarkRateScaling/keys=N | heapMB | 1000: 0.09 heapMB · 1000000: 92 heapMB | **linear**: ×1022 for ×1000 keys (k 1.00) |")
	assert.Contains(t, out, "| BenchmarkChainConcurrency/conc=N | cpu-ns/op | 1: 4595 cpu-ns/op · 8: 4357 cpu-ns/op · 64: 4429 cpu-ns/op | **constant**")
	assert.Contains(t, out, "| BenchmarkChainConcurrency/conc=N | ns/op | 1: 4.54 µs · 8: 2.30 µs · 64: 2.40 µs | **decreasing**")
	assert.Contains(t, out, "| BenchmarkAuthzScaling/routes=N (launchready) | ns/op | 10: 50.0 ns · 1000: 55.0 ns | **constant**")
	assert.NotContains(t, out, "| refused/op |", "only time, CPU and heap are judged")
	assert.NotContains(t, out, "BenchmarkReadinessProbe/routes=N")

	b.Reset()
	Write(&b, rs[len(rs)-1:], Meta{})
	assert.NotContains(t, b.String(), "## Scaling", "no series, no section")
}
