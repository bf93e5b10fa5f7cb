package redact_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/monitor"
	"github.com/launchready/launchready/redact"
	"github.com/launchready/launchready/redact/redacttest"
)

// gatedWriter is a log destination that blocks every Write until open is
// closed, like a full disk or a stalled pipe; it is safe for concurrent use.
type gatedWriter struct {
	open chan struct{}
	mu   sync.Mutex
	buf  bytes.Buffer
}

func newGatedWriter() *gatedWriter { return &gatedWriter{open: make(chan struct{})} }

func (g *gatedWriter) Write(p []byte) (int, error) {
	<-g.open
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.buf.Write(p)
}

func (g *gatedWriter) String() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.buf.String()
}

// countLines counts the access-log lines (INFO) and returns the drop
// notices (WARN) of out, failing on a line that is not one JSON object.
func countLines(t *testing.T, out string) (info int, notices []map[string]any) {
	t.Helper()
	for line := range strings.SplitAfterSeq(out, "\n") {
		if line == "" {
			continue
		}
		m := decodeLine(t, []byte(line))
		switch m["level"] {
		case "INFO":
			info++
		case "WARN":
			notices = append(notices, m)
		default:
			t.Fatalf("unexpected line %q", line)
		}
	}
	return info, notices
}

// (a) A graceful shutdown of a real server under concurrent requests loses
// no access-log line: the log's writer is stalled while the server shuts
// down, so the lines are still queued when Shutdown begins, and every
// request the handler served has its line once the BatchWriter is closed.
func TestBatchWriterGracefulShutdownLosesNoLine(t *testing.T) {
	dst := newGatedWriter()
	bw, err := redact.NewBatchWriter(dst, redact.BatchConfig{})
	require.NoError(t, err)
	var served atomic.Int64
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		annotate(w, "GET /api/clients/{id}", "u-7", "client-a")
		_, _ = io.WriteString(w, `{"id":"client-a"}`)
	})
	al, err := redact.NewAccessLogWriter(app, bw, nil, redact.AccessLogConfig{})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &http.Server{Handler: al, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	url := "http://" + ln.Addr().String() + "/api/clients/client-a"
	var answered atomic.Int64
	progress := make(chan struct{}, 1024)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				resp, err := client.Get(url)
				if err != nil {
					return // the server has shut down
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					answered.Add(1)
				}
				select {
				case progress <- struct{}{}:
				default:
				}
			}
		})
	}
	for range 200 {
		<-progress
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, srv.Shutdown(ctx)) // requests in flight finish, while clients keep sending
	wg.Wait()
	require.Zero(t, dst.String(), "the stalled writer has written nothing yet")
	close(dst.open)
	require.NoError(t, bw.Shutdown(ctx))

	info, notices := countLines(t, dst.String())
	assert.Empty(t, notices)
	assert.Zero(t, bw.Dropped())
	assert.GreaterOrEqual(t, answered.Load(), int64(200))
	assert.LessOrEqual(t, answered.Load(), served.Load())
	assert.Equal(t, served.Load(), int64(info), "one line per request served")
	assert.Equal(t, uint64(info), bw.Written())
}

