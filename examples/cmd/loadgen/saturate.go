package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

// saturateConfig configures -saturate.
type saturateConfig struct {
	Workers   int
	Step      time.Duration // how long each rate step sends
	Warmup    time.Duration // sent before each step, not measured
	SLO       time.Duration // the p95 a sustained rate must keep
	Start     int           // the first rate tried
	MaxSteps  int           // per implementation
	Retries   int           // how often a failed step is measured again
	FixedRate int           // the fixed-rate run (POST p99 against p50); 0 skips it
	Fixed     time.Duration // its duration
	Pin       bool          // server on the first allowed CPU, generator on the second
	AuditFile string
	// CommitDelay is the kit server's audit group-commit delay (-commit-delay).
	CommitDelay time.Duration
	Results     string // JSON results for benchreport; "" writes none
	// TmpfsAuditDir, when set, adds the kit-tmpfs search: the kit with its
	// audit file in this directory, which must be on tmpfs.
	TmpfsAuditDir string
}

// The results file (-results), read by bench/cmd/benchreport -saturation.
// Latencies in µs, CPU per request in µs of server CPU (user+system).
type saturationReport struct {
	Command    string        `json:"command"`
	Pinning    string        `json:"pinning"`
	SLOP95Ms   float64       `json:"slo_p95_ms"`
	StepS      float64       `json:"step_seconds"`
	Workers    int           `json:"workers"`
	Saturation []implReport  `json:"saturation"`
	Fixed      []fixedReport `json:"fixed,omitempty"`
	Mix        string        `json:"mix"`
	Date       string        `json:"date"`
}

type implReport struct {
	Impl string `json:"impl"`
	// Rate is the highest rate sustained (p95 within the SLO, no error);
	// 0 when even the lowest rate tried failed.
	Rate  int          `json:"rate"`
	At    *stepReport  `json:"at,omitempty"`
	Steps []stepReport `json:"steps"`
}

type stepReport struct {
	Rate     int     `json:"rate"`
	Achieved float64 `json:"achieved"` // requests completed per second of the step
	Pass     bool    `json:"pass"`
	P50Us    float64 `json:"p50_us"`
	P95Us    float64 `json:"p95_us"`
	P99Us    float64 `json:"p99_us"`
	Errors   int     `json:"errors"` // transport errors and non-2xx answers
	// ServerCPUUs is the server process's CPU time per request, µs.
	ServerCPUUs float64 `json:"server_cpu_us_per_req"`
	// GeneratorCPU is the generator's CPU time over the step's wall time
	// (1 = one core busy: the generator may be the bottleneck).
	GeneratorCPU float64 `json:"generator_cpu"`
	// Attempt is 1, or 2 when the step failed once and was measured
	// again (-retries); a step's result is its last attempt.
	Attempt int `json:"attempt,omitempty"`
	// GeneratorGCs is how many garbage collections the generator ran
	// during the step, GeneratorGCPauseUs their stop-the-world pauses in
	// total (µs): a pause delays every response the generator reads.
	GeneratorGCs       int     `json:"generator_gcs"`
	GeneratorGCPauseUs float64 `json:"generator_gc_pause_us"`
}

type fixedReport struct {
	Impl   string       `json:"impl"`
	Rate   int          `json:"rate"`
	All    stepReport   `json:"all"`
	Routes []routeStats `json:"routes"`
	// Audit is the kit server's audit file over the run (warm-up
	// included): records per fsync, mean fsync time, the commit delay.
	Audit *auditReport `json:"audit,omitempty"`
}

type routeStats struct {
	Route string  `json:"route"`
	P50Us float64 `json:"p50_us"`
	P95Us float64 `json:"p95_us"`
	P99Us float64 `json:"p99_us"`
	// The latency split in two (each its own distribution, so the parts'
	// quantiles need not add up): Wait, from the scheduled send time until
	// the request was written (the generator's queueing); Server, from then
	// until the response's first byte (server time plus loopback).
	WaitP50Us   float64 `json:"wait_p50_us"`
	WaitP99Us   float64 `json:"wait_p99_us"`
	ServerP50Us float64 `json:"server_p50_us"`
	ServerP99Us float64 `json:"server_p99_us"`
}

