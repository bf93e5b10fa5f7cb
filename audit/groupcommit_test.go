package audit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/audit"
)

// gatedFile is a fault-injecting audit file: every Sync announces itself
// on syncs and waits for the test's answer (nil: fsync the real file; an
// error: fail without fsyncing). It remembers where each record's line ends
// and how many bytes the successful fsyncs covered, so a writer can check
// that its record was durable when its Write returned.
type gatedFile struct {
	audit.File
	syncs chan syncCall

	mu      sync.Mutex
	written int64            // bytes written so far
	durable int64            // bytes a returned, successful Sync covered
	ends    map[string]int64 // record action → end offset of its line
}

// syncCall is one Sync waiting for its answer; covers is how many bytes had
// been written when it started.
type syncCall struct {
	covers int64
	answer chan error
}

func gate(t *testing.T, s *audit.FileSink) *gatedFile {
	t.Helper()
	var g *gatedFile
	audit.WrapFile(s, func(f audit.File) audit.File {
		g = &gatedFile{File: f, syncs: make(chan syncCall), ends: map[string]int64{}}
		return g
	})
	return g
}

func (g *gatedFile) Write(p []byte) (int, error) {
	n, err := g.File.Write(p)
	var rec audit.Record
	_ = json.Unmarshal(p, &rec)
	g.mu.Lock()
	g.written += int64(n)
	g.ends[rec.Action] = g.written
	g.mu.Unlock()
	return n, err
}

func (g *gatedFile) Sync() error {
	g.mu.Lock()
	c := syncCall{covers: g.written, answer: make(chan error)}
	g.mu.Unlock()
	g.syncs <- c
	err := <-c.answer
	if err == nil {
		err = g.File.Sync()
	}
	if err == nil {
		g.mu.Lock()
		g.durable = max(g.durable, c.covers)
		g.mu.Unlock()
	}
	return err
}

// isDurable reports whether the line of the record named action was
// covered by an fsync that has returned successfully.
func (g *gatedFile) isDurable(action string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	end, ok := g.ends[action]
	return ok && end <= g.durable
}

// write starts a Write of a record named action; its result arrives on the
// returned channel, with a failure noted when the sink acknowledged the
// record before an fsync covering it returned.
func write(t *testing.T, s *audit.FileSink, g *gatedFile, action string) <-chan error {
	done := make(chan error, 1)
	writeTo(t, s, g, action, done)
	return done
}

// writeTo is write with the result sent to done.
func writeTo(t *testing.T, s *audit.FileSink, g *gatedFile, action string, done chan<- error) {
	go func() {
		err := s.Write(context.Background(), audit.Record{Time: time.Now(), Kind: "event", Action: action, Outcome: audit.OutcomeSuccess})
		if err == nil {
			assert.True(t, g.isDurable(action), "%s acknowledged before an fsync covering it returned", action)
		}
		done <- err
	}()
}

func returned(c <-chan error) bool { return len(c) > 0 }

func openGated(t *testing.T) (*audit.FileSink, *gatedFile, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	s, err := audit.OpenFile(path, nil)
	require.NoError(t, err)
	require.Equal(t, audit.SyncEach, s.Sync())
	return s, gate(t, s), path
}

// (a) No Write returns before the fsync covering its line has returned
// successfully, and records written during an fsync wait for the next one.
func TestGroupCommitAcknowledgesOnlyAfterFsync(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, g, path := openGated(t)
		a := write(t, s, g, "a")
		first := <-g.syncs // a leads the first fsync, which now blocks
		synctest.Wait()
		assert.False(t, returned(a), "a returned while its fsync is blocked")

		b, c, d := write(t, s, g, "b"), write(t, s, g, "c"), write(t, s, g, "d")
		synctest.Wait()
		for _, w := range []<-chan error{a, b, c, d} {
			assert.False(t, returned(w), "a writer returned while the fsync is blocked")
		}
		assert.Less(t, first.covers, g.written, "b, c and d were appended after the first fsync started")

		first.answer <- nil
		second := <-g.syncs // one of b, c, d leads the next fsync
		synctest.Wait()
		require.True(t, returned(a))
		assert.NoError(t, <-a)
		for _, w := range []<-chan error{b, c, d} {
			assert.False(t, returned(w), "the first fsync started before this record was written: it does not cover it")
		}
		assert.Equal(t, g.written, second.covers, "the second fsync covers b, c and d")

		second.answer <- nil
		for _, w := range []<-chan error{b, c, d} {
			assert.NoError(t, <-w)
		}
		st := s.Stats()
		assert.Equal(t, audit.FileStats{Records: 4, Synced: 4, Syncs: 2, MaxBatch: 3, SyncTime: st.SyncTime}, st)
		assert.InDelta(t, 2.0, st.RecordsPerSync(), 1e-9)
		require.NoError(t, s.Close())
		rep, err := audit.VerifyFile(path, audit.Link{})
		require.NoError(t, err)
		assert.Equal(t, 4, rep.Checked)
	})
}

