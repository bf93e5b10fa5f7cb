package postgres_test

import (
	"context"
	"testing"

	"github.com/launchready/launchready/audit"
	"github.com/launchready/launchready/audit/postgres"
)

// BenchmarkWrite measures one record's cost, durable (synchronous_commit
// on) before Write returns: serial (one transaction per record) and from
// concurrent requests (group commit). Compare with the file sink's fsync
// per record (audit's BenchmarkFileSink in bench/).
//
//	go test -run '^$' -bench Write -benchtime 2000x ./audit/postgres/
func BenchmarkWrite(b *testing.B) {
	d := startDB(b)
	s := d.sink(b, appRole)
	ctx := context.Background()
	rec := record(1)
	b.Run("serial", func(b *testing.B) {
		for b.Loop() {
			if err := s.Write(ctx, rec); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel-64", func(b *testing.B) {
		b.SetParallelism(32) // 64 writers on 2 cores
		before := s.Stats()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := s.Write(ctx, rec); err != nil {
					b.Error(err)
					return
				}
			}
		})
		after := s.Stats()
		if n := after.Batches - before.Batches; n > 0 {
			b.ReportMetric(float64(after.Records-before.Records)/float64(n), "records/txn")
		}
	})
	_, err := postgres.Verify(ctx, d.owner, audit.Link{})
	if err != nil {
		b.Fatal(err)
	}
}