func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }

// measure starts a fresh server of impl (so no step inherits another's
// backlog or grown ticket store), signs in, warms up, and sends one step.
// It stops the server and returns what the kit's reported of its audit
// file (nil for the bare twin).
func measure(impl string, rate int, c saturateConfig, serverCPU int) (stepReport, *stats, *auditReport, error) {
	serverImpl, auditFile := impl, c.AuditFile
	if impl == implKitTmpfs {
		// A fresh file per step, as the kit's own server makes one.
		dir, err := os.MkdirTemp(c.TmpfsAuditDir, "loadgen-audit-")
		if err != nil {
			return stepReport{}, nil, nil, fmt.Errorf("-tmpfs-audit: %w", err)
		}
		defer os.RemoveAll(dir)
		serverImpl, auditFile = implKit, filepath.Join(dir, "audit.jsonl")
	}
	srv, err := startServer(serverImpl, serverCPU, auditFile, c.CommitDelay)
	if err != nil {
		return stepReport{}, nil, nil, err
	}
	r, st, err := measureOn(srv, impl, rate, c)
	if serr := srv.stop(); err == nil && serr != nil {
		err = fmt.Errorf("%s server: %w", impl, serr)
	}
	return r, st, srv.audit, err
}

func measureOn(srv *child, impl string, rate int, c saturateConfig) (stepReport, *stats, error) {
	client := newClient(c.Workers)
	defer client.CloseIdleConnections()
	if err := login(client, srv.url); err != nil {
		return stepReport{}, nil, fmt.Errorf("%s: %w", impl, err)
	}
	if c.Warmup > 0 {
		drive(client, srv.url, rate, c.Warmup, c.Workers)
	}
	s0, err := srv.cpu()
	if err != nil {
		return stepReport{}, nil, err
	}
	g0, _ := cpuTime(0)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	st := drive(client, srv.url, rate, c.Step, c.Workers)
	runtime.ReadMemStats(&m1)
	s1, err := srv.cpu()
	if err != nil {
		return stepReport{}, nil, err
	}
	g1, _ := cpuTime(0)
	r := stepReport{Rate: rate, Achieved: float64(st.sent) / st.elapsed.Seconds(),
		P50Us: us(quantile(st.all, .50)), P95Us: us(quantile(st.all, .95)), P99Us: us(quantile(st.all, .99)),
		Errors:       st.errs + sum(st.bad),
		ServerCPUUs:  us(s1-s0) / float64(st.sent),
		GeneratorCPU: float64(g1-g0) / float64(st.elapsed),
		GeneratorGCs: int(m1.NumGC - m0.NumGC), GeneratorGCPauseUs: float64(m1.PauseTotalNs-m0.PauseTotalNs) / 1e3}
	r.Pass = r.Errors == 0 && quantile(st.all, .95) <= c.SLO
	return r, st, nil
}