// (b) A failing fsync fails every record of its batch, none is
// acknowledged, and each of their requests is answered 503, not 2xx.
func TestGroupCommitFsyncErrorFailsWholeBatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, g, _ := openGated(t)
		a, err := audit.New(audit.Config{Sink: s})
		require.NoError(t, err)
		h := a.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusCreated) }))
		post := func() <-chan *httptest.ResponseRecorder {
			out := make(chan *httptest.ResponseRecorder, 1)
			go func() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("POST", "/api/clients/c-1/tickets", nil))
				out <- rec
			}()
			return out
		}
		first := post()
		sync1 := <-g.syncs
		synctest.Wait()
		batch := []<-chan *httptest.ResponseRecorder{post(), post(), post()}
		synctest.Wait()
		sync1.answer <- nil
		assert.Equal(t, http.StatusCreated, (<-first).Code)

		sync2 := <-g.syncs
		sync2.answer <- syscall.EIO
		for _, r := range batch {
			rec := <-r
			assert.Equal(t, http.StatusServiceUnavailable, rec.Code, "a change whose fsync failed is not answered 2xx")
			assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
		}
		assert.EqualValues(t, 3, a.Failures())
		assert.False(t, a.Healthy())
		st := s.Stats()
		assert.EqualValues(t, 4, st.Records)
		assert.EqualValues(t, 1, st.Synced)
		assert.EqualValues(t, 1, st.Syncs)
		assert.EqualValues(t, 1, st.SyncErrors)

		// The sink's error names the file and the fsync; the next record
		// chains after the failed ones (their lines are in the file) and
		// is acknowledged once its own fsync succeeds.
		w := write(t, s, g, "after")
		(<-g.syncs).answer <- nil
		require.NoError(t, <-w)
		w = write(t, s, g, "failed")
		(<-g.syncs).answer <- syscall.EIO
		err = <-w
		require.Error(t, err)
		assert.ErrorIs(t, err, syscall.EIO)
		assert.Contains(t, err.Error(), "fsync")
		w = write(t, s, g, "again")
		(<-g.syncs).answer <- nil
		require.NoError(t, <-w)
		require.NoError(t, s.Close())
		recs, err := s.ReadAll()
		require.NoError(t, err)
		_, err = audit.Verify(recs)
		assert.NoError(t, err)
	})
}

// (c) N concurrent writers share fsyncs, and the file holds every record
// in chain order.
func TestGroupCommitConcurrentWritersShareFsyncs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 64
		s, g, path := openGated(t)
		results := make(chan error, n)
		for i := range n {
			writeTo(t, s, g, fmt.Sprint("w-", i), results)
		}
		synctest.Wait() // every writer has appended its line and waits
		syncs := 0
		for done := 0; done < n; {
			select {
			case c := <-g.syncs:
				syncs++
				c.answer <- nil
			case err := <-results:
				require.NoError(t, err)
				done++
			}
		}
		assert.Less(t, syncs, n)
		st := s.Stats()
		assert.EqualValues(t, syncs, st.Syncs)
		assert.EqualValues(t, n, st.Synced)
		assert.Greater(t, st.RecordsPerSync(), 1.0)
		require.NoError(t, s.Close())

		rep, err := audit.VerifyFile(path, audit.Link{})
		require.NoError(t, err, "the records are in the file in chain order")
		assert.Equal(t, n, rep.Checked)
		recs, err := s.ReadAll()
		require.NoError(t, err)
		seen := map[string]bool{}
		for _, r := range recs {
			seen[r.Action] = true
		}
		assert.Len(t, seen, n, "every writer's record is in the file")
	})
}

