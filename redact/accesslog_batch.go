package redact

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of BatchConfig.
const (
	// DefaultQueueBytes bounds the lines a BatchWriter holds: 1 MiB, some
	// 4,000 access-log lines.
	DefaultQueueBytes = 1 << 20
	// DefaultFlushInterval is how long a queued line waits at most before
	// the writer's goroutine writes it.
	DefaultFlushInterval = 100 * time.Millisecond
)

// batchBytes is the batch the writer's goroutine is woken for: some 250
// lines in one write, and buffers that stay small while the writer keeps up.
const batchBytes = 64 << 10

// ErrQueueFull is what BatchWriter.Write returns for a line it dropped
// because its queue was full. The drop is counted (Dropped, OnDrop) and
// reported in the log itself.
var ErrQueueFull = errors.New("redact: access-log queue full; line dropped")

// BatchConfig configures a BatchWriter. The zero value is the default.
type BatchConfig struct {
	// QueueBytes bounds the bytes of the lines waiting to be written.
	// A line that does not fit is dropped and counted. Zero means
	// DefaultQueueBytes.
	QueueBytes int
	// FlushInterval is the longest a line waits before it is written while
	// few lines come (64 KiB of lines, or half the queue, are written at
	// once). Zero means DefaultFlushInterval.
	FlushInterval time.Duration
	// OnDrop is called, on the request's goroutine, for each line dropped
	// because the queue was full; give it the monitor counters so alerts
	// and /metrics see drops:
	//
	//	OnDrop: func() { counters.Inc("", monitor.LogDropped) }
	//
	// Nil: drops are counted by Dropped only (and reported in the log).
	OnDrop func()
	// Now is the clock of the drop notices written to the log. Nil means
	// time.Now.
	Now func() time.Time
}

// BatchWriter takes the access log's writes off the request path: Write
// copies the line into a bounded in-memory queue and returns, and one
// goroutine writes the queued lines to the underlying writer in batches,
// one Write call per batch (lines are never split). A slow or blocked
// writer (a full disk, a stalled pipe to a log shipper) therefore delays
// no request: once the queue is full, further lines are dropped — never
// silently: each drop is counted (Dropped, Config.OnDrop) and, once the
// writer moves again, a WARN line in the log says how many lines it lost:
//
//	{"time":"…","level":"WARN","msg":"access log: lines dropped, queue full","dropped":12}
//
// Shutdown (or Close) writes every queued line before it returns. Call it
// after the server has stopped (http.Server.Shutdown returned), so the
// lines of the last requests are in the queue; lines written after
// Shutdown go straight to the underlying writer, so a request that ends
// late loses no line either.
//
// The underlying writer need not be safe for concurrent use: the
// BatchWriter never writes to it from two goroutines at once. Give
// NewAccessLogWriter the BatchWriter as its writer; the lines it queues
// are the bytes that writer would have written, redacted the same.
type BatchWriter struct {
	w     io.Writer
	max   int
	batch int // a queue this long is written at once: min(max/2, batchBytes)
	every time.Duration
	drop  func()
	now   func() time.Time

	mu     sync.Mutex
	queue  []byte // lines waiting, appended by Write
	lines  uint64 // in queue
	closed bool

	spare []byte // the goroutine's empty buffer, swapped with queue

	wmu sync.Mutex // held while writing to w

	kick    chan struct{}      // the queue holds a batch
	flushes chan chan struct{} // Flush asks for a batch now, closed once written
	stop    chan struct{}      // Shutdown began
	done    chan struct{}      // the goroutine wrote everything and ended

	written  atomic.Uint64
	dropped  atomic.Uint64
	batches  atomic.Uint64
	reported uint64 // drops already noticed in the log (goroutine only)
}

