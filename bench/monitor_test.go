package bench

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

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
// against chi's middleware.Recoverer, and the bare handler.
func BenchmarkMonitorRecovery(b *testing.B) {
	b.Run("impl=bare", func(b *testing.B) { serveLoop(b, monRoutes()) })
	b.Run("impl=launchready", func(b *testing.B) {
		serveLoop(b, monitor.Recover(monitor.SlogReporter{Logger: slog.New(slog.DiscardHandler)}).Handler(monRoutes()))
	})
	b.Run("impl=chi", func(b *testing.B) { serveLoop(b, chimw.Recoverer(monRoutes())) })
}

// BenchmarkMonitorStack: recovery + counters + audit per request, against
// the bare handler. The audit sink is in memory, then a file without and
// with fsync per record (the default), which dominates.
func BenchmarkMonitorStack(b *testing.B) {
	quiet := monitor.SlogReporter{Logger: slog.New(slog.DiscardHandler)}
	b.Run("impl=bare", func(b *testing.B) { serveLoop(b, monRoutes()) })
	b.Run("impl=counters", func(b *testing.B) { serveLoop(b, monitor.NewCounters().Handler(monRoutes())) })
	stack := func(b *testing.B, sink audit.Sink) http.Handler {
		a, err := audit.New(audit.Config{Sink: sink})
		if err != nil {
			b.Fatal(err)
		}
		return monitor.Recover(quiet).Handler(monitor.NewCounters().Handler(a.Handler(monRoutes())))
	}
	b.Run("impl=launchready-memsink", func(b *testing.B) {
		sink := &discardSink{}
		serveLoop(b, stack(b, sink))
	})
	for _, pol := range []struct {
		name string
		sync audit.SyncPolicy
	}{{"nosync", audit.SyncNone}, {"fsync", audit.SyncEach}} {
		b.Run("impl=launchready-file-"+pol.name, func(b *testing.B) {
			sink, err := audit.OpenFile(filepath.Join(b.TempDir(), "audit.jsonl"), &audit.FileOptions{Sync: pol.sync})
			if err != nil {
				b.Fatal(err)
			}
			defer sink.Close()
			serveLoop(b, stack(b, sink))
		})
	}
}

// discardSink keeps nothing, so the benchmark measures the middleware, not
// a growing slice.
type discardSink struct{ n int }

func (d *discardSink) Write(_ context.Context, _ audit.Record) error {
	d.n++
	return nil
}