// Close while records wait for their fsync: it refuses new records at
// once, waits for the pending ones to be durable, then closes.
func TestGroupCommitCloseWaitsForPendingRecords(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, g, path := openGated(t)
		a := write(t, s, g, "a")
		sync1 := <-g.syncs
		b, c := write(t, s, g, "b"), write(t, s, g, "c")
		synctest.Wait()
		closed := make(chan error, 1)
		go func() { closed <- s.Close() }()
		synctest.Wait()
		assert.False(t, returned(closed), "Close returned while records wait for their fsync")
		late := write(t, s, g, "late")
		synctest.Wait()
		require.True(t, returned(late))
		assert.ErrorIs(t, <-late, audit.ErrClosed)

		sync1.answer <- nil
		(<-g.syncs).answer <- nil
		for _, w := range []<-chan error{a, b, c} {
			assert.NoError(t, <-w)
		}
		assert.NoError(t, <-closed)
		assert.ErrorIs(t, s.Write(context.Background(), audit.Record{Kind: "event"}), audit.ErrClosed)
		rep, err := audit.VerifyFile(path, audit.Link{})
		require.NoError(t, err)
		assert.Equal(t, 3, rep.Checked)
	})
}

// Close while one record's fsync runs and nothing else waits: Close
// returns after it, adding no fsync of its own.
func TestGroupCommitCloseWaitsForRunningFsync(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, g, _ := openGated(t)
		a := write(t, s, g, "a")
		sync1 := <-g.syncs
		closed := make(chan error, 1)
		go func() { closed <- s.Close() }()
		synctest.Wait()
		assert.False(t, returned(closed), "Close returned while a record waits for its fsync")
		assert.False(t, returned(a))
		sync1.answer <- nil
		assert.NoError(t, <-a)
		assert.NoError(t, <-closed)
		st := s.Stats()
		assert.EqualValues(t, 1, st.Syncs)
		assert.EqualValues(t, 1, st.Synced)
	})
}

// The real file and real fsyncs under the race detector: many writers,
// every record durable, chained and counted.
func TestGroupCommitRealFile(t *testing.T) {
	st := writeRealFile(t, nil)
	assert.LessOrEqual(t, st.Syncs, st.Records)
	assert.Zero(t, st.SyncErrors)
}

// writeRealFile has 16 writers write 25 records each to a real audit file
// opened with opts, checks that every record is counted, durable and
// chained, and returns the sink's stats.
func writeRealFile(t *testing.T, opts *audit.FileOptions) audit.FileStats {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	s, err := audit.OpenFile(path, opts)
	require.NoError(t, err)
	const workers, per = 16, 25
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range per {
				assert.NoError(t, s.Write(context.Background(), audit.Record{Time: time.Now(), Kind: "event", Action: fmt.Sprint(w, "-", i)}))
			}
		})
	}
	wg.Wait()
	st := s.Stats()
	assert.EqualValues(t, workers*per, st.Records)
	assert.EqualValues(t, workers*per, st.Synced)
	require.NoError(t, s.Close())
	rep, err := audit.VerifyFile(path, audit.Link{})
	require.NoError(t, err)
	assert.Equal(t, workers*per, rep.Checked)
	return st
}

// openDelayed is openGated with a commit delay.
func openDelayed(t *testing.T, opts audit.FileOptions) (*audit.FileSink, *gatedFile) {
	t.Helper()
	s, err := audit.OpenFile(filepath.Join(t.TempDir(), "audit.jsonl"), &opts)
	require.NoError(t, err)
	return s, gate(t, s)
}

// A lone writer does not wait for the commit delay: with nothing else
// arriving its fsync starts at once, however long the delay.
func TestCommitDelayLoneWriterDoesNotWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, g := openDelayed(t, audit.FileOptions{CommitDelay: audit.MaxCommitDelay})
		for _, action := range []string{"a", "b", "c"} {
			start := time.Now()
			w := write(t, s, g, action)
			c := <-g.syncs
			assert.Zero(t, time.Since(start), "%s's fsync started after a wait though no other record was arriving", action)
			c.answer <- nil
			require.NoError(t, <-w)
			time.Sleep(2 * audit.MaxCommitDelay) // the next writer is alone again
		}
		assert.EqualValues(t, 3, s.Stats().Syncs)
		require.NoError(t, s.Close())
	})
}

