package bench

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	chimw "github.com/go-chi/chi/v5/middleware"

	"github.com/launchready/launchready/audit"
	"github.com/launchready/launchready/monitor"
)

// monMux announces the matched route up the writer chain, as authz.Mux does.
type monMux struct{ *http.ServeMux }

func (m monMux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, pattern := m.Handler(r)
	for x := w; x != nil; {
		if s, ok := x.(interface{ SetRoute(string) }); ok {
			s.SetRoute(pattern)
		}
		if s, ok := x.(interface{ SetPrincipal(string, string) }); ok {
			s.SetPrincipal("u-1", "client-a")
		}
		u, ok := x.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			break
		}
		x = u.Unwrap()
	}
	m.ServeMux.ServeHTTP(w, r)
}

func monRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("PATCH /api/tickets/{id}", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	return monMux{mux}
}

func serveLoop(b *testing.B, h http.Handler) {
	b.Helper()
	req := httptest.NewRequest("PATCH", "/api/tickets/t-42", nil)
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
}

// BenchmarkMonitorRecovery: panic recovery on the non-panicking path, ours
// against chi's middleware.Recoverer, and the bare handler. Target (issue
// 10): the overhead over impl=bare is reported; no ratio target.
func BenchmarkMonitorRecovery(b *testing.B) {
	b.Run("impl=launchready", func(b *testing.B) {
		serveLoop(b, monitor.Recover(monitor.SlogReporter{Logger: slog.New(slog.DiscardHandler)}).Handler(monRoutes()))
	})
	b.Run("impl=chi", func(b *testing.B) { serveLoop(b, chimw.Recoverer(monRoutes())) })
	b.Run("impl=bare", func(b *testing.B) { serveLoop(b, monRoutes()) })
}

// BenchmarkMonitorStack: counters alone, then recovery + counters + audit per
// request, each against the bare handler (impl=bare, so the report shows the
// overhead; issue 10 asks for it, no ratio target). The audit sink is in
// memory, then a file without and with fsync per record (the default),
// which dominates.
//
// sink=file-fsync-parallel runs the same stack with 64 concurrent requests
// (SetParallelism, GOMAXPROCS 2): the file sink's group commit (issue 25)
// lets records written while one fsync runs share the next, against
// impl=fsync-per-record, the same file with one fsync per record under the
// sink's lock (what FileSink did before). Both report records/fsync.
func BenchmarkMonitorStack(b *testing.B) {
	quiet := monitor.SlogReporter{Logger: slog.New(slog.DiscardHandler)}
	stack := func(b *testing.B, sink audit.Sink) http.Handler {
		a, err := audit.New(audit.Config{Sink: sink})
		if err != nil {
			b.Fatal(err)
		}
		return monitor.Recover(quiet).Handler(monitor.NewCounters().Handler(a.Handler(monRoutes())))
	}
	openFile := func(b *testing.B, sync audit.SyncPolicy) *audit.FileSink {
		sink, err := audit.OpenFile(filepath.Join(b.TempDir(), "audit.jsonl"), &audit.FileOptions{Sync: sync})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = sink.Close() })
		return sink
	}
	file := func(sync audit.SyncPolicy) func(b *testing.B) http.Handler {
		return func(b *testing.B) http.Handler {
			sink := openFile(b, sync)
			if sync == audit.SyncEach {
				b.Cleanup(func() { reportRecordsPerFsync(b, sink.Stats()) })
			}
			return stack(b, sink)
		}
	}
	for _, c := range []struct {
		name string
		ours func(b *testing.B) http.Handler
	}{
		{"layers=counters", func(*testing.B) http.Handler { return monitor.NewCounters().Handler(monRoutes()) }},
		{"layers=all/sink=memory", func(b *testing.B) http.Handler { return stack(b, &discardSink{}) }},
		{"layers=all/sink=file-nosync", file(audit.SyncNone)},
		{"layers=all/sink=file-fsync", file(audit.SyncEach)},
	} {
		b.Run(c.name+"/impl=launchready", func(b *testing.B) { serveLoop(b, c.ours(b)) })
		b.Run(c.name+"/impl=bare", func(b *testing.B) { serveLoop(b, monRoutes()) })
	}
	const par = "layers=all/sink=file-fsync-parallel"
	b.Run(par+"/impl=launchready", func(b *testing.B) { serveParallel(b, file(audit.SyncEach)(b)) })
	b.Run(par+"/impl=fsync-per-record", func(b *testing.B) {
		sink := &fsyncPerRecord{FileSink: openFile(b, audit.SyncNone)}
		f, err := os.OpenFile(sink.Path(), os.O_WRONLY, 0)
		if err != nil {
			b.Fatal(err)
		}
		sink.f = f
		b.Cleanup(func() {
			_ = f.Close()
			reportRecordsPerFsync(b, audit.FileStats{Synced: sink.syncs, Syncs: sink.syncs})
		})
		serveParallel(b, stack(b, sink))
	})
	b.Run(par+"/impl=bare", func(b *testing.B) { serveParallel(b, monRoutes()) })

	// sink=file-fsync-paced: open-loop arrivals, as at a portal's busiest
	// (a request every 250 µs, 4,000 a second, each in its own goroutine,
	// arriving whether or not the earlier ones are durable yet), so the
	// records rarely overlap an fsync. impl=launchready opens the file with
	// the commit delay the example portal uses (audit.DefaultCommitDelay),
	// impl=no-commit-delay without. ns/op is the pace for both; the figures
	// are records/fsync and cpu-µs/record (the process's CPU time, user +
	// system, over the requests: each fsync costs CPU in the kernel).
	const paced = "layers=all/sink=file-fsync-paced"
	for _, c := range []struct {
		impl  string
		delay time.Duration
	}{{"launchready", audit.DefaultCommitDelay}, {"no-commit-delay", 0}} {
		b.Run(paced+"/impl="+c.impl, func(b *testing.B) {
			sink, err := audit.OpenFile(filepath.Join(b.TempDir(), "audit.jsonl"), &audit.FileOptions{CommitDelay: c.delay})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = sink.Close() })
			servePaced(b, stack(b, sink), 250*time.Microsecond)
			reportRecordsPerFsync(b, sink.Stats())
		})
	}
}

