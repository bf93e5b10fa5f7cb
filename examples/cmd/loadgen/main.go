// Command loadgen drives the example portal's support flows at a fixed
// request rate on loopback and reports latency percentiles. It builds the
// portal in process with every protection on (the same Build as
// examples/portal), serves it on a loopback port over real HTTP, signs in
// once as the support agent, then sends an open-loop mix of client lookup
// (GET /api/clients/client-a), ticket list (GET /api/clients/client-a/tickets)
// and ticket creation (POST /api/clients/client-b/tickets).
//
//	go run ./examples/cmd/loadgen -rate 1000 -duration 10s
//
// Latency is measured from each request's scheduled send time, so a stalled
// server cannot hide its queueing delay (no coordinated omission).
//
// Saturation, side by side (issue 25):
//
//	go run ./examples/cmd/loadgen -saturate -workers 256 -results saturation.json
//
// runs the kit (portalapp.Build, every protection on) and its bare twin
// (portalapp.BuildBare: the same handlers and store on a plain ServeMux,
// no kit middleware), each in its own server process — loadgen re-executes
// itself with -serve kit|bare — pinned to CPU 0 while the generator runs on
// CPU 1 (the first two CPUs of its affinity mask; -pin=false shares the
// CPUs). Every step starts a fresh server,
// warms it up, and sends the mix at one rate; the rate doubles from -start
// until a step misses p95 ≤ -slo or answers an error (measured once more
// before it counts as failed, -retries), then is bisected to within 5%. The two searches alternate step by step, so a drift of a
// shared machine hits both. Each step reads the server process's CPU time
// from /proc/<pid>/stat (CPU µs per request) and the generator's own (if it
// nears one core, the generator is the bottleneck). Then both run at
// -fixed-rate (4,000 req/s) for the POST's p50 and p99, each latency split
// into the generator's wait (until the request was written) and the
// server's part (until the first response byte), with the kit server's
// audit group commit (records per fsync, mean fsync time, commit delay:
// -commit-delay). The summary is markdown on stdout; -results writes JSON
// for bench/cmd/benchreport.
//
// -tmpfs-audit /dev/shm adds a third search, kit-tmpfs: the kit with its
// audit file on tmpfs, where every record is still appended and fsynced
// before its request is answered but no disk stands behind the fsync; kit
// beside kit-tmpfs is what the durable audit trail's fsyncs cost on this
// machine. A directory that is not on tmpfs is refused.
//
// The POSTs add tickets to client-b while the ticket list reads client-a,
// so the measured work does not grow with the run; the memory store does,
// but only for one step (each starts a fresh server) or at most the
// 5-minute bound of a fixed run.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/launchready/launchready/examples/portalapp"
	"github.com/launchready/launchready/readiness"
)

