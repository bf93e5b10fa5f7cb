package attack_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/launchready/launchready/audit"
	"github.com/launchready/launchready/monitor"
)

// readHeaderTimeout is the portal's documented http.Server setting.
const readHeaderTimeout = 5 * time.Second

// TestSlowLorisDropped (DEPLOY003): clients that send their headers one
// line at a time are cut off within the portal's ReadHeaderTimeout (plus
// slack for a loaded machine), while a normal client keeps being served
// during the attack.
func TestSlowLorisDropped(t *testing.T) {
	p := startPortal(t)
	g := newTally(t, "slow-loris")
	const conns = 40
	type result struct {
		dropped time.Duration
		err     error
	}
	results := make(chan result, conns)
	start := time.Now()
	for i := 0; i < conns; i++ {
		go func() {
			conn, err := net.DialTimeout("tcp", p.addr, 10*time.Second)
			if err != nil {
				results <- result{err: err}
				return
			}
			defer conn.Close()
			t0 := time.Now()
			closed := make(chan struct{})
			go func() {
				_, _ = io.Copy(io.Discard, conn) // returns when the server closes
				close(closed)
			}()
			_, _ = fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: %s\r\n", p.addr)
			tick := time.NewTicker(500 * time.Millisecond)
			defer tick.Stop()
			for n := 0; ; n++ {
				select {
				case <-closed:
					results <- result{dropped: time.Since(t0)}
					return
				case <-tick.C:
					if time.Since(t0) > 30*time.Second {
						results <- result{dropped: time.Since(t0), err: errors.New("still open after 30s")}
						return
					}
					_, _ = fmt.Fprintf(conn, "X-Slow-%d: a\r\n", n)
				}
			}
		}()
	}
	// Meanwhile, a normal client is served promptly.
	time.Sleep(time.Second)
	for i := 0; i < 5; i++ {
		t0 := time.Now()
		res, err := p.client().get("/healthz")
		g.check(err == nil && res.status == http.StatusOK && time.Since(t0) < 3*time.Second,
			"healthz during the slow-loris attack: %v %v after %v", res, err, time.Since(t0))
	}
	var worst time.Duration
	for i := 0; i < conns; i++ {
		r := <-results
		g.check(r.err == nil, "slow-loris connection: %v", r.err)
		g.check(r.dropped <= readHeaderTimeout+3*time.Second, "slow-loris connection held for %v (ReadHeaderTimeout %v)", r.dropped, readHeaderTimeout)
		worst = max(worst, r.dropped)
	}
	t.Logf("slow-loris: %d connections dropped, the last after %v (ReadHeaderTimeout %v), total %v", conns, worst, readHeaderTimeout, time.Since(start))
	g.check(p.alive(), "portal died")
}

// countingReporter counts recovered panics.
type countingReporter struct {
	n      atomic.Int64
	routes sync.Map
}

func (r *countingReporter) Report(_ context.Context, p monitor.Panic) {
	r.n.Add(1)
	r.routes.Store(p.Method, true)
}