// (b) A full queue drops lines, and each drop is counted where alerts see
// it: Dropped, the monitor counters through OnDrop, and a notice in the
// log itself once the writer moves again.
func TestBatchWriterFullQueueCountsDrops(t *testing.T) {
	dst := newGatedWriter()
	counters := monitor.NewCounters()
	bw, err := redact.NewBatchWriter(dst, redact.BatchConfig{QueueBytes: 2000,
		OnDrop: func() { counters.Inc("", monitor.LogDropped) },
		Now:    func() time.Time { return time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC) }})
	require.NoError(t, err)
	al, err := redact.NewAccessLogWriter(http.NotFoundHandler(), bw, nil, redact.AccessLogConfig{})
	require.NoError(t, err)
	const requests = 100
	for range requests {
		al.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	}
	dropped := bw.Dropped()
	require.NotZero(t, dropped, "2,000 bytes cannot hold 100 lines")
	assert.Equal(t, dropped, counters.Value("", monitor.LogDropped))
	var seen bool
	for _, s := range counters.Snapshot() {
		if s.Kind == monitor.LogDropped {
			seen = true
			assert.Equal(t, "log_dropped", s.Kind.String())
			assert.Equal(t, dropped, s.Value)
		}
	}
	assert.True(t, seen, "the drop counter is in the counters' snapshot (/metrics)")
	assert.Contains(t, monitor.Kinds, monitor.LogDropped)

	close(dst.open)
	require.NoError(t, bw.Close())
	info, notices := countLines(t, dst.String())
	assert.Equal(t, requests-int(dropped), info)
	require.NotEmpty(t, notices)
	var noticed uint64
	for _, n := range notices { // one per batch written after drops
		assert.Equal(t, "access log: lines dropped, queue full", n["msg"])
		assert.Equal(t, "2026-03-14T09:00:00.000Z", n["time"])
		var k uint64
		_, err := fmt.Sscan(fmt.Sprint(n["dropped"]), &k)
		require.NoError(t, err)
		noticed += k
	}
	assert.Equal(t, dropped, noticed, "the notices add up to every dropped line")
}

// Write reports a dropped line to its caller with ErrQueueFull. (The
// stalled writer holds at most one batch taken from the queue.)
func TestBatchWriterWriteErrQueueFull(t *testing.T) {
	dst := newGatedWriter()
	bw, err := redact.NewBatchWriter(dst, redact.BatchConfig{QueueBytes: 10})
	require.NoError(t, err)
	var full uint64
	for range 5 {
		n, err := bw.Write([]byte("012345678\n"))
		if err != nil {
			assert.ErrorIs(t, err, redact.ErrQueueFull)
			assert.Zero(t, n)
			full++
			continue
		}
		assert.Equal(t, 10, n)
	}
	assert.GreaterOrEqual(t, full, uint64(3), "a 10-byte queue and one stalled batch hold at most two lines")
	assert.Equal(t, full, bw.Dropped())
	close(dst.open)
	require.NoError(t, bw.Close())
	info := strings.Count(dst.String(), "012345678\n")
	assert.Equal(t, 5-int(full), info)
}

// (c) A writer that never returns delays no request: every request ends
// (the lines that fit are queued, the rest dropped and counted) while the
// writer is still blocked.
func TestBatchWriterBlockedWriterNeverBlocksRequests(t *testing.T) {
	dst := newGatedWriter()
	defer close(dst.open)
	bw, err := redact.NewBatchWriter(dst, redact.BatchConfig{QueueBytes: 64 << 10})
	require.NoError(t, err)
	al, err := redact.NewAccessLogWriter(http.NotFoundHandler(), bw, nil, redact.AccessLogConfig{})
	require.NoError(t, err)
	const requests = 2000
	done := make(chan struct{})
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for range requests / 4 {
					al.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
				}
			})
		}
		wg.Wait()
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("requests blocked on a stalled log writer")
	}
	assert.Zero(t, dst.String(), "the writer is still blocked")
	assert.NotZero(t, bw.Dropped())
	assert.Zero(t, bw.Written())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, bw.Shutdown(ctx), context.Canceled, "Shutdown reports a drain it could not finish")
}

// (d) The batched path writes exactly the bytes the direct path writes:
// the same lines, redacted the same, in the same order.
func TestBatchWriterSameBytesAsDirect(t *testing.T) {
	g := redacttest.New(25)
	rqs := []request{
		{method: "GET", route: "GET /api/clients/{id}", principal: "u-7", tenant: "client-a", requestID: "req-1", clientIP: "203.0.113.9"},
		{method: "GET", route: "GET /api/me", principal: "svc " + g.JWT(), tenant: "alice.smith@client-a.test",
			requestID: "trace " + g.GitHubToken(), clientIP: "203.0.113.9"},
		{method: "PATCH", route: "PATCH /api/tickets/{id}", principal: "u-\u2028<script>", tenant: "t\n\"x\"", clientIP: "2001:db8::1"},
		{method: "BREW", route: "password=hunter2-hunter2"},
	}
	direct, build := lines(t, nil)
	for _, rq := range rqs {
		serve(t, rq, build)
	}
	var batched bytes.Buffer
	bw, err := redact.NewBatchWriter(&batched, redact.BatchConfig{})
	require.NoError(t, err)
	for _, rq := range rqs {
		serve(t, rq, func(next http.Handler, cfg redact.AccessLogConfig) http.Handler {
			al, err := redact.NewAccessLogWriter(next, bw, nil, cfg)
			require.NoError(t, err)
			return al
		})
	}
	require.NoError(t, bw.Close())
	require.NotEmpty(t, direct.String())
	assert.Equal(t, direct.String(), batched.String())
	assert.NotContains(t, batched.String(), "hunter2")
	assert.NotContains(t, batched.String(), "alice.smith")
}

