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