// TestPanicUnderConcurrentLoad (MON002): handlers panicking under
// concurrent load (before and after the response started) are recovered by
// monitor.Recovery: a problem+json 500 without the panic text, or an
// aborted response, each reported once; the server keeps serving the other
// requests, and no goroutine leaks. The portal has no panicking route (and
// gets no debug route for this), so the test serves monitor.Recovery on a
// real loopback server.
func TestPanicUnderConcurrentLoad(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	g := newTally(t, "panic-under-load")
	rep := &countingReporter{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ok", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") })
	var invoked atomic.Int64 // panicking handlers run (the transport may retry an aborted GET)
	mux.HandleFunc("GET /panic", func(w http.ResponseWriter, r *http.Request) {
		invoked.Add(1)
		panic("secret-panic-detail " + r.URL.RawQuery)
	})
	mux.HandleFunc("GET /panic-late", func(w http.ResponseWriter, r *http.Request) {
		invoked.Add(1)
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		panic("late panic")
	})
	mux.HandleFunc("GET /panic-nil", func(w http.ResponseWriter, r *http.Request) {
		invoked.Add(1)
		var m map[string]int
		m["x"]++
	})
	srv := httptest.NewUnstartedServer(monitor.Recover(rep).Handler(mux))
	srv.Config.ErrorLog = slogDiscard()
	srv.Start()
	defer srv.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	const workers, each = 32, 40
	var okN, panicN, lateN, transportErr atomic.Int64
	var mu sync.Mutex
	var failures []string
	fail := func(s string) { mu.Lock(); failures = append(failures, s); mu.Unlock() }
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				path := []string{"/ok", "/panic?token=abc", "/ok", "/panic-late", "/panic-nil"}[(w+i)%5]
				res, err := hc.Get(srv.URL + path)
				if err != nil {
					if path == "/panic-late" {
						lateN.Add(1) // aborted connection: the documented outcome
						continue
					}
					transportErr.Add(1)
					fail(fmt.Sprintf("%s: %v", path, err))
					continue
				}
				body, rerr := io.ReadAll(res.Body)
				res.Body.Close()
				switch path {
				case "/ok":
					okN.Add(1)
					if res.StatusCode != 200 || string(body) != "ok" {
						fail(fmt.Sprintf("/ok: %d %q", res.StatusCode, body))
					}
				case "/panic-late":
					lateN.Add(1)
					if rerr == nil && res.StatusCode == 200 && string(body) == "partial" {
						// The client must not see a clean, complete success.
						fail("/panic-late: read a complete response")
					}
				default:
					panicN.Add(1)
					if res.StatusCode != 500 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") ||
						bytes.Contains(body, []byte("secret-panic-detail")) || bytes.Contains(body, []byte("goroutine")) {
						fail(fmt.Sprintf("%s: %d %s %q", path, res.StatusCode, res.Header.Get("Content-Type"), body))
					}
				}
			}
		}()
	}
	wg.Wait()
	for _, f := range failures {
		g.check(false, "%s", f)
	}
	total := int64(workers * each)
	g.check(okN.Load()+panicN.Load()+lateN.Load()+transportErr.Load() == total, "requests accounted")
	g.check(rep.n.Load() == invoked.Load(), "reported panics %d, handlers that panicked %d", rep.n.Load(), invoked.Load())
	g.check(invoked.Load() >= panicN.Load()+lateN.Load(), "every panicking request ran: %d < %d", invoked.Load(), panicN.Load()+lateN.Load())
	res, err := hc.Get(srv.URL + "/ok")
	g.check(err == nil && res.StatusCode == 200, "server still serving after %d panics: %v", rep.n.Load(), err)
	if err == nil {
		res.Body.Close()
	}
	t.Logf("panic-under-load: %d requests (%d ok, %d panics before the response, %d after it started), %d panicking handler runs (aborted GETs retried by the client), %d reported", total, okN.Load(), panicN.Load(), lateN.Load(), invoked.Load(), rep.n.Load())
}

func slogDiscard() *log.Logger { return slog.NewLogLogger(slog.DiscardHandler, slog.LevelError) }

// auditRig is an auditor over a mux with one mutating route, on httptest.
type auditRig struct {
	auditor *audit.Auditor
	srv     *httptest.Server
	changes atomic.Int64 // how many times the mutating handler ran
	logs    *syncBuffer
}

func newAuditRig(t *testing.T, sink audit.Sink) *auditRig {
	rig := &auditRig{logs: &syncBuffer{}}
	a, err := audit.New(audit.Config{Sink: sink, Logger: slog.New(slog.NewJSONHandler(rig.logs, nil))})
	require.NoError(t, err)
	rig.auditor = a
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/tickets/{id}", func(w http.ResponseWriter, r *http.Request) {
		rig.changes.Add(1)
		w.WriteHeader(http.StatusCreated)
	})
	mux.HandleFunc("GET /api/tickets/{id}", func(w http.ResponseWriter, r *http.Request) {})
	rig.srv = httptest.NewServer(a.Handler(mux))
	t.Cleanup(rig.srv.Close)
	return rig
}