func sum(m map[int]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// search finds the highest rate that passes: doubling from start until a
// step fails, then bisecting between the highest pass and the lowest fail
// until they are within 5% (or 50 req/s).
type search struct {
	impl     string
	lo, hi   int // highest pass, lowest fail (0: none yet)
	next     int
	steps    []stepReport
	maxSteps int
}

func (s *search) done() bool {
	if len(s.steps) >= s.maxSteps || s.next <= 0 {
		return true
	}
	return s.lo > 0 && s.hi > 0 && s.hi-s.lo <= max(s.lo/20, 50)
}

func (s *search) record(r stepReport) {
	s.steps = append(s.steps, r)
	if r.Pass {
		s.lo = r.Rate
	} else {
		s.hi = r.Rate
	}
	switch {
	case s.hi == 0:
		s.next = 2 * s.lo
	case s.lo == 0:
		s.next = s.hi / 2
		if s.next < 50 {
			s.next = 0 // even 50 req/s fails: stop
		}
	default:
		s.next = (s.lo + s.hi) / 2 / 50 * 50
		if s.next <= s.lo {
			s.next = s.lo + 50
		}
	}
}

func (s *search) report() implReport {
	r := implReport{Impl: s.impl, Rate: s.lo, Steps: s.steps}
	for i := range s.steps {
		if s.steps[i].Pass && s.steps[i].Rate == s.lo {
			r.At = &s.steps[i]
		}
	}
	return r
}

// saturate runs the kit and its bare twin side by side, each in its own
// server process: the saturation searches interleaved step by step, then
// the fixed-rate run of each. It writes a markdown summary to out and the
// results file.
func saturate(c saturateConfig, command string, out io.Writer) error {
	if c.Workers <= 0 || c.Step <= 0 || c.SLO <= 0 || c.Start <= 0 || c.MaxSteps <= 0 || c.Warmup < 0 || c.FixedRate < 0 || c.Retries < 0 {
		return fmt.Errorf("-saturate needs positive -workers, -step, -slo, -start and -max-steps, and -retries of 0 or more")
	}
	if c.TmpfsAuditDir != "" {
		if err := checkTmpfs(c.TmpfsAuditDir); err != nil {
			return fmt.Errorf("-tmpfs-audit: %w", err)
		}
	}
	rep := saturationReport{Command: command, SLOP95Ms: float64(c.SLO) / 1e6, StepS: c.Step.Seconds(), Workers: c.Workers,
		Mix:  "1/3 GET /api/clients/{id}, 1/3 GET /api/clients/{id}/tickets, 1/3 POST /api/clients/{id}/tickets",
		Date: time.Now().UTC().Format("2006-01-02 15:04 UTC")}
	serverCPU := -1
	rep.Pinning = "none: server and generator share every CPU"
	if c.Pin {
		// The server gets the first CPU this process may use, the
		// generator the second.
		cpus, err := allowedCPUs()
		switch {
		case err != nil:
			rep.Pinning = "none: " + err.Error()
		case len(cpus) < 2:
			rep.Pinning = "none: one CPU only"
		default:
			if err := pinTo(cpus[1]); err != nil {
				rep.Pinning = "none: " + err.Error()
			} else {
				serverCPU = cpus[0]
				rep.Pinning = fmt.Sprintf("server process on CPU %d, generator on CPU %d (sched_setaffinity), GOMAXPROCS=1 each", cpus[0], cpus[1])
			}
		}
	}
	fmt.Fprintf(out, "pinning: %s\n", rep.Pinning)
	searches := []*search{{impl: implKit, next: c.Start, maxSteps: c.MaxSteps}, {impl: implBare, next: c.Start, maxSteps: c.MaxSteps}}
	if c.TmpfsAuditDir != "" {
		searches = append(searches, &search{impl: implKitTmpfs, next: c.Start, maxSteps: c.MaxSteps})
	}
	for {
		busy := false
		for _, s := range searches {
			if s.done() {
				continue
			}
			busy = true
			var r stepReport
			// A failed step is measured once more on a fresh server: one
			// stall of a shared machine must not end the search early.
			for attempt := 0; attempt <= c.Retries; attempt++ {
				var err error
				if r, _, _, err = measure(s.impl, s.next, c, serverCPU); err != nil {
					return err
				}
				r.Attempt = attempt + 1
				fmt.Fprintf(out, "  %-9s %6d req/s: p95 %8.1f ms, %d errors, server %.0f µs CPU/req, generator %.0f%% of a core -> %s\n",
					s.impl, r.Rate, r.P95Us/1e3, r.Errors, r.ServerCPUUs, 100*r.GeneratorCPU, map[bool]string{true: "pass", false: "fail"}[r.Pass])
				if r.Pass {
					break
				}
			}
			s.record(r)
		}
		if !busy {
			break
		}
	}
	for _, s := range searches {
		rep.Saturation = append(rep.Saturation, s.report())
	}
	if c.FixedRate > 0 {
		for _, impl := range []string{implKit, implBare} {
			fc := c
			fc.Step = c.Fixed
			r, st, a, err := measure(impl, c.FixedRate, fc, serverCPU)
			if err != nil {
				return err
			}
			f := fixedReport{Impl: impl, Rate: c.FixedRate, All: r, Audit: a}
			for k, name := range routeNames {
				f.Routes = append(f.Routes, routeStats{Route: name, P50Us: us(quantile(st.byRoute[k], .5)), P95Us: us(quantile(st.byRoute[k], .95)), P99Us: us(quantile(st.byRoute[k], .99)),
					WaitP50Us: us(quantile(st.wait[k], .5)), WaitP99Us: us(quantile(st.wait[k], .99)),
					ServerP50Us: us(quantile(st.server[k], .5)), ServerP99Us: us(quantile(st.server[k], .99))})
			}
			rep.Fixed = append(rep.Fixed, f)
		}
	}
	writeMarkdown(out, &rep)
	if c.Results != "" {
		b, err := json.MarshalIndent(&rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(c.Results, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// writeMarkdown is the summary: the sustained rate of each, the ratio, and
// the fixed-rate run's POST latencies.
func writeMarkdown(w io.Writer, rep *saturationReport) {
	fmt.Fprintf(w, "\n| server | rate sustained (p95 ≤ %g ms) | p50 | p95 | p99 | server CPU per request |\n|---|---:|---:|---:|---:|---:|\n", rep.SLOP95Ms)
	rates := map[string]int{}
	for _, s := range rep.Saturation {
		rates[s.Impl] = s.Rate
		if s.At == nil {
			fmt.Fprintf(w, "| %s | none of the rates tried | | | | |\n", s.Impl)
			continue
		}
		fmt.Fprintf(w, "| %s | %d req/s | %.2f ms | %.2f ms | %.2f ms | %.1f µs |\n", s.Impl, s.Rate, s.At.P50Us/1e3, s.At.P95Us/1e3, s.At.P99Us/1e3, s.At.ServerCPUUs)
	}
	if rates[implBare] > 0 {
		fmt.Fprintf(w, "\nkit ÷ bare: %.2f× (target ≥ 0.8×)\n", float64(rates[implKit])/float64(rates[implBare]))
		if r, ok := rates[implKitTmpfs]; ok {
			fmt.Fprintf(w, "kit-tmpfs (audit file on tmpfs: fsync costs nothing) ÷ bare: %.2f×\n", float64(r)/float64(rates[implBare]))
		}
	}
	for _, f := range rep.Fixed {
		post := f.Routes[postRoute]
		fmt.Fprintf(w, "%s at %d req/s: POST p50 %.2f ms, p99 %.2f ms (p99 ÷ p50 %.1f, target ≤ 3); all p95 %.2f ms, %d errors; server CPU %.1f µs/req\n",
			f.Impl, f.Rate, post.P50Us/1e3, post.P99Us/1e3, post.P99Us/post.P50Us, f.All.P95Us/1e3, f.All.Errors, f.All.ServerCPUUs)
		fmt.Fprintf(w, "  POST split: generator wait p50 %.2f ms p99 %.2f ms; server p50 %.2f ms p99 %.2f ms; generator %d GCs, %.2f ms paused\n",
			post.WaitP50Us/1e3, post.WaitP99Us/1e3, post.ServerP50Us/1e3, post.ServerP99Us/1e3, f.All.GeneratorGCs, f.All.GeneratorGCPauseUs/1e3)
		if a := f.Audit; a != nil {
			fmt.Fprintf(w, "  audit file: %d records, %.2f per fsync (at most %d), fsync %.0f µs on average, commit delay %.0f µs\n",
				a.Records, a.PerSync, a.MaxBatch, a.SyncMeanUs, a.CommitDelayUs)
		}
	}
}