// NewBatchWriter returns a BatchWriter writing to w and starts its
// goroutine; Shutdown or Close ends it. It refuses a nil w and negative
// settings.
func NewBatchWriter(w io.Writer, cfg BatchConfig) (*BatchWriter, error) {
	if w == nil {
		return nil, errors.New("redact: NewBatchWriter: the writer is nil; pass the log's destination (os.Stderr, a file)")
	}
	if cfg.QueueBytes < 0 {
		return nil, fmt.Errorf("redact: BatchConfig.QueueBytes is %d; use a positive size in bytes, or 0 for %d", cfg.QueueBytes, DefaultQueueBytes)
	}
	if cfg.FlushInterval < 0 {
		return nil, fmt.Errorf("redact: BatchConfig.FlushInterval is %v; use a positive duration, or 0 for %v", cfg.FlushInterval, DefaultFlushInterval)
	}
	b := &BatchWriter{w: w, max: cfg.QueueBytes, every: cfg.FlushInterval, drop: cfg.OnDrop, now: cfg.Now,
		kick: make(chan struct{}, 1), flushes: make(chan chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	if b.max == 0 {
		b.max = DefaultQueueBytes
	}
	if b.every == 0 {
		b.every = DefaultFlushInterval
	}
	b.batch = min(b.max/2, batchBytes)
	if b.now == nil {
		b.now = time.Now
	}
	go b.run()
	return b, nil
}

// Write queues a copy of p, one or more whole lines, and returns without
// waiting for the underlying writer. When the queue cannot hold p, p is
// dropped and counted, and Write returns ErrQueueFull. After Shutdown, p is
// written to the underlying writer directly.
func (b *BatchWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		b.wmu.Lock()
		defer b.wmu.Unlock()
		n, err := b.w.Write(p)
		b.written.Add(1)
		return n, err
	}
	if len(b.queue)+len(p) > b.max {
		b.mu.Unlock()
		b.dropped.Add(1)
		if b.drop != nil {
			b.drop()
		}
		return 0, ErrQueueFull
	}
	b.queue = append(b.queue, p...)
	b.lines++
	half := len(b.queue) >= b.batch
	b.mu.Unlock()
	if half {
		select {
		case b.kick <- struct{}{}:
			// The writer's goroutine is now runnable on this P, but a busy
			// request goroutine (or a tight loop) could keep it waiting
			// for a whole time slice while the queue overflows: yield
			// once, so it takes the batch now. This happens once per
			// batch (some 250 lines), not per line.
			runtime.Gosched()
		default:
		}
	}
	return len(p), nil
}

// run writes batches until Shutdown, then writes what is left and ends.
func (b *BatchWriter) run() {
	defer close(b.done)
	tick := time.NewTicker(b.every)
	defer tick.Stop()
	for {
		select {
		case <-b.kick:
		case <-tick.C:
		case written := <-b.flushes:
			b.flush()
			close(written)
			continue
		case <-b.stop:
			b.flush() // Write queues nothing after closed: this is the last batch
			return
		}
		b.flush()
	}
}

// flush writes the queued lines in one Write, and a notice of lines
// dropped since the last one.
func (b *BatchWriter) flush() {
	b.mu.Lock()
	batch, lines := b.queue, b.lines
	b.queue, b.lines = b.spare[:0], 0
	b.mu.Unlock()
	if dropped := b.dropped.Load(); dropped > b.reported {
		batch = b.appendDropNotice(batch, dropped-b.reported)
		b.reported = dropped
	}
	if len(batch) > 0 {
		b.wmu.Lock()
		_, _ = b.w.Write(batch) // as slog ignores its handler's errors
		b.wmu.Unlock()
		b.written.Add(lines)
		b.batches.Add(1)
	}
	if cap(batch) > 2*b.max { // a drop notice grew it past the bound: let it go
		batch = nil
	}
	b.spare = batch[:0]
}

func (b *BatchWriter) appendDropNotice(dst []byte, n uint64) []byte {
	dst = append(dst, `{"time":"`...)
	dst = appendTimeMillis(dst, b.now())
	dst = append(dst, `","level":"WARN","msg":"access log: lines dropped, queue full","dropped":`...)
	dst = strconv.AppendUint(dst, n, 10)
	return append(dst, '}', '\n')
}

// Flush writes the lines queued before the call and returns once they are
// written, or with ctx's error. The writer stays open. A test that reads
// the log right after a request (a log canary probe) flushes first.
func (b *BatchWriter) Flush(ctx context.Context) error {
	written := make(chan struct{})
	select {
	case b.flushes <- written:
	case <-b.done:
		return nil // shut down: everything queued is written
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-written:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Shutdown stops queueing (later writes go straight to the underlying
// writer) and waits until every queued line is written. If ctx ends first
// it returns ctx's error; the lines are still written, in the background.
func (b *BatchWriter) Shutdown(ctx context.Context) error {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.stop)
	}
	b.mu.Unlock()
	select {
	case <-b.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close is Shutdown without a deadline. It does not close the underlying
// writer.
func (b *BatchWriter) Close() error { return b.Shutdown(context.Background()) }

// Writer returns the underlying writer.
func (b *BatchWriter) Writer() io.Writer { return b.w }

// QueueBytes returns the queue's bound in bytes.
func (b *BatchWriter) QueueBytes() int { return b.max }

// Dropped returns how many lines were dropped because the queue was full.
// Anything but zero means the log is incomplete: alert on it.
func (b *BatchWriter) Dropped() uint64 { return b.dropped.Load() }

// Written returns how many lines were handed to the underlying writer.
func (b *BatchWriter) Written() uint64 { return b.written.Load() }

// Batches returns how many batches were written; Written/Batches is the
// mean batch size.
func (b *BatchWriter) Batches() uint64 { return b.batches.Load() }
