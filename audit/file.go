package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// SyncPolicy says when FileSink calls fsync.
type SyncPolicy int

const (
	// SyncEach makes every record durable before Write returns: a record
	// reported written survives a crash or power loss. Concurrent records
	// share an fsync (group commit), each Write still waiting for an
	// fsync that started after its line was written. The default.
	SyncEach SyncPolicy = iota
	// SyncNone never fsyncs; the operating system flushes when it likes
	// (seconds). A process crash loses nothing already written; a power
	// loss or kernel crash may lose the last records.
	SyncNone
)

// FileOptions configures OpenFile. Nil means the defaults.
type FileOptions struct {
	// Sync is the fsync policy. Zero is SyncEach.
	Sync SyncPolicy
	// Perm is the mode of a newly created file. Zero means 0600.
	Perm os.FileMode
	// CommitDelay (SyncEach) is how long the leader of a group commit
	// waits before its fsync when other records are arriving, so that one
	// fsync covers more of them (PostgreSQL's commit_delay). It is counted
	// from the append of the first record of the batch, so no record
	// waits for it more than once, and a batch that already waited as
	// long for the previous fsync does not wait at all. A record is still
	// acknowledged only after an fsync that started after it was written.
	// Zero, the default, turns it off: every fsync starts at once. At most
	// MaxCommitDelay. Worth setting when fsyncs are frequent and cost CPU
	// (on the benchmark machine each fsync costs ~80 µs of CPU): the
	// example portal uses DefaultCommitDelay.
	CommitDelay time.Duration
	// CommitSiblings is how many other records must have been appended
	// within the last CommitDelay for the leader to wait (PostgreSQL's
	// commit_siblings): a lone writer never waits. Zero means 1. At most
	// 64.
	CommitSiblings int
}

// Commit delay bounds (FileOptions.CommitDelay).
const (
	// DefaultCommitDelay is the commit delay the example portal uses: a
	// millisecond, about five fsyncs' time on the benchmark machine's disk.
	DefaultCommitDelay = time.Millisecond
	// MaxCommitDelay is the longest commit delay OpenFile accepts.
	MaxCommitDelay = 10 * time.Millisecond
	// maxCommitSiblings bounds FileOptions.CommitSiblings.
	maxCommitSiblings = 64
)

// Sentinel errors a FileSink's Write wraps, so callers can branch.
var (
	// ErrDiskFull: the file system has no space left (ENOSPC, EDQUOT).
	ErrDiskFull = errors.New("audit: disk full")
	// ErrReadOnly: the file or file system refuses writes (EROFS, EACCES, EPERM, EBADF).
	ErrReadOnly = errors.New("audit: audit file is read-only")
	// ErrClosed: the sink was closed.
	ErrClosed = errors.New("audit: file sink is closed")
)

// FileSink is the default Sink: an append-only JSON-lines file (one record
// per line). See the package documentation for the crash and fsync
// guarantees. Appends are serialised in chain order. With SyncEach the
// fsyncs are group commits: records appended while one fsync runs share the
// next one, so an fsync (0.2–2 ms on the benchmark machine's disk) bounds
// the latency of a record rather than the throughput of the file; Stats
// reports records per fsync. Rotate by opening a new file (for example one
// per day) and closing the old one; never truncate a file in place.
type FileSink struct {
	path   string
	opts   FileOptions
	mu     sync.Mutex
	f      file // nil once closed
	broken bool // the last line may be incomplete: start the next on a new line
	tail   bool // the file had an incomplete last line when opened
	last   Link // the chain's last record
	// durable is the last record known to be on disk: the one found at
	// open, then (SyncEach) the last one a successful fsync covered.
	durable Link

	// The group commit (SyncEach). syncing says an fsync runs (or its
	// leader is being handed over); cur collects the records appended
	// since it started, which the next fsync covers.
	cur     *commitBatch
	syncing bool
	closing bool
	stats   FileStats

	// The commit delay: the append times of the last CommitSiblings+1
	// records (a ring; recentN of them filled), to tell a lone writer from
	// records arriving together.
	recent  []time.Time
	recentI int
	recentN int
}

// file is what a FileSink needs of its open file; tests replace it with a
// fault-injecting one (export_test.go).
type file interface {
	Write([]byte) (int, error)
	Sync() error
	Close() error
}

