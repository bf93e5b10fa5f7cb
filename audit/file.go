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
)

// SyncPolicy says when FileSink calls fsync.
type SyncPolicy int

const (
	// SyncEach fsyncs after every record, before Write returns: a record
	// reported written survives a crash or power loss. The default.
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
}

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
// guarantees. Writes are serialised; with SyncEach each mutating request
// waits for one fsync (0.2–2 ms on the benchmark machine's disk), which
// bounds audited changes to roughly 500–5,000 per second per file. Rotate
// by opening a new file (for example one per day) and closing the old one;
// never truncate a file in place.
type FileSink struct {
	path   string
	opts   FileOptions
	mu     sync.Mutex
	f      *os.File
	broken bool // the last line may be incomplete: start the next on a new line
	tail   bool // the file had an incomplete last line when opened
	last   Link // the chain's last record
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
// Chain; any Seq, Prev or Hash rec carries is replaced).
func (s *FileSink) Write(_ context.Context, rec Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return ErrClosed
	}
	rec, next := Chain(s.last, rec)
	line, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("audit: encode record: %w", err)
	}
	line = append(line, '\n')
	if s.broken {
		line = append([]byte{'\n'}, line...)
	}
	if _, err := s.f.Write(line); err != nil {
		s.broken = true // a partial line may be on disk
		return classify(s.path, "append to", err)
	}
	s.broken = false
	// The line is in the file: the next record links to it even if the
	// fsync below fails (the line is there for every reader).
	s.last = next
	if s.opts.Sync == SyncEach {
		if err := s.f.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
			return classify(s.path, "fsync", err)
		}
	}
	return nil
}

// Last returns the chain position of the last record written (or found
// at open): the anchor to keep outside the file.
func (s *FileSink) Last() Link {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// VerifyTail implements TailVerifier: it verifies the whole file (n is
// ignored; rotate files to bound the work) with VerifyFile.
func (s *FileSink) VerifyTail(ctx context.Context, _ int) error {
	_, err := VerifyFile(s.path, Link{})
	return err
}

// Close closes the file. Later writes return ErrClosed.
func (s *FileSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
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