// Records arriving together share one fsync: the leader waits out the
// delay, counted from its own append, and everything appended meanwhile
// joins its batch; nobody is acknowledged before that fsync returns, and
// the wait ends on time however many keep arriving.
func TestCommitDelaySiblingsShareOneFsync(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const delay = time.Millisecond
		s, g := openDelayed(t, audit.FileOptions{CommitDelay: delay})
		a := write(t, s, g, "a") // alone: fsynced at once
		(<-g.syncs).answer <- nil
		require.NoError(t, <-a)

		time.Sleep(delay / 5)
		start := time.Now()
		batch := []<-chan error{write(t, s, g, "b")} // a was appended within the delay: b's leader waits
		var sync2 syncCall
		for i := 0; ; i++ {
			select {
			case sync2 = <-g.syncs:
			case <-time.After(delay / 3): // 3 more writers before the delay is over
				batch = append(batch, write(t, s, g, fmt.Sprint("w-", i)))
				continue
			}
			break
		}
		assert.Equal(t, delay, time.Since(start), "the fsync starts when the delay from the batch's first record is over, not before, not later")
		assert.Len(t, batch, 4, "the records appended during the delay")
		assert.Equal(t, g.written, sync2.covers, "the fsync covers every record appended during the delay")
		synctest.Wait()
		for _, w := range batch {
			assert.False(t, returned(w), "a record was acknowledged before its fsync returned")
		}
		sync2.answer <- nil
		for _, w := range batch {
			assert.NoError(t, <-w)
		}
		st := s.Stats()
		assert.EqualValues(t, 2, st.Syncs)
		assert.EqualValues(t, 5, st.Synced)
		assert.Equal(t, 4, st.MaxBatch)
		require.NoError(t, s.Close())
	})
}

// A batch whose records already waited a whole delay behind a slow fsync
// does not wait again, though records are still arriving: the delay counts
// from the batch's first record, so its leader fsyncs as soon as it is
// handed the batch.
func TestCommitDelayBoundedBehindSlowFsync(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const delay = time.Millisecond
		s, g := openDelayed(t, audit.FileOptions{CommitDelay: delay})
		a := write(t, s, g, "a")
		sync1 := <-g.syncs // alone: at once
		b := write(t, s, g, "b")
		time.Sleep(5 * delay / 2) // the first fsync is slow
		c := write(t, s, g, "c")
		time.Sleep(delay / 2)
		d := write(t, s, g, "d") // c and d arrive together
		synctest.Wait()
		released := time.Now()
		sync1.answer <- nil
		require.NoError(t, <-a)
		sync2 := <-g.syncs
		assert.Equal(t, released, time.Now(), "b waited longer than the delay behind the first fsync: no further wait")
		assert.Equal(t, g.written, sync2.covers)
		synctest.Wait()
		for _, w := range []<-chan error{b, c, d} {
			assert.False(t, returned(w), "acknowledged before its fsync returned")
		}
		sync2.answer <- nil
		for _, w := range []<-chan error{b, c, d} {
			assert.NoError(t, <-w)
		}
		require.NoError(t, s.Close())
	})
}

// With CommitSiblings records must arrive that densely before anyone
// waits: one other record within the delay is not enough for 2.
func TestCommitDelaySiblingsThreshold(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const delay = time.Millisecond
		s, g := openDelayed(t, audit.FileOptions{CommitDelay: delay, CommitSiblings: 2})
		step := func(action string) time.Duration {
			start := time.Now()
			w := write(t, s, g, action)
			c := <-g.syncs
			took := time.Since(start)
			c.answer <- nil
			require.NoError(t, <-w)
			time.Sleep(delay / 10)
			return took
		}
		assert.Zero(t, step("a"))
		assert.Zero(t, step("b"), "one sibling within the delay, two required")
		assert.Equal(t, delay, step("c"), "two siblings within the delay: the leader waits")
		require.NoError(t, s.Close())
	})
}

// Close during a leader's commit delay waits for that batch's fsync and
// refuses later records.
func TestCommitDelayCloseDuringDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const delay = time.Millisecond
		s, g := openDelayed(t, audit.FileOptions{CommitDelay: delay})
		a := write(t, s, g, "a")
		(<-g.syncs).answer <- nil
		require.NoError(t, <-a)
		b := write(t, s, g, "b") // waits out the delay
		synctest.Wait()
		closed := make(chan error, 1)
		go func() { closed <- s.Close() }()
		synctest.Wait()
		assert.ErrorIs(t, s.Write(context.Background(), audit.Record{Kind: "event"}), audit.ErrClosed)
		c := <-g.syncs
		synctest.Wait()
		assert.False(t, returned(b) || returned(closed), "returned before the pending record's fsync")
		c.answer <- nil
		assert.NoError(t, <-b)
		assert.NoError(t, <-closed)
	})
}

