package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Saturation is the results file of examples/cmd/loadgen -saturate
// -results (the kit and its bare twin side by side, each in its own server
// process). Latencies in µs; CPU per request in µs of server CPU time.
type Saturation struct {
	Command    string           `json:"command"`
	Pinning    string           `json:"pinning"`
	SLOP95Ms   float64          `json:"slo_p95_ms"`
	StepS      float64          `json:"step_seconds"`
	Workers    int              `json:"workers"`
	Mix        string           `json:"mix"`
	Date       string           `json:"date"`
	Saturation []SaturationImpl `json:"saturation"`
	Fixed      []FixedRun       `json:"fixed"`
}

type SaturationImpl struct {
	Impl  string          `json:"impl"`
	Rate  int             `json:"rate"`
	At    *SaturationRun  `json:"at"`
	Steps []SaturationRun `json:"steps"`
}

type SaturationRun struct {
	Rate         int     `json:"rate"`
	Achieved     float64 `json:"achieved"`
	Pass         bool    `json:"pass"`
	P50Us        float64 `json:"p50_us"`
	P95Us        float64 `json:"p95_us"`
	P99Us        float64 `json:"p99_us"`
	Errors       int     `json:"errors"`
	ServerCPUUs  float64 `json:"server_cpu_us_per_req"`
	GeneratorCPU float64 `json:"generator_cpu"`
	Attempt      int     `json:"attempt"` // 2+: the step failed and was measured again
	// The generator's garbage collections during the step and their
	// pauses in total (µs).
	GeneratorGCs       int     `json:"generator_gcs"`
	GeneratorGCPauseUs float64 `json:"generator_gc_pause_us"`
}

type FixedRun struct {
	Impl   string        `json:"impl"`
	Rate   int           `json:"rate"`
	All    SaturationRun `json:"all"`
	Routes []struct {
		Route string  `json:"route"`
		P50Us float64 `json:"p50_us"`
		P95Us float64 `json:"p95_us"`
		P99Us float64 `json:"p99_us"`
		// The latency's two parts: the generator's wait until the request
		// was written, and the server's time until the first response byte.
		WaitP50Us   float64 `json:"wait_p50_us"`
		WaitP99Us   float64 `json:"wait_p99_us"`
		ServerP50Us float64 `json:"server_p50_us"`
		ServerP99Us float64 `json:"server_p99_us"`
	} `json:"routes"`
	// Audit is the kit server's audit file over the run (nil for bare).
	Audit *struct {
		Records       uint64  `json:"records"`
		Syncs         uint64  `json:"fsyncs"`
		PerSync       float64 `json:"records_per_fsync"`
		MaxBatch      int     `json:"max_batch"`
		SyncMeanUs    float64 `json:"fsync_mean_us"`
		CommitDelayUs float64 `json:"commit_delay_us"`
	} `json:"audit"`
}

// Targets of issue 25 judged in the saturation section.
const (
	saturationRatioTarget = 0.8 // kit ≥ 0.8× the bare twin's sustained rate
	postTailTarget        = 3.0 // the kit's POST p99 ≤ 3× its p50 at the fixed rate
	// generatorBound is the share of its core from which the generator may
	// be what limits the rate.
	generatorBound = 0.8
)

// ParseSaturation reads a results file; one without both servers' results
// is an error.
func ParseSaturation(r io.Reader) (*Saturation, error) {
	var s Saturation
	dec := json.NewDecoder(r)
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("saturation results: %w", err)
	}
	if s.impl("kit") == nil || s.impl("bare") == nil {
		return nil, fmt.Errorf("saturation results: want the kit's and the bare twin's, got %d servers", len(s.Saturation))
	}
	return &s, nil
}

func (s *Saturation) impl(name string) *SaturationImpl {
	for i := range s.Saturation {
		if s.Saturation[i].Impl == name {
			return &s.Saturation[i]
		}
	}
	return nil
}

func metMark(ok bool) string {
	if ok {
		return "✅ met"
	}
	return "❌ not met"
}

func ms(us float64) string { return fmt.Sprintf("%.2f ms", us/1e3) }

