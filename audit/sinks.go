package audit

import (
	"context"
	"log/slog"
	"sync"
)

// LogSink writes records to an slog.Logger at Info level. An app log is
// rotated, sampled and readable by many: readiness reports a LogSink as the
// only sink (AUDIT002). Use it next to a durable sink, not instead of one.
type LogSink struct {
	Logger *slog.Logger
}

// Write logs rec.
func (s LogSink) Write(ctx context.Context, rec Record) error {
	l := s.Logger
	if l == nil {
		l = slog.Default()
	}
	attrs := []slog.Attr{
		slog.Time("time", rec.Time), slog.String("kind", rec.Kind), slog.String("action", rec.Action),
		slog.String("principal", rec.PrincipalID), slog.String("tenant", rec.Tenant),
		slog.String("method", rec.Method), slog.String("route", rec.Route),
		slog.Any("objects", rec.Objects), slog.Int("status", rec.Status),
		slog.String("outcome", rec.Outcome), slog.String("request_id", rec.RequestID),
		slog.String("client_ip", rec.ClientIP),
	}
	l.LogAttrs(ctx, slog.LevelInfo, "audit", attrs...)
	return nil
}

// MemorySink keeps records in memory, for tests.
type MemorySink struct {
	mu   sync.Mutex
	recs []Record
}

// Write appends rec.
func (s *MemorySink) Write(_ context.Context, rec Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recs = append(s.recs, rec)
	return nil
}

// Records returns a copy of the records written so far.
func (s *MemorySink) Records() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Record(nil), s.recs...)
}

// Tee writes every record to each of its sinks, all of them even when one
// fails, and returns the first error. Readiness looks inside it for AUDIT002.
type Tee []Sink

// Write writes rec to every sink.
func (t Tee) Write(ctx context.Context, rec Record) error {
	var first error
	for _, s := range t {
		if err := s.Write(ctx, rec); err != nil && first == nil {
			first = err
		}
	}
	return first
}

var (
	_ Sink = LogSink{}
	_ Sink = (*MemorySink)(nil)
	_ Sink = Tee(nil)
)