// Lines are written without a Shutdown once the flush interval passes.
func TestBatchWriterFlushesOnInterval(t *testing.T) {
	dst := newGatedWriter()
	close(dst.open)
	bw, err := redact.NewBatchWriter(dst, redact.BatchConfig{FlushInterval: time.Millisecond})
	require.NoError(t, err)
	defer func() { require.NoError(t, bw.Close()) }()
	_, err = bw.Write([]byte("line\n"))
	require.NoError(t, err)
	deadline := time.Now().Add(10 * time.Second)
	for dst.String() == "" && time.Now().Before(deadline) {
		runtime.Gosched()
	}
	assert.Equal(t, "line\n", dst.String())
	assert.Equal(t, uint64(1), bw.Written())
	assert.Equal(t, uint64(1), bw.Batches())
}

// After Shutdown a late line goes straight to the writer: none is lost.
func TestBatchWriterWritesThroughAfterShutdown(t *testing.T) {
	var buf bytes.Buffer
	bw, err := redact.NewBatchWriter(&buf, redact.BatchConfig{})
	require.NoError(t, err)
	_, err = bw.Write([]byte("queued\n"))
	require.NoError(t, err)
	require.NoError(t, bw.Close())
	n, err := bw.Write([]byte("late\n"))
	require.NoError(t, err)
	assert.Equal(t, 5, n)
	assert.Equal(t, "queued\nlate\n", buf.String())
	assert.Equal(t, uint64(2), bw.Written())
	require.NoError(t, bw.Close(), "Close twice is fine")
}

func TestNewBatchWriterRefuses(t *testing.T) {
	_, err := redact.NewBatchWriter(nil, redact.BatchConfig{})
	assert.ErrorContains(t, err, "writer is nil")
	_, err = redact.NewBatchWriter(io.Discard, redact.BatchConfig{QueueBytes: -1})
	assert.ErrorContains(t, err, "BatchConfig.QueueBytes")
	_, err = redact.NewBatchWriter(io.Discard, redact.BatchConfig{FlushInterval: -time.Second})
	assert.ErrorContains(t, err, "BatchConfig.FlushInterval")
	bw, err := redact.NewBatchWriter(io.Discard, redact.BatchConfig{})
	require.NoError(t, err)
	assert.Equal(t, redact.DefaultQueueBytes, bw.QueueBytes())
	assert.Equal(t, io.Discard, bw.Writer())
	require.NoError(t, bw.Close())
}

func ExampleNewBatchWriter() {
	// The access log writes to a BatchWriter; its goroutine writes to
	// stdout. Close it after the server has stopped.
	bw, err := redact.NewBatchWriter(os.Stdout, redact.BatchConfig{})
	if err != nil {
		panic(err)
	}
	now := time.Date(2026, 1, 1, 9, 30, 0, 0, time.UTC)
	al, err := redact.NewAccessLogWriter(http.NotFoundHandler(), bw, nil, redact.AccessLogConfig{
		Now: func() time.Time { now = now.Add(2 * time.Millisecond); return now },
	})
	if err != nil {
		panic(err)
	}
	al.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	_ = bw.Close() // srv.Shutdown(ctx) first, then the log's drain
	fmt.Println("dropped:", bw.Dropped())
	// Output:
	// {"time":"2026-01-01T09:30:00.004Z","level":"INFO","msg":"http request","method":"GET","route":"(unmatched)","status":404,"duration":2000000,"bytes":19,"client_ip":"192.0.2.1"}
	// dropped: 0
}

