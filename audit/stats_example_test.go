package audit_test

import (
	"context"
	"expvar"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/launchready/launchready/audit"
)

// FileSink.Stats counts records and fsyncs. Publish it where the app's
// metrics are read, through a func so no package imports another: here
// expvar (served at /debug/vars); a Prometheus GaugeFunc or the portal's
// /metrics handler reads it the same way.
func ExampleFileSink_Stats() {
	dir, _ := os.MkdirTemp("", "audit-example-")
	defer os.RemoveAll(dir)
	sink, err := audit.OpenFile(filepath.Join(dir, "audit.jsonl"), nil)
	if err != nil {
		panic(err)
	}
	expvar.Publish("audit_records_per_fsync", expvar.Func(func() any { return sink.Stats().RecordsPerSync() }))

	for _, action := range []string{"login", "export", "logout"} {
		// One at a time, each record gets its own fsync; concurrent
		// requests' records share one (group commit).
		_ = sink.Write(context.Background(), audit.Record{Time: time.Now(), Kind: "event", Action: action})
	}
	_ = sink.Close()
	st := sink.Stats()
	fmt.Println("records", st.Records, "fsyncs", st.Syncs, "failed", st.SyncErrors)
	fmt.Println("records/fsync", expvar.Get("audit_records_per_fsync"))
	// Output:
	// records 3 fsyncs 3 failed 0
	// records/fsync 1
}