func main() {
	rate := flag.Int("rate", 1000, "requests per second")
	duration := flag.Duration("duration", 10*time.Second, "how long to send")
	workers := flag.Int("workers", 64, "concurrent connections")
	target := flag.String("url", "", "base URL of a running portal (default: build one in process)")
	auditFile := flag.String("audit", "", "audit trail file of the portal (default: a new file in the temp dir; fsynced per record)")
	crm := flag.String("crm", "", "give the in-process portal a stand-in CRM for client enrichment: ok, slow (each answer takes 10 s) or fail (500); default none")
	serveImpl := flag.String("serve", "", "run as the server process of -saturate: kit (the portal, every protection on) or bare (its twin without the kit)")
	cpu := flag.Int("cpu", -1, "with -serve: pin the server process to this CPU (-1: no pinning)")
	commitDelay := flag.Duration("commit-delay", 0, "the kit's audit group-commit delay (audit.FileOptions.CommitDelay): 0 the portal's default (audit.DefaultCommitDelay), negative off")
	cpuProfile := flag.String("cpuprofile", "", "with -serve: write a CPU profile of the serving to this file")
	sat := flag.Bool("saturate", false, "find the highest rate the kit and its bare twin each sustain with p95 within -slo, each in its own server process, then run both at -fixed-rate")
	step := flag.Duration("step", 3*time.Second, "with -saturate: how long each rate step sends")
	warmup := flag.Duration("warmup", 500*time.Millisecond, "with -saturate: load sent before each step, not measured")
	slo := flag.Duration("slo", 50*time.Millisecond, "with -saturate: the p95 latency a sustained rate must keep")
	start := flag.Int("start", 1000, "with -saturate: the first rate tried (doubled until a step fails, then bisected)")
	maxSteps := flag.Int("max-steps", 10, "with -saturate: at most this many steps per server")
	retries := flag.Int("retries", 1, "with -saturate: measure a failed step again this many times (a stall of a shared machine must not end the search)")
	fixedRate := flag.Int("fixed-rate", 4000, "with -saturate: then run each server at this rate for -fixed-duration (0: skip)")
	fixedDur := flag.Duration("fixed-duration", 5*time.Second, "with -saturate: how long the fixed-rate run sends")
	pin := flag.Bool("pin", true, "with -saturate: pin the server process to the first CPU this process may use (CPU 0 on a plain 2-core machine) and the generator to the second (Linux, 2+ CPUs)")
	results := flag.String("results", "", "with -saturate: write the results as JSON here (read by bench/cmd/benchreport -saturation)")
	tmpfsAudit := flag.String("tmpfs-audit", "", "with -saturate: also search a third server, kit-tmpfs: the kit with its audit file in this tmpfs directory (/dev/shm), where every record is still fsynced but an fsync costs nothing; kit-tmpfs beside kit shows what the disk's fsyncs cost")
	flag.Parse()
	var err error
	switch {
	case *serveImpl != "":
		err = serve(*serveImpl, *cpu, *auditFile, *cpuProfile, *commitDelay, os.Stdin, os.Stdout)
	case *sat:
		err = saturate(saturateConfig{Workers: *workers, Step: *step, Warmup: *warmup, SLO: *slo, Start: *start, MaxSteps: *maxSteps, Retries: *retries,
			FixedRate: *fixedRate, Fixed: *fixedDur, Pin: *pin, AuditFile: *auditFile, CommitDelay: *commitDelay, Results: *results, TmpfsAuditDir: *tmpfsAudit},
			"loadgen "+strings.Join(os.Args[1:], " "), os.Stdout)
	default:
		err = run(*rate, *duration, *workers, *target, *auditFile, *crm)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(rate int, duration time.Duration, workers int, base, auditFile, crm string) error {
	if rate <= 0 || duration <= 0 || workers <= 0 {
		return fmt.Errorf("rate, duration and workers must be positive")
	}
	if crm != "" && base != "" {
		return fmt.Errorf("-crm applies to the in-process portal only; drop -url or -crm")
	}
	if duration > 5*time.Minute {
		return fmt.Errorf("duration %v is over the 5 minute bound", duration)
	}
	if base == "" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		if auditFile == "" {
			dir, err := os.MkdirTemp("", "loadgen-audit-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			auditFile = filepath.Join(dir, "audit.jsonl")
		}
		fmt.Printf("audit trail: %s\n", auditFile)
		crmURL, stopCRM, err := standInCRM(crm)
		if err != nil {
			return err
		}
		defer stopCRM()
		p, err := portalapp.Build(portalapp.Options{Env: readiness.Development, Addr: ln.Addr().String(), OutboxDir: os.TempDir(), AuditFile: auditFile, EnrichmentURL: crmURL})
		if err != nil {
			return err
		}
		if err := readiness.Gate(context.Background(), p.Target, nil); err != nil {
			return err
		}
		go func() { _ = p.Server.Serve(ln) }()
		defer p.Server.Close()
		defer printAuditStats(os.Stdout, p)
		base = p.PublicURL
	}
	client := newClient(workers)
	if err := login(client, base); err != nil {
		return err
	}
	s := drive(client, base, rate, duration, workers)
	r := func(d time.Duration) time.Duration { return d.Round(time.Microsecond) }
	fmt.Printf("portal %s: %d requests in %v (%.0f req/s), %d workers\n", base, s.sent, s.elapsed.Round(time.Millisecond), float64(s.sent)/s.elapsed.Seconds(), workers)
	fmt.Printf("mix: 1/3 GET /api/clients/{id}, 1/3 GET /api/clients/{id}/tickets, 1/3 POST /api/clients/{id}/tickets (signed in as support agent)\n")
	fmt.Printf("latency p50 %v  p95 %v  p99 %v  max %v\n", r(quantile(s.all, .50)), r(quantile(s.all, .95)), r(quantile(s.all, .99)), r(s.all[len(s.all)-1]))
	for k, name := range routeNames {
		part := s.byRoute[k]
		if len(part) == 0 {
			continue
		}
		fmt.Printf("  %-32s p50 %v  p95 %v  p99 %v  (generator wait p50 %v p99 %v; server p50 %v p99 %v)\n", name, r(quantile(part, .50)), r(quantile(part, .95)), r(quantile(part, .99)),
			r(quantile(s.wait[k], .50)), r(quantile(s.wait[k], .99)), r(quantile(s.server[k], .50)), r(quantile(s.server[k], .99)))
	}
	fmt.Printf("transport errors %d, non-2xx %v\n", s.errs, s.bad)
	if !s.ok() {
		return fmt.Errorf("%d transport errors, non-2xx answers %v", s.errs, s.bad)
	}
	return nil
}

// printAuditStats reports how the audit trail's group commit shared its
// fsyncs (issue 25: records per fsync), for the in-process and -serve kit
// portals.
func printAuditStats(out io.Writer, p *portalapp.Portal) {
	if p.AuditFile == nil {
		return
	}
	st := p.AuditFile.Stats()
	fmt.Fprintf(out, "audit trail: %d records, %d fsyncs (%.2f records per fsync, at most %d), %v in fsync, %d failed fsyncs\n",
		st.Records, st.Syncs, st.RecordsPerSync(), st.MaxBatch, st.SyncTime.Round(time.Millisecond), st.SyncErrors)
}

// standInCRM starts a loopback CRM for the enrichment of client lookups:
// "ok" answers at once, "slow" holds every request 10 s (the portal's
// dependency deadline must cut it), "fail" answers 500. "" starts none.
func standInCRM(mode string) (url string, stop func(), err error) {
	if mode == "" {
		return "", func() {}, nil
	}
	if mode != "ok" && mode != "slow" && mode != "fail" {
		return "", nil, fmt.Errorf("-crm %q: use ok, slow or fail", mode)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch mode {
		case "slow":
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
		case "fail":
			http.Error(w, "crm unavailable", http.StatusInternalServerError)
		default:
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"health":"green","account_manager":"Dana"}`)
		}
	})}
	go func() { _ = srv.Serve(ln) }()
	fmt.Printf("stand-in CRM (%s): http://%s\n", mode, ln.Addr())
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}