// commitBatch is the records that wait for the next fsync, appended while
// one ran (or while its leader waits out the commit delay). wake hands
// that fsync to one of its writers (a true value) and is closed when it
// has returned (err is its result). first is when its first record was
// appended: the commit delay counts from it.
type commitBatch struct {
	n     int
	err   error
	wake  chan bool
	first time.Time
}

// FileStats count a FileSink's work. Records per fsync is
// RecordsPerSync(); read it with FileSink.Stats.
type FileStats struct {
	// Records is how many records were appended to the file.
	Records uint64
	// Synced is how many of them an fsync made durable (SyncEach).
	Synced uint64
	// Syncs is how many fsyncs succeeded, SyncErrors how many failed
	// (every record of a failed fsync's batch got its error).
	Syncs, SyncErrors uint64
	// MaxBatch is the most records one fsync covered.
	MaxBatch int
	// SyncTime is the total time spent in fsync.
	SyncTime time.Duration
}

// RecordsPerSync returns Synced ÷ Syncs: how many records an fsync made
// durable on average (0 before the first).
func (st FileStats) RecordsPerSync() float64 {
	if st.Syncs == 0 {
		return 0
	}
	return float64(st.Synced) / float64(st.Syncs)
}

var _ Sink = (*FileSink)(nil)

// OpenFile opens (creating if needed) the audit file at path for appending,
// and continues its hash chain. It takes an exclusive lock on the file
// (ErrInUse when another writer holds it): two writers would fork the
// chain. Close releases it.
func OpenFile(path string, opts *FileOptions) (*FileSink, error) {
	var o FileOptions
	if opts != nil {
		o = *opts
	}
	if o.Sync != SyncEach && o.Sync != SyncNone {
		return nil, fmt.Errorf("audit: FileOptions.Sync is %d; use audit.SyncEach or audit.SyncNone", o.Sync)
	}
	if o.Perm == 0 {
		o.Perm = 0o600
	}
	if o.CommitDelay < 0 || o.CommitDelay > MaxCommitDelay {
		return nil, fmt.Errorf("audit: FileOptions.CommitDelay is %v; use 0 (off) up to %v, e.g. audit.DefaultCommitDelay", o.CommitDelay, MaxCommitDelay)
	}
	if o.CommitSiblings < 0 || o.CommitSiblings > maxCommitSiblings {
		return nil, fmt.Errorf("audit: FileOptions.CommitSiblings is %d; use 0 (meaning 1) up to %d", o.CommitSiblings, maxCommitSiblings)
	}
	if o.CommitSiblings == 0 {
		o.CommitSiblings = 1
	}
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, o.Perm)
	if err != nil {
		return nil, classify(path, "open", err)
	}
	if errors.Is(statErr, fs.ErrNotExist) && o.Sync == SyncEach {
		// A new file's directory entry must be durable too.
		if d, err := os.Open(filepath.Dir(path)); err == nil {
			_ = d.Sync()
			d.Close()
		}
	}
	s := &FileSink{path: path, opts: o, f: f}
	if o.CommitDelay > 0 && o.Sync == SyncEach {
		s.recent = make([]time.Time, o.CommitSiblings+1)
	}
	st, err := f.Stat()
	if err == nil && st.Mode().IsRegular() {
		if err := lockFile(f); err != nil {
			f.Close()
			return nil, err
		}
	}
	if err != nil {
		f.Close()
		return nil, classify(path, "stat", err)
	}
	if st.Mode().IsRegular() && st.Size() > 0 {
		var last [1]byte
		if _, err := f.ReadAt(last[:], st.Size()-1); err != nil && err != io.EOF {
			f.Close()
			return nil, classify(path, "read", err)
		}
		if last[0] != '\n' {
			s.broken, s.tail = true, true
		}
		if s.last, err = lastLink(f, st.Size()); err != nil {
			f.Close()
			return nil, fmt.Errorf("audit: %s: %w", path, err)
		}
		s.durable = s.last
	}
	return s, nil
}

