package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// Target is one goal from the package issues, checked against a run.
//
// A targets file has one target a line: the benchmark group (the name
// without impl=… and without -GOMAXPROCS), the measure, the comparison
// (<= or >=), the limit, and the rest of the line says where the target
// comes from. Blank lines and lines starting with # are skipped.
//
//	BenchmarkCORSPreflight        ratio:rs-cors     <= 1.1   issue 6
//	BenchmarkRateAllow            ratio:fastest     <= 0.8   issue 5
//	BenchmarkAuthzRoleDecision    ns                <= 150   issue 3
//	BenchmarkChain/GET            overhead-allocs   <= 25    issue 12
//
// Measures, all of ours (impl=launchready, or the only implementation of a
// kit-only benchmark):
//
//	ratio:<impl>      ours ÷ impl as in the comparisons table (time or heap ours/peer, MB/s peer/ours)
//	ratio:fastest     the same against the peer with the best median
//	speedup:<impl>    the inverse of ratio (how many times better we are), also speedup:fastest
//	ns, allocs, bytes median ns/op, allocs/op, B/op
//	overhead-ns, overhead-allocs, overhead-bytes   ours − impl=bare (or impl=without)
//	metric:<unit>     the median of a custom metric (e.g. heapMB)
//
// The group Saturation is the loadgen's saturation run (-saturation), with
// two measures: sat:rate-ratio, the kit's sustained rate ÷ the bare twin's,
// and sat:post-tail, the kit's POST p99 ÷ p50 at the fixed rate.
//
// ns, allocs, bytes and metric:<unit> take an optional @<impl> to measure
// another implementation of ours instead (allocs@launchready-login-preset).
type Target struct {
	Group   string
	Measure string
	AtMost  bool // "<=", else ">="
	Limit   float64
	Source  string
	Line    int
}

// ParseTargets reads a targets file. A malformed line is an error naming it.
func ParseTargets(r io.Reader) ([]Target, error) {
	out := []Target{}
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 4 {
			return nil, fmt.Errorf("line %d: want: group measure <=|>= limit [source], got %q", n, line)
		}
		t := Target{Group: f[0], Measure: f[1], Source: strings.Join(f[4:], " "), Line: n}
		if err := checkMeasure(t.Measure); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		switch f[2] {
		case "<=":
			t.AtMost = true
		case ">=":
		default:
			return nil, fmt.Errorf("line %d: comparison %q is neither <= nor >=", n, f[2])
		}
		v, err := strconv.ParseFloat(f[3], 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("line %d: limit %q is not a finite number", n, f[3])
		}
		t.Limit = v
		out = append(out, t)
	}
	return out, sc.Err()
}

func checkMeasure(m string) error {
	if base, impl, ok := strings.Cut(m, "@"); ok {
		if impl == "" || strings.HasPrefix(base, "ratio:") || strings.HasPrefix(base, "speedup:") || strings.HasPrefix(base, "overhead-") {
			return fmt.Errorf("measure %q: @<impl> goes only with ns, allocs, bytes and metric:<unit>", m)
		}
		m = base
	}
	switch m {
	case "ns", "allocs", "bytes", "overhead-ns", "overhead-allocs", "overhead-bytes", satRateRatio, satPostTail:
		return nil
	}
	for _, p := range []string{"ratio:", "speedup:", "metric:"} {
		if v, ok := strings.CutPrefix(m, p); ok && v != "" {
			return nil
		}
	}
	return fmt.Errorf("unknown measure %q (ratio:<impl>, speedup:<impl>, ns, allocs, bytes, overhead-ns, overhead-allocs, overhead-bytes, metric:<unit>, %s, %s)", m, satRateRatio, satPostTail)
}

// The measures of the Saturation group.
const (
	saturationGroup = "Saturation"
	satRateRatio    = "sat:rate-ratio"
	satPostTail     = "sat:post-tail"
)