func (rig *auditRig) do(t *testing.T, method string) (int, string) {
	req, err := http.NewRequest(method, rig.srv.URL+"/api/tickets/7", nil)
	require.NoError(t, err)
	res, err := rig.srv.Client().Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	return res.StatusCode, res.Header.Get("Content-Type")
}

// TestAuditFullDisk: an audit file on a full disk gives an error wrapping
// audit.ErrDiskFull that names the file and the fix; the request whose
// record failed keeps its response, later mutating requests are refused
// with a problem+json 503 before any change, reads keep working, and the
// failure is logged and counted. /dev/full is the full disk; where the test
// may mount (root), a 64 KiB tmpfs filled to the last byte also shows that
// records acknowledged before the disk filled are all still there and that
// the trail recovers once space is freed.
func TestAuditFullDisk(t *testing.T) {
	g := newTally(t, "audit-full-disk")
	t.Run("dev-full", func(t *testing.T) {
		sink, err := audit.OpenFile("/dev/full", nil)
		if err != nil {
			g.check(errors.Is(err, audit.ErrDiskFull) && strings.Contains(err.Error(), "/dev/full"), "OpenFile(/dev/full): unclear error %v", err)
			t.Logf("OpenFile(/dev/full) refused at open: %v", err)
			return
		}
		defer sink.Close()
		rig := newAuditRig(t, sink)
		st, _ := rig.do(t, "POST")
		g.check(st == http.StatusServiceUnavailable, "the first change is answered 503, never 2xx without its record: %d", st)
		g.check(rig.auditor.Failures() == 1 && !rig.auditor.Healthy(), "failure counted: %d", rig.auditor.Failures())
		g.check(strings.Contains(rig.logs.String(), "/dev/full") && strings.Contains(rig.logs.String(), audit.ErrDiskFull.Error()),
			"the log names the file and the cause: %s", rig.logs.String())
		for i := 0; i < 5; i++ {
			st, ct := rig.do(t, "POST")
			g.check(st == http.StatusServiceUnavailable && strings.HasPrefix(ct, "application/problem+json"), "mutating request while the trail is broken: %d %s", st, ct)
		}
		g.check(rig.changes.Load() == 1, "no change happened without a record: %d changes", rig.changes.Load())
		st, _ = rig.do(t, "GET")
		g.check(st == http.StatusOK, "reads keep working: %d", st)
		err = rig.auditor.Event(httptest.NewRequest("GET", "/x", nil), audit.Event{Action: "export"})
		g.check(errors.Is(err, audit.ErrDiskFull), "Event returns the sink error: %v", err)
	})
	t.Run("tmpfs-filled", func(t *testing.T) {
		dir := mountTmpfs(t, "size=64k")
		path := filepath.Join(dir, "audit.jsonl")
		sink, err := audit.OpenFile(path, nil)
		require.NoError(t, err)
		defer sink.Close()
		rig := newAuditRig(t, sink)
		acked := 0
		for i := 0; i < 5; i++ {
			st, _ := rig.do(t, "POST")
			require.Equal(t, http.StatusCreated, st)
			acked++
		}
		// Fill the disk to the last block.
		filler := filepath.Join(dir, "filler")
		f, err := os.Create(filler)
		require.NoError(t, err)
		_, _ = f.Write(make([]byte, 1<<20))
		_ = f.Close()
		// Records fill the file's last page first; write until one fails.
		var st int
		for i := 0; i < 200 && rig.auditor.Healthy(); i++ {
			st, _ = rig.do(t, "POST")
			if rig.auditor.Healthy() {
				acked++
			}
		}
		g.check(st == http.StatusServiceUnavailable, "response of the request whose record failed (never 2xx without a record): %d", st)
		g.check(!rig.auditor.Healthy(), "the trail notices the full disk")
		g.check(strings.Contains(rig.logs.String(), audit.ErrDiskFull.Error()) && strings.Contains(rig.logs.String(), path), "log: %s", rig.logs.String())
		st, _ = rig.do(t, "POST")
		g.check(st == http.StatusServiceUnavailable, "refused while full: %d", st)
		// Free space: the next refused request records itself, the trail is
		// healthy again, and the one after goes through.
		require.NoError(t, os.Remove(filler))
		st, _ = rig.do(t, "POST")
		g.check(st == http.StatusServiceUnavailable, "the request that finds the disk back is still refused (it records the refusal): %d", st)
		g.check(rig.auditor.Healthy(), "healthy again once space is freed")
		st, _ = rig.do(t, "POST")
		g.check(st == http.StatusCreated, "served again: %d", st)
		acked++
		recs := readRecords(t, path)
		success := 0
		for _, r := range recs {
			if r.Outcome == audit.OutcomeSuccess {
				success++
			}
		}
		g.check(success == acked, "every acknowledged record is in the file: %d successes for %d acknowledged", success, acked)
		t.Logf("tmpfs: %d acknowledged records kept, %d records in all, %d failures counted", acked, len(recs), rig.auditor.Failures())
	})
}

