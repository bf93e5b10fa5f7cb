package main

import (
	"fmt"
	"io"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// scaleParam is a name element that sizes a benchmark: routes=100,
// keys=1000000, conc=8. Benchmarks that differ only in it form a series.
var scaleParam = regexp.MustCompile(`^(routes|keys|conc)=(\d+)$`)

type point struct {
	size float64
	rs   []Result
}

// series is one benchmark measured at several sizes.
type series struct {
	name   string // the group name with the size element as <param>=N
	param  string
	impl   string
	points []point // by size
}

// scalingSeries finds the series among results: per implementation, the
// groups whose names differ only in a routes=, keys= or conc= element, at
// two sizes or more, in order of first appearance.
func scalingSeries(results []Result) []*series {
	byKey := map[string]*series{}
	var order []*series
	for _, r := range results {
		parts := strings.Split(r.Group, "/")
		at := -1
		for i, p := range parts {
			if scaleParam.MatchString(p) {
				at = i
			}
		}
		if at < 0 {
			continue
		}
		m := scaleParam.FindStringSubmatch(parts[at])
		size, _ := strconv.ParseFloat(m[2], 64)
		parts[at] = m[1] + "=N"
		name := strings.Join(parts, "/")
		key := name + "\x00" + r.Impl
		s, ok := byKey[key]
		if !ok {
			s = &series{name: name, param: m[1], impl: r.Impl}
			byKey[key] = s
			order = append(order, s)
		}
		i := sort.Search(len(s.points), func(i int) bool { return s.points[i].size >= size })
		if i == len(s.points) || s.points[i].size != size {
			s.points = append(s.points, point{})
			copy(s.points[i+1:], s.points[i:])
			s.points[i] = point{size: size}
		}
		s.points[i].rs = append(s.points[i].rs, r)
	}
	out := order[:0]
	for _, s := range order {
		if len(s.points) >= 2 {
			out = append(out, s)
		}
	}
	return out
}

// growth classifies how a cost grows from size n1 to n2 (c1 to c2): the
// cost ratio against the size ratio. exp is the exponent k of
// cost ∝ size^k the two points imply.
//
//	constant     cost ratio within 0.8–1.25
//	decreasing   cost ratio under 0.8 (e.g. time per request as cores join)
//	logarithmic  cost ratio at most 1.5× that of the log model (1 + ln n)
//	sublinear    k under 0.85
//	linear       k from 0.85 to 1.15
//	superlinear  k over 1.15
func growth(n1, n2, c1, c2 float64) (label string, costRatio, exp float64) {
	if n1 <= 0 || n2 <= n1 || c1 <= 0 || c2 <= 0 {
		return "n/a", math.NaN(), math.NaN()
	}
	costRatio = c2 / c1
	exp = math.Log(costRatio) / math.Log(n2/n1)
	logModel := (1 + math.Log(n2)) / (1 + math.Log(n1))
	switch {
	case costRatio < 0.8:
		label = "decreasing"
	case costRatio <= 1.25:
		label = "constant"
	case costRatio <= 1.5*logModel:
		label = "logarithmic"
	case exp < 0.85:
		label = "sublinear"
	case exp <= 1.15:
		label = "linear"
	default:
		label = "superlinear"
	}
	return label, costRatio, exp
}

// scalingUnits are the measures a series is judged on: time, and the CPU
// time and heap metrics its benchmark reports.
func scalingUnits(s *series) []string {
	units := []string{"ns/op"}
	seen := map[string]bool{}
	for _, p := range s.points {
		for _, r := range p.rs {
			for u := range r.Metrics {
				l := strings.ToLower(u)
				if !seen[u] && (strings.Contains(l, "heap") || strings.HasPrefix(l, "cpu-")) {
					seen[u] = true
				}
			}
		}
	}
	var extra []string
	for u := range seen {
		extra = append(extra, u)
	}
	sort.Strings(extra)
	return append(units, extra...)
}

func writeScaling(w io.Writer, results []Result) {
	all := scalingSeries(results)
	if len(all) == 0 {
		return
	}
	fmt.Fprintln(w, "## Scaling")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "How cost grows with size (routes, keys) and concurrency: the medians at each size, then the growth judged from the smallest to the largest size — the cost ratio against the size ratio, with the exponent k of cost ∝ sizeᵏ they imply — and the same for each step. Constant: ×0.8–1.25; logarithmic: at most 1.5× the ratio of 1 + ln n; sublinear k < 0.85; linear k 0.85–1.15; superlinear k > 1.15; decreasing: under ×0.8.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| series | measure | figures | growth | per step |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, s := range all {
		name := s.name
		if s.impl != "" {
			name += " (" + s.impl + ")"
		}
		for _, unit := range scalingUnits(s) {
			var figs, steps []string
			meds := make([]float64, len(s.points))
			for i, p := range s.points {
				st := summarize(p.rs, unit)
				meds[i] = st.median
				figs = append(figs, fmt.Sprintf("%s: %s", trim(p.size), fmtValue(st.median, unit)))
				if i > 0 {
					_, r, k := growth(s.points[i-1].size, p.size, meds[i-1], st.median)
					steps = append(steps, fmt.Sprintf("×%s (k %.2f)", fmtRatio(r), k))
				}
			}
			first, last := s.points[0], s.points[len(s.points)-1]
			label, r, k := growth(first.size, last.size, meds[0], meds[len(meds)-1])
			verdict := label
			if label != "n/a" {
				verdict = fmt.Sprintf("**%s**: ×%s for ×%s %s (k %.2f)", label, fmtRatio(r), trim(last.size/first.size), s.param, k)
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", name, unit, strings.Join(figs, " · "), verdict, strings.Join(steps, ", "))
		}
	}
	fmt.Fprintln(w)
}

// fmtRatio shows a ratio with three significant digits, without exponent.
func fmtRatio(r float64) string {
	if r >= 100 {
		return fmt.Sprintf("%.0f", r)
	}
	return fmt.Sprintf("%.3g", r)
}