// evaluateSaturation measures a target of the Saturation group; false when
// the run has no saturation results.
func evaluateSaturation(s *Saturation, measure string) (float64, string, bool) {
	if s == nil {
		return 0, "", false
	}
	switch measure {
	case satRateRatio:
		kit, bare := s.impl("kit"), s.impl("bare")
		if kit == nil || bare == nil || bare.Rate == 0 {
			return 0, "", false
		}
		r := float64(kit.Rate) / float64(bare.Rate)
		return r, fmt.Sprintf("%.2f× (%d vs %d req/s)", r, kit.Rate, bare.Rate), true
	case satPostTail:
		for _, f := range s.Fixed {
			if f.Impl != "kit" {
				continue
			}
			for _, r := range f.Routes {
				if strings.HasPrefix(r.Route, "POST ") && r.P50Us > 0 {
					v := r.P99Us / r.P50Us
					shown := fmt.Sprintf("%.1f (p99 %s, p50 %s at %d req/s)", v, ms(r.P99Us), ms(r.P50Us), f.Rate)
					if f.All.Errors > 0 || f.All.P95Us > s.SLOP95Ms*1e3 {
						// Overloaded, both quantiles are queueing delay:
						// their ratio says nothing of the tail.
						return math.Inf(1), shown + fmt.Sprintf(", but the kit did not sustain the rate (p95 %s, %d errors)", ms(f.All.P95Us), f.All.Errors), true
					}
					return v, shown, true
				}
			}
		}
	}
	return 0, "", false
}

// evaluate measures t on the groups: the value, how to show it, and false
// when the run has no data for it.
func evaluate(groups map[string]*group, t Target) (v float64, shown string, ok bool) {
	g := groups[t.Group]
	if g == nil {
		return 0, "", false
	}
	self := ours
	if g.byImpl[ours] == nil && len(g.impls) == 1 {
		self = g.impls[0]
	}
	measure := t.Measure
	if base, impl, ok := strings.Cut(measure, "@"); ok {
		measure, self = base, impl
	}
	mine := g.byImpl[self]
	if mine == nil {
		return 0, "", false
	}
	if peer, ok := strings.CutPrefix(measure, "ratio:"); ok {
		return ratioOf(g, peer, false)
	}
	if peer, ok := strings.CutPrefix(measure, "speedup:"); ok {
		return ratioOf(g, peer, true)
	}
	if unit, ok := strings.CutPrefix(measure, "metric:"); ok {
		s := summarize(mine, unit)
		if s.n == 0 {
			return 0, "", false
		}
		return s.median, fmtValue(s.median, unit), true
	}
	s := summarize(mine, "ns/op")
	switch measure {
	case "ns":
		return s.median, fmtValue(s.median, "ns/op"), s.n > 0
	case "allocs":
		return s.allocs, trim(s.allocs), s.hasAllocs
	case "bytes":
		return s.bytes, trim(s.bytes) + " B", s.hasAllocs
	}
	if g.baseline() == "" || self != ours {
		return 0, "", false
	}
	b := summarize(g.byImpl[g.baseline()], "ns/op")
	switch measure {
	case "overhead-ns":
		d := s.median - b.median
		return d, fmtValue(d, "ns/op"), s.n > 0 && b.n > 0
	case "overhead-allocs":
		d := s.allocs - b.allocs
		return d, trim(d), s.hasAllocs && b.hasAllocs
	case "overhead-bytes":
		d := s.bytes - b.bytes
		return d, trim(d) + " B", s.hasAllocs && b.hasAllocs
	}
	return 0, "", false
}

func ratioOf(g *group, peer string, inverse bool) (float64, string, bool) {
	if peer == "fastest" {
		peer = g.fastestPeer()
	}
	r, lo, hi, ok := g.ratio(peer)
	if !ok || peer == ours {
		return 0, "", false
	}
	if inverse {
		r, lo, hi = 1/r, 1/hi, 1/lo
	}
	return r, fmt.Sprintf("%.2f× (%.2f–%.2f) vs %s", r, lo, hi, peer), true
}

func writeTargets(w io.Writer, groups []*group, targets []Target, sat *Saturation) {
	byName := map[string]*group{}
	for _, g := range groups {
		byName[g.name] = g
	}
	fmt.Fprintln(w, "## Targets")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Each target from the package issues, judged on the medians of this run.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| benchmark | measure | target | measured | met | source |")
	fmt.Fprintln(w, "|---|---|---:|---:|---|---|")
	for _, t := range targets {
		op := "≥"
		if t.AtMost {
			op = "≤"
		}
		var v float64
		var shown string
		var ok bool
		if t.Group == saturationGroup {
			v, shown, ok = evaluateSaturation(sat, t.Measure)
		} else {
			v, shown, ok = evaluate(byName, t)
		}
		met := "no data"
		if ok {
			met = "❌ not met"
			if (t.AtMost && v <= t.Limit) || (!t.AtMost && v >= t.Limit) {
				met = "✅ met"
			}
		} else {
			shown = "—"
		}
		fmt.Fprintf(w, "| %s | %s | %s %s | %s | %s | %s |\n", t.Group, t.Measure, op, trim(t.Limit), shown, met, t.Source)
	}
	fmt.Fprintln(w)
}