// lastLink returns the chain position of the file's last complete record
// (a crash may have left an incomplete line after it), or the zero Link
// when that record is not chained.
func lastLink(f *os.File, size int64) (Link, error) {
	n := int64(2*MaxLineBytes + 2)
	off := max(size-n, 0)
	buf := make([]byte, size-off)
	if _, err := f.ReadAt(buf, off); err != nil && err != io.EOF {
		return Link{}, err
	}
	end := bytes.LastIndexByte(buf, '\n')
	for end >= 0 {
		start := bytes.LastIndexByte(buf[:end], '\n') + 1
		if start == 0 && off > 0 {
			break // the line starts before the window: longer than MaxLineBytes
		}
		line := bytes.TrimSpace(buf[start:end])
		if len(line) > 0 {
			rec, err := parseRecord(line)
			if err != nil {
				return Link{}, fmt.Errorf("its last complete line is not an audit record (%v), so the hash chain cannot continue: run `launchready audit verify` on it and start a new file", err)
			}
			return Link{Seq: rec.Seq, Hash: rec.Hash}, nil
		}
		end = start - 1
	}
	if off == 0 {
		return Link{}, nil // only blank lines or a fragment
	}
	return Link{}, errors.New("no complete audit record in its last 128 KiB, so the hash chain cannot continue: start a new file")
}

// Path returns the file's path.
func (s *FileSink) Path() string { return s.path }

// Sync returns the fsync policy.
func (s *FileSink) Sync() SyncPolicy { return s.opts.Sync }

// TruncatedAtOpen reports whether the file ended in an incomplete line when
// it was opened: the previous process crashed in the middle of a write.
func (s *FileSink) TruncatedAtOpen() bool { return s.tail }

// Write appends rec as one line, chained after the previous record (see
// Chain; any Seq, Prev or Hash rec carries is replaced). With SyncEach it
// returns only after an fsync that started after the line was written has
// succeeded (group commit: concurrent writers share it); if that fsync
// fails, every record it covered gets the error.
func (s *FileSink) Write(_ context.Context, rec Record) error {
	s.mu.Lock()
	if s.f == nil || s.closing {
		s.mu.Unlock()
		return ErrClosed
	}
	rec, next := Chain(s.last, rec)
	line, err := json.Marshal(rec)
	if err != nil {
		s.mu.Unlock()
		return fmt.Errorf("audit: encode record: %w", err)
	}
	line = append(line, '\n')
	if s.broken {
		line = append([]byte{'\n'}, line...)
	}
	if _, err := s.f.Write(line); err != nil {
		s.broken = true // a partial line may be on disk
		s.mu.Unlock()
		return classify(s.path, "append to", err)
	}
	s.broken = false
	// The line is in the file: the next record links to it even if the
	// fsync below fails (the line is there for every reader).
	s.last = next
	s.stats.Records++
	if s.opts.Sync != SyncEach {
		s.mu.Unlock()
		return nil
	}
	var now time.Time
	if s.recent != nil {
		now = time.Now()
		s.recent[s.recentI] = now
		s.recentI = (s.recentI + 1) % len(s.recent)
		s.recentN = min(s.recentN+1, len(s.recent))
	}
	if !s.syncing {
		// No fsync runs: this record's own fsync starts now, or after
		// the commit delay when other records are arriving. Records
		// appended meanwhile wait for the next one (s.cur), or join this
		// one while its leader waits.
		s.syncing = true
		if !s.busy(now) {
			return s.commit(nil)
		}
		b := newBatch(now)
		b.n = 1
		s.cur = b
		return s.lead(b)
	}
	b := s.cur
	if b == nil {
		b = newBatch(now)
		s.cur = b
	}
	b.n++
	return s.join(b)
}

func newBatch(first time.Time) *commitBatch {
	return &commitBatch{wake: make(chan bool, 1), first: first}
}

// busy reports, with s.mu held, whether at least CommitSiblings records
// besides the one appended at now were appended within the commit delay
// before it: records are arriving together, so a leader waiting for them
// saves fsyncs. Always false without a commit delay.
func (s *FileSink) busy(now time.Time) bool {
	if s.recent == nil || s.recentN < len(s.recent) {
		return false
	}
	oldest := s.recent[s.recentI] // the ring's next slot holds its oldest time
	return now.Sub(oldest) <= s.opts.CommitDelay
}

// join waits, with s.mu held, until batch b's fsync has returned, and
// returns its error; it releases s.mu. If the running fsync's leader hands
// b over, the caller leads b: it fsyncs it itself.
func (s *FileSink) join(b *commitBatch) error {
	s.mu.Unlock()
	if _, lead := <-b.wake; lead {
		s.mu.Lock()
		return s.lead(b)
	}
	return b.err
}

// lead fsyncs batch b (s.cur, s.syncing set, s.mu held; it releases s.mu)
// as its leader, first waiting out what is left of the commit delay,
// counted from b's first record, when records are arriving together.
// Records appended during the wait join b.
func (s *FileSink) lead(b *commitBatch) error {
	if s.recent != nil && !b.first.IsZero() {
		if now := time.Now(); s.busy(now) {
			if wait := b.first.Add(s.opts.CommitDelay).Sub(now); wait > 0 {
				s.mu.Unlock()
				time.Sleep(wait)
				s.mu.Lock()
			}
		}
	}
	return s.commit(b)
}