// TestAuditReadOnlyDisk: the audit file turns read-only while serving (the
// immutable attribute, chattr +i, which refuses writes on the open file
// like a read-only remount would; a file system with an open writer cannot
// be remounted read-only): the error wraps audit.ErrReadOnly and names the
// file and fix, mutating requests are refused with 503 until the file
// system is writable again, and no acknowledged record is lost.
func TestAuditReadOnlyDisk(t *testing.T) {
	g := newTally(t, "audit-read-only")
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	sink, err := audit.OpenFile(path, nil)
	require.NoError(t, err)
	defer sink.Close()
	rig := newAuditRig(t, sink)
	for i := 0; i < 3; i++ {
		st, _ := rig.do(t, "POST")
		require.Equal(t, http.StatusCreated, st)
	}
	immutable(t, path, true)
	st, _ := rig.do(t, "POST")
	g.check(st == http.StatusServiceUnavailable, "response of the request whose record failed (never 2xx without a record): %d", st)
	g.check(strings.Contains(rig.logs.String(), audit.ErrReadOnly.Error()) && strings.Contains(rig.logs.String(), path), "log names the cause and file: %s", rig.logs.String())
	for i := 0; i < 3; i++ {
		st, ct := rig.do(t, "POST")
		g.check(st == http.StatusServiceUnavailable && strings.HasPrefix(ct, "application/problem+json"), "refused while read-only: %d %s", st, ct)
	}
	err = rig.auditor.Event(httptest.NewRequest("GET", "/x", nil), audit.Event{Action: "export"})
	g.check(errors.Is(err, audit.ErrReadOnly), "Event returns ErrReadOnly: %v", err)
	g.check(rig.changes.Load() == 4, "no change without a record: %d", rig.changes.Load())
	immutable(t, path, false)
	rig.do(t, "POST") // finds the disk back
	st, _ = rig.do(t, "POST")
	g.check(st == http.StatusCreated, "served again once writable: %d", st)
	success := 0
	for _, r := range readRecords(t, path) {
		if r.Outcome == audit.OutcomeSuccess {
			success++
		}
	}
	g.check(success == 4, "acknowledged records kept: %d of 4", success)
}

func readRecords(t *testing.T, path string) []audit.Record {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	recs, err := audit.ReadAll(f)
	if err != nil {
		raw, _ := os.ReadFile(path)
		t.Logf("audit.ReadAll(%s): %v\n%s", path, err, tail(string(raw), 1500))
	}
	return recs
}

// mountTmpfs mounts a small tmpfs for the test, or skips when this process
// may not mount (not root, no CAP_SYS_ADMIN): the /dev/full case still runs.
func mountTmpfs(t *testing.T, opts string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", opts, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dir
}