// servePaced sends b.N requests open-loop, one every pace (catching up in
// a burst when a sleep overshoots), each in its own goroutine, and reports
// the process's CPU time per request (cpu-µs/record).
func servePaced(b *testing.B, h http.Handler, pace time.Duration) {
	b.Helper()
	b.ReportAllocs()
	var wg sync.WaitGroup
	cpu0 := processCPU(b)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; {
		for ; i < b.N && time.Since(start) >= time.Duration(i)*pace; i++ {
			wg.Go(func() {
				req := httptest.NewRequest("PATCH", "/api/tickets/t-42", nil)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusNoContent {
					b.Errorf("status %d", rec.Code)
				}
			})
		}
		if i < b.N {
			time.Sleep(time.Until(start.Add(time.Duration(i) * pace)))
		}
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64((processCPU(b)-cpu0).Microseconds())/float64(b.N), "cpu-µs/record")
}

// serveParallel is serveLoop with 64 requests in flight (32 per CPU on
// the 2-core benchmark machine).
func serveParallel(b *testing.B, h http.Handler) {
	b.Helper()
	b.ReportAllocs()
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest("PATCH", "/api/tickets/t-42", nil)
		for pb.Next() {
			h.ServeHTTP(httptest.NewRecorder(), req)
		}
	})
}

// reportRecordsPerFsync adds records/fsync to a benchmark's line: how many
// records one fsync made durable, on average over the run.
func reportRecordsPerFsync(b *testing.B, st audit.FileStats) {
	b.ReportMetric(st.RecordsPerSync(), "records/fsync")
}

// fsyncPerRecord is the file sink without group commit, as FileSink was
// before issue 25: append and fsync one record at a time under one lock
// (the same inode, through a second descriptor).
type fsyncPerRecord struct {
	*audit.FileSink
	mu    sync.Mutex
	f     *os.File
	syncs uint64
}

func (s *fsyncPerRecord) Write(ctx context.Context, rec audit.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.FileSink.Write(ctx, rec); err != nil {
		return err
	}
	s.syncs++
	return s.f.Sync()
}

// discardSink keeps nothing, so the benchmark measures the middleware, not
// a growing slice.
type discardSink struct{ n int }

func (d *discardSink) Write(_ context.Context, _ audit.Record) error {
	d.n++
	return nil
}