// commit fsyncs as leader (s.syncing set, s.mu held; it releases s.mu)
// either batch b, which must be s.cur, or (b nil) the one record the
// caller just appended while no fsync ran. Records appended meanwhile form
// the next batch, whose fsync starts after this one returns: one of its
// writers leads it, so a leader waits for one fsync only.
func (s *FileSink) commit(b *commitBatch) error {
	n := 1
	if b != nil {
		n = b.n
		s.cur = nil
	}
	f := s.f
	covered := s.last // every line written so far: the fsync starts after them
	s.mu.Unlock()
	var err error
	var took time.Duration
	if n > 0 { // Close's own batch may hold no record
		start := time.Now()
		err = f.Sync()
		took = time.Since(start)
		if err != nil && errors.Is(err, syscall.EINVAL) {
			err = nil // the file does not support fsync (a pipe, /dev/full)
		}
	}
	s.mu.Lock()
	s.stats.SyncTime += took
	switch {
	case n == 0:
	case err != nil:
		err = classify(s.path, "fsync", err)
		s.stats.SyncErrors++
	default:
		s.stats.Syncs++
		s.stats.Synced += uint64(n)
		s.stats.MaxBatch = max(s.stats.MaxBatch, n)
		if covered.Seq > s.durable.Seq {
			s.durable = covered
		}
	}
	if b != nil {
		b.err = err
		close(b.wake) // wakes b's writers: done
	}
	if s.cur != nil {
		s.cur.wake <- true // s.syncing stays set for the next batch's leader
	} else {
		s.syncing = false
	}
	s.mu.Unlock()
	return err
}

// Stats returns the sink's counters.
func (s *FileSink) Stats() FileStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Last returns the chain position of the last durable record: the anchor
// to keep outside the file. With SyncEach that is the last record a
// successful fsync covered (or the last one found at open), never one
// still waiting for its fsync, so an anchor taken at any moment names a
// record a crash cannot take back. With SyncNone it is the last record
// written: the operating system decides when it reaches the disk.
func (s *FileSink) Last() Link {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.Sync == SyncEach {
		return s.durable
	}
	return s.last
}

// VerifyTail implements TailVerifier: it verifies the whole file (n is
// ignored; rotate files to bound the work) with VerifyFile.
func (s *FileSink) VerifyTail(ctx context.Context, _ int) error {
	_, err := VerifyFile(s.path, Link{})
	return err
}

// Close waits for the records already appended to be fsynced (their
// writers get the result as usual), then closes the file. Later writes
// return ErrClosed.
func (s *FileSink) Close() error {
	s.mu.Lock()
	if s.f == nil {
		s.mu.Unlock()
		return nil
	}
	s.closing = true // later writes return ErrClosed
	for s.syncing {
		// Wait as one more member of the next batch (leading its fsync if
		// it falls to us): every record appended so far is then durable,
		// or its writer has the error.
		b := s.cur
		if b == nil {
			b = newBatch(time.Time{}) // Close waits for no commit delay
			s.cur = b
		}
		_ = s.join(b)
		s.mu.Lock()
	}
	f := s.f
	s.f = nil
	s.mu.Unlock()
	if f == nil {
		return nil // closed by a concurrent Close
	}
	return f.Close()
}

// ReadAll reads the whole audit file: every intact record, and an error
// joining a *LineError for each damaged line (errors.Is(err, ErrTruncated)
// for an incomplete last line). For an admin endpoint.
func (s *FileSink) ReadAll() ([]Record, error) {
	f, err := os.Open(s.path)
	if err != nil {
		return nil, fmt.Errorf("audit: open %s for reading: %w", s.path, err)
	}
	defer f.Close()
	return ReadAll(f)
}

func classify(path, op string, err error) error {
	switch {
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		return fmt.Errorf("audit: %s %s: %w: free space on that file system or move the audit file (%w)", op, path, ErrDiskFull, err)
	case errors.Is(err, syscall.EROFS), errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM), errors.Is(err, syscall.EBADF):
		return fmt.Errorf("audit: %s %s: %w: make the file and its directory writable by the server (%w)", op, path, ErrReadOnly, err)
	}
	return fmt.Errorf("audit: %s %s: %w", op, path, err)
}
