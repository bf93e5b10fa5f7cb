// Command benchreport turns `go test -bench` output of the bench module into
// BENCHMARKS.md: for every comparison group (benchmarks that differ only in
// their impl=… name element) the medians per implementation and the ratio
// ours/peer with its spread (the ratio of the quartiles); for groups with an
// impl=bare baseline the overhead of ours over it; and, given a targets file,
// a table of every target with its measured value and whether it is met.
// The report names the machine, the Go version and the command.
//
// A Scaling section states how the cost of sized benchmarks (routes=N,
// keys=N, conc=N name elements) grows; a Saturation section, given the
// loadgen's results file, shows the kit beside its bare twin at saturation.
//
// Usage: benchreport -in results.txt [-in more.txt] -targets targets.txt [-saturation saturation.json] -out BENCHMARKS.md -cmd "…"
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

// ours is the impl=… value of the kit's own implementation. The baselines
// for overhead figures are bare, the handler without any middleware, and
// without, ours less one part (what that part costs).
const (
	ours    = "launchready"
	bare    = "bare"
	without = "without"
)

type inputs []string

func (i *inputs) String() string     { return strings.Join(*i, ",") }
func (i *inputs) Set(s string) error { *i = append(*i, s); return nil }

func main() {
	var in inputs
	flag.Var(&in, "in", "benchmark output file (repeatable; results are concatenated)")
	out := flag.String("out", "BENCHMARKS.md", "report to write")
	targets := flag.String("targets", "", "targets file (see targets.go); empty means no targets table")
	cmd := flag.String("cmd", "", "the command that produced the input, quoted in the report")
	machine := flag.String("machine", "", "machine description")
	goVersion := flag.String("go", "", "Go version")
	saturation := flag.String("saturation", "", "results file of examples/cmd/loadgen -saturate -results (the Saturation section); empty: no such section")
	flag.Parse()
	if len(in) == 0 {
		fmt.Fprintln(os.Stderr, "benchreport: -in is required")
		os.Exit(2)
	}
	if err := run(in, *targets, *saturation, *out, Meta{Command: *cmd, Machine: *machine, Go: *goVersion}); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

func run(in []string, targetsPath, saturationPath, out string, m Meta) error {
	var results []Result
	for _, path := range in {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		rs, err := Parse(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		results = append(results, rs...)
	}
	if targetsPath != "" {
		f, err := os.Open(targetsPath)
		if err != nil {
			return err
		}
		m.Targets, err = ParseTargets(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", targetsPath, err)
		}
	}
	if saturationPath != "" {
		f, err := os.Open(saturationPath)
		if err != nil {
			return err
		}
		m.Saturation, err = ParseSaturation(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", saturationPath, err)
		}
	}
	w, err := os.Create(out)
	if err != nil {
		return err
	}
	Write(w, results, m)
	return w.Close()
}

// Meta describes the run.
type Meta struct {
	Command, Machine, Go string
	// Targets are the goals the report checks; nil means no targets table.
	Targets []Target
	// Saturation is the loadgen's side-by-side saturation run; nil means
	// no Saturation section.
	Saturation *Saturation
}