// Flush writes what is queued at once (the interval here never passes),
// and returns with the context's error while the writer is stalled.
func TestBatchWriterFlush(t *testing.T) {
	var buf bytes.Buffer
	bw, err := redact.NewBatchWriter(&buf, redact.BatchConfig{FlushInterval: time.Hour})
	require.NoError(t, err)
	_, err = bw.Write([]byte("one\n"))
	require.NoError(t, err)
	require.NoError(t, bw.Flush(context.Background()))
	assert.Equal(t, "one\n", buf.String())
	require.NoError(t, bw.Close())
	require.NoError(t, bw.Flush(context.Background()), "after Shutdown there is nothing to flush")

	dst := newGatedWriter()
	stalled, err := redact.NewBatchWriter(dst, redact.BatchConfig{FlushInterval: time.Hour})
	require.NoError(t, err)
	defer func() {
		close(dst.open)
		assert.NoError(t, stalled.Close())
		assert.Equal(t, "two\n", dst.String())
	}()
	_, err = stalled.Write([]byte("two\n"))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, stalled.Flush(ctx), context.DeadlineExceeded)
}

// The writer's goroutine is woken once per batch, not per line: 5,000
// lines of 100 bytes (some 488 KiB), each given the time to wake it, make
// one batch per 64 KiB while they come faster than the flush interval,
// and the rest is written when the interval passes. A lone line is still
// written once the flush interval passes. (synctest: the interval is the
// bubble's fake clock; Wait lets the goroutine run whenever it was woken.)
func TestBatchWriterWakesOncePerBatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var dst bytes.Buffer
		bw, err := redact.NewBatchWriter(&dst, redact.BatchConfig{})
		require.NoError(t, err)
		defer func() { require.NoError(t, bw.Close()) }()
		line := []byte(strings.Repeat("x", 99) + "\n")
		const n = 5000
		for range n {
			_, err := bw.Write(line)
			require.NoError(t, err)
			synctest.Wait() // the goroutine wrote what it was woken for
		}
		full := uint64(n * len(line) / (64 << 10)) // 7
		assert.Equal(t, full, bw.Batches(), "woken other than once per 64 KiB batch")
		perBatch := uint64((64<<10 + len(line) - 1) / len(line)) // the line that reaches 64 KiB wakes it
		assert.Equal(t, full*perBatch, bw.Written(), "lines written before the interval")

		time.Sleep(redact.DefaultFlushInterval)
		synctest.Wait()
		assert.Equal(t, uint64(n), bw.Written(), "the rest is written once the interval passes")
		assert.Equal(t, n*len(line), dst.Len())

		batches := bw.Batches()
		_, err = bw.Write([]byte("lone\n"))
		require.NoError(t, err)
		synctest.Wait()
		assert.Equal(t, uint64(n), bw.Written(), "a lone line woke the writer")
		time.Sleep(redact.DefaultFlushInterval)
		synctest.Wait()
		assert.Equal(t, uint64(n+1), bw.Written(), "a lone line waits longer than the flush interval")
		assert.Equal(t, batches+1, bw.Batches())
		assert.True(t, strings.HasSuffix(dst.String(), "\nlone\n"))
	})
}

// A burst of lines, written without pause, wakes the writer's goroutine
// at most once per 64 KiB that crossed the batch size: never again for
// lines that join a queue whose wake-up is already pending.
func TestBatchWriterBurstWakesAtMostOncePerBatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var dst bytes.Buffer
		bw, err := redact.NewBatchWriter(&dst, redact.BatchConfig{})
		require.NoError(t, err)
		defer func() { require.NoError(t, bw.Close()) }()
		line := []byte(strings.Repeat("x", 99) + "\n")
		const n = 5000
		for range n {
			_, err := bw.Write(line)
			require.NoError(t, err)
		}
		synctest.Wait()
		assert.LessOrEqual(t, bw.Batches(), uint64(n*len(line)/(64<<10)))
		time.Sleep(redact.DefaultFlushInterval)
		synctest.Wait()
		assert.Equal(t, uint64(n), bw.Written())
		assert.Equal(t, n*len(line), dst.Len())
	})
}