// immutable sets or clears the file's immutable attribute, or skips when
// this process may not (not root, or a file system without attributes).
func immutable(t *testing.T, path string, on bool) {
	t.Helper()
	flag := "-i"
	if on {
		flag = "+i"
	}
	if out, err := exec.Command("chattr", flag, path).CombinedOutput(); err != nil {
		if on {
			t.Skipf("cannot make the audit file immutable here (needs root and chattr): %v %s", err, out)
		}
		t.Fatalf("chattr -i %s: %v %s", path, err, out)
	}
	if on {
		t.Cleanup(func() { _ = exec.Command("chattr", "-i", path).Run() })
	}
}

// TestPortalAuditDiskFull: the portal process with its audit file on a
// small tmpfs that fills up while a client creates tickets. Every answer is
// 201 (recorded, or the one whose record failed) or the documented 503
// refusal — never another 5xx; reads and /healthz keep working; once space
// is freed the portal accepts changes again; every ticket acknowledged
// with a record before the disk filled has its record in the file.
func TestPortalAuditDiskFull(t *testing.T) {
	dir := mountTmpfs(t, "size=64k")
	path := filepath.Join(dir, "audit.jsonl")
	p := startPortal(t, portalOpts{audit: path})
	g := newTally(t, "portal-audit-full")
	alice := p.signedIn(t, aliceEmail)
	agent := p.signedIn(t, agentEmail)
	create := func(i int) *response {
		return alice.must(t, "POST", "/api/clients/client-a/tickets", map[string]string{"subject": fmt.Sprintf("audit fault %d", i)})
	}
	created := 0
	for i := 0; i < 5; i++ {
		res := create(i)
		require.Equal(t, http.StatusCreated, res.status, "%s", res)
		created++
	}
	filler := filepath.Join(dir, "filler")
	fl, err := os.Create(filler)
	require.NoError(t, err)
	_, _ = fl.Write(make([]byte, 1<<20))
	_ = fl.Close()
	refused := 0
	for i := 0; i < 300 && refused < 3; i++ {
		res := create(100 + i)
		switch res.status {
		case http.StatusCreated:
			g.check(refused == 0, "a change was accepted after the trail reported broken: %s", res)
			created++
		case http.StatusServiceUnavailable:
			refused++
			g.check(strings.HasPrefix(res.header.Get("Content-Type"), "application/problem+json"), "503 is problem+json: %v", res.header)
		default:
			g.check(false, "answer while the audit disk fills: %s", res)
		}
	}
	g.check(refused == 3, "the portal never refused a change while its audit disk was full (%d created)", created)
	for _, path := range []string{"/healthz", "/api/clients/client-a/tickets", "/api/me"} {
		res := agent.must(t, "GET", path, nil)
		g.check(res.status == http.StatusOK, "GET %s while the audit disk is full: %s", path, res)
	}
	ready := p.client().must(t, "GET", "/readyz", nil)
	t.Logf("portal-audit-full: /readyz while the audit disk is full: %s", ready)
	require.NoError(t, os.Remove(filler))
	recovered := false
	for i := 0; i < 3 && !recovered; i++ {
		res := create(1000 + i)
		recovered = res.status == http.StatusCreated
		g.check(res.status == http.StatusCreated || res.status == http.StatusServiceUnavailable, "after freeing space: %s", res)
	}
	g.check(recovered, "the portal did not accept changes again once space was freed")
	// Every acknowledged ticket creation (201) has a success record, except
	// at most the one whose record hit the full disk.
	recs := readRecords(t, path)
	success := 0
	for _, r := range recs {
		if r.Route == "POST /api/clients/{id}/tickets" && r.Outcome == audit.OutcomeSuccess {
			success++
		}
	}
	acked := created
	if recovered {
		acked++
	}
	g.check(success >= acked-1, "audit records for ticket creations: %d, acknowledged creations %d", success, acked)
	g.check(p.alive(), "portal died")
	t.Logf("portal-audit-full: %d tickets created (%d with a record), %d refused with 503, recovered=%v", acked, success, refused, recovered)
}