func writeSaturation(w io.Writer, s *Saturation) {
	fmt.Fprintln(w, "## Saturation: the kit beside its bare twin")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "The example portal with every protection on (kit) and its bare twin (`portalapp.BuildBare`: the same handlers and store on a plain ServeMux, none of the kit's middleware), each in its own server process, driven over loopback by `examples/cmd/loadgen` with an open-loop mix (%s, signed in as the support agent). For each, the highest rate sustained with p95 ≤ %g ms and no error: the rate doubles until a step fails, then is bisected to within 5%%; the searches alternate step by step, each step on a fresh server for %gs after a warm-up. Server CPU per request is the server process's user+system time (/proc/<pid>/stat) over the requests of the step.\n\n",
		s.Mix, s.SLOP95Ms, s.StepS)
	fmt.Fprintf(w, "- Command: `%s` (%s)\n- Pinning: %s; %d connections\n\n", s.Command, s.Date, s.Pinning, s.Workers)
	fmt.Fprintf(w, "| server | rate sustained | p50 | p95 | p99 | server CPU per request | generator CPU |\n|---|---:|---:|---:|---:|---:|---:|\n")
	for _, im := range s.Saturation {
		if im.At == nil {
			fmt.Fprintf(w, "| %s | none of the rates tried | — | — | — | — | — |\n", im.Impl)
			continue
		}
		fmt.Fprintf(w, "| %s | %d req/s | %s | %s | %s | %.1f µs | %.0f%% of a core |\n", im.Impl, im.Rate,
			ms(im.At.P50Us), ms(im.At.P95Us), ms(im.At.P99Us), im.At.ServerCPUUs, 100*im.At.GeneratorCPU)
	}
	fmt.Fprintln(w)
	for _, im := range s.Saturation {
		if im.At != nil && im.At.GeneratorCPU >= generatorBound {
			fmt.Fprintf(w, "⚠ The generator used %.0f%% of its core at %s's rate: that rate may be the generator's limit, not the server's.\n\n", 100*im.At.GeneratorCPU, im.Impl)
		}
	}
	kit, bare := s.impl("kit"), s.impl("bare")
	if bare.Rate > 0 {
		ratio := float64(kit.Rate) / float64(bare.Rate)
		fmt.Fprintf(w, "Kit ÷ bare twin, rate sustained: **%.2f×** (target ≥ %g×: %s).", ratio, saturationRatioTarget, metMark(ratio >= saturationRatioTarget))
		if kit.At != nil && bare.At != nil && bare.At.ServerCPUUs > 0 {
			fmt.Fprintf(w, " Server CPU per request at those rates: kit %.1f µs, bare %.1f µs (%.2f×).", kit.At.ServerCPUUs, bare.At.ServerCPUUs, kit.At.ServerCPUUs/bare.At.ServerCPUUs)
		}
		fmt.Fprintln(w)
		fmt.Fprintln(w)
		if tmp := s.impl("kit-tmpfs"); tmp != nil && tmp.Rate > 0 {
			fmt.Fprintf(w, "kit-tmpfs is the kit with its audit file on tmpfs: every record is still appended and fsynced before its request is answered, but an fsync reaches no disk. Kit-tmpfs ÷ bare twin: **%.2f×** (no target; it shows what the kit costs without the disk's fsyncs).", float64(tmp.Rate)/float64(bare.Rate))
			if tmp.At != nil && bare.At != nil && bare.At.ServerCPUUs > 0 {
				fmt.Fprintf(w, " Server CPU per request: kit-tmpfs %.1f µs (%.2f× bare).", tmp.At.ServerCPUUs, tmp.At.ServerCPUUs/bare.At.ServerCPUUs)
			}
			fmt.Fprintln(w)
			fmt.Fprintln(w)
		}
	}
	fmt.Fprintln(w, "Steps (rate: p95, server CPU per request, pass/fail; a failed step is measured again on a fresh server before it counts):")
	fmt.Fprintln(w)
	for _, im := range s.Saturation {
		var steps []string
		for _, st := range im.Steps {
			verdict := "pass"
			if !st.Pass {
				verdict = "fail"
				if st.Errors > 0 {
					verdict = fmt.Sprintf("fail, %d errors", st.Errors)
				}
			}
			if st.Attempt > 1 {
				verdict += fmt.Sprintf(" (attempt %d)", st.Attempt)
			}
			steps = append(steps, fmt.Sprintf("%d: %s, %.0f µs, %s", st.Rate, ms(st.P95Us), st.ServerCPUUs, verdict))
		}
		fmt.Fprintf(w, "- %s — %s\n", im.Impl, strings.Join(steps, "; "))
	}
	fmt.Fprintln(w)
	if len(s.Fixed) == 0 {
		return
	}
	fmt.Fprintf(w, "At a fixed %d req/s (same mix, fresh server, %d connections). Each latency is also split in two, each part its own distribution: the generator's wait (from the scheduled send time until the request was written: a free worker and connection, the generator's own scheduling) and the server's part (from then until the response's first byte, loopback included):\n\n", s.Fixed[0].Rate, s.Workers)
	fmt.Fprintln(w, "| server | route | p50 | p95 | p99 | p99 ÷ p50 | generator wait p50 / p99 | server p50 / p99 |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|")
	for _, f := range s.Fixed {
		for _, r := range f.Routes {
			tail := "—"
			if r.P50Us > 0 {
				tail = fmt.Sprintf("%.1f", r.P99Us/r.P50Us)
			}
			wait, server := "—", "—"
			if r.ServerP50Us > 0 {
				wait = ms(r.WaitP50Us) + " / " + ms(r.WaitP99Us)
				server = ms(r.ServerP50Us) + " / " + ms(r.ServerP99Us)
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", f.Impl, r.Route, ms(r.P50Us), ms(r.P95Us), ms(r.P99Us), tail, wait, server)
		}
		if f.All.Errors > 0 {
			fmt.Fprintf(w, "| %s | (%d errors) | | | | | | |\n", f.Impl, f.All.Errors)
		}
	}
	fmt.Fprintln(w)
	for _, f := range s.Fixed {
		fmt.Fprintf(w, "- %s: server CPU %.1f µs per request; the generator ran %d garbage collections (%.2f ms of pauses)", f.Impl, f.All.ServerCPUUs, f.All.GeneratorGCs, f.All.GeneratorGCPauseUs/1e3)
		if a := f.Audit; a != nil {
			delay := "off"
			if a.CommitDelayUs > 0 {
				delay = fmt.Sprintf("%.0f µs", a.CommitDelayUs)
			}
			fmt.Fprintf(w, "; audit file %d records, %.2f per fsync (at most %d), %.0f µs per fsync on average, commit delay %s", a.Records, a.PerSync, a.MaxBatch, a.SyncMeanUs, delay)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
	if v, shown, ok := evaluateSaturation(s, satPostTail); ok {
		fmt.Fprintf(w, "Kit POST p99 ÷ p50: **%s** (target ≤ %g: %s).\n\n", shown, postTailTarget, metMark(v <= postTailTarget))
	}
}
