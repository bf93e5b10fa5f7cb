package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Result is one line of `go test -bench` output.
type Result struct {
	// Name is the benchmark name without the -GOMAXPROCS suffix and without
	// its impl=… element: the comparison group.
	Group string
	// Impl is the value of the impl=… name element, or "" when absent.
	Impl    string
	Iters   int64
	Metrics map[string]float64 // unit → value: "ns/op", "B/op", "allocs/op", "MB/s", custom
}

// Parse reads benchmark output and returns every result line. Lines that are
// not results (goos:, PASS, logs) are skipped; a result line with a
// malformed value is an error naming the line.
func Parse(r io.Reader) ([]Result, error) {
	var out []Result
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if !strings.HasPrefix(line, "Benchmark") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 || len(f)%2 != 0 {
			continue // a benchmark's own log line, not a result
		}
		iters, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		res := Result{Iters: iters, Metrics: map[string]float64{}}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("line %d: value %q of %s is not a number", n, f[i], f[i+1])
			}
			res.Metrics[f[i+1]] = v
		}
		res.Group, res.Impl = splitName(f[0])
		out = append(out, res)
	}
	return out, sc.Err()
}

// splitName drops the -N GOMAXPROCS suffix and pulls out the impl=… element.
func splitName(name string) (group, impl string) {
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			name = name[:i]
		}
	}
	parts := strings.Split(name, "/")
	kept := parts[:0]
	for _, p := range parts {
		if v, ok := strings.CutPrefix(p, "impl="); ok {
			impl = v
			continue
		}
		kept = append(kept, p)
	}
	return strings.Join(kept, "/"), impl
}