// Bad commit delay settings are refused at OpenFile, naming the field.
func TestCommitDelayRefusesBadConfig(t *testing.T) {
	for _, tc := range []struct {
		opts  audit.FileOptions
		field string
	}{
		{audit.FileOptions{CommitDelay: -time.Millisecond}, "FileOptions.CommitDelay"},
		{audit.FileOptions{CommitDelay: audit.MaxCommitDelay + 1}, "FileOptions.CommitDelay"},
		{audit.FileOptions{CommitDelay: time.Millisecond, CommitSiblings: -1}, "FileOptions.CommitSiblings"},
		{audit.FileOptions{CommitDelay: time.Millisecond, CommitSiblings: 65}, "FileOptions.CommitSiblings"},
	} {
		path := filepath.Join(t.TempDir(), "audit.jsonl")
		s, err := audit.OpenFile(path, &tc.opts)
		require.Error(t, err, "%+v", tc.opts)
		assert.Nil(t, s)
		assert.Contains(t, err.Error(), tc.field)
		assert.NoFileExists(t, path, "nothing created for a refused configuration")
	}
}

// The real file with a commit delay under the race detector: every record
// durable and chained, and concurrent writers share fsyncs.
func TestCommitDelayRealFile(t *testing.T) {
	st := writeRealFile(t, &audit.FileOptions{CommitDelay: audit.DefaultCommitDelay})
	assert.Greater(t, st.RecordsPerSync(), 1.0)
}

// With a commit delay, records that arrive together share an fsync while
// a lone record is fsynced at once.
func ExampleFileOptions_commitDelay() {
	dir, _ := os.MkdirTemp("", "audit-example-")
	defer os.RemoveAll(dir)
	s, err := audit.OpenFile(filepath.Join(dir, "audit.jsonl"), &audit.FileOptions{CommitDelay: audit.DefaultCommitDelay})
	if err != nil {
		fmt.Println(err)
		return
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			_ = s.Write(context.Background(), audit.Record{Kind: "event", Action: fmt.Sprint("ticket.create-", i)})
		})
	}
	wg.Wait()
	_ = s.Close()
	st := s.Stats()
	fmt.Println(st.Synced, "records durable, fewer fsyncs:", st.Syncs < 8)
	// Output: 8 records durable, fewer fsyncs: true
}

// Last names only durable records: while a record's fsync is blocked, and
// after its fsync failed, the anchor stays on the last record a successful
// fsync covered, so an anchor taken at any moment is one a crash cannot
// take back (a later VerifyFrom with it would report the tail missing).
func TestLastNamesOnlyDurableRecords(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, g, _ := openGated(t)
		assert.Equal(t, audit.Link{}, s.Last(), "an empty file: no anchor yet")

		a := write(t, s, g, "a")
		first := <-g.syncs
		synctest.Wait()
		assert.Equal(t, audit.Link{}, s.Last(), "a is written but its fsync has not returned")
		b := write(t, s, g, "b")
		synctest.Wait()
		first.answer <- nil
		require.NoError(t, <-a)
		second := <-g.syncs // b's
		synctest.Wait()
		assert.Equal(t, uint64(1), s.Last().Seq, "a is durable, b waits for its fsync")

		second.answer <- syscall.EIO
		require.Error(t, <-b)
		assert.Equal(t, uint64(1), s.Last().Seq, "b's fsync failed: the anchor stays on a")

		c := write(t, s, g, "c")
		(<-g.syncs).answer <- nil
		require.NoError(t, <-c)
		last := s.Last()
		assert.Equal(t, uint64(3), last.Seq, "c's fsync succeeded: the anchor moves to c")
		require.NoError(t, s.Close())
		recs, err := s.ReadAll()
		require.NoError(t, err)
		require.Len(t, recs, 3)
		assert.Equal(t, recs[2].Hash, last.Hash)
	})
}

// With SyncNone nothing is fsynced: Last is the last record written.
func TestLastWithoutFsyncIsLastWritten(t *testing.T) {
	s, err := audit.OpenFile(filepath.Join(t.TempDir(), "audit.jsonl"), &audit.FileOptions{Sync: audit.SyncNone})
	require.NoError(t, err)
	require.NoError(t, s.Write(context.Background(), audit.Record{Time: time.Now(), Kind: "event", Action: "a", Outcome: audit.OutcomeSuccess}))
	assert.Equal(t, uint64(1), s.Last().Seq)
	require.NoError(t, s.Close())
}
