package portalapp_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/examples/portalapp"
	"github.com/launchready/launchready/monitor"
	"github.com/launchready/launchready/readiness"
)

// Issue 25: the portal logging to a file queues its access-log lines, and
// a graceful shutdown — the server's Shutdown under concurrent requests,
// then Portal.Close — loses none: every answered request has its line.
func TestGracefulShutdownLosesNoAccessLogLine(t *testing.T) {
	logFile, err := os.Create(filepath.Join(t.TempDir(), "portal.log"))
	require.NoError(t, err)
	defer logFile.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p, err := portalapp.Build(portalapp.Options{Env: readiness.Development, Addr: ln.Addr().String(),
		Log: logFile, OutboxDir: t.TempDir(), AuditFile: filepath.Join(t.TempDir(), "audit.jsonl")})
	require.NoError(t, err)
	require.NotNil(t, p.AccessLogQueue, "a file log is written through the queue")
	p.Health.SetBoot(nil)
	go func() { _ = p.Server.Serve(ln) }()

	tr := &http.Transport{MaxIdleConnsPerHost: 8}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	url := "http://" + ln.Addr().String() + "/healthz"
	var answered atomic.Int64
	progress := make(chan struct{}, 1024)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				resp, err := client.Get(url)
				if err != nil {
					return // shut down
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
	require.NoError(t, p.Server.Shutdown(ctx))
	wg.Wait()
	require.NoError(t, p.Close())

	_, err = logFile.Seek(0, io.SeekStart)
	require.NoError(t, err)
	lines := 0
	sc := bufio.NewScanner(logFile)
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), "%s", sc.Bytes())
		if m["msg"] == "http request" && m["route"] == "GET /healthz" {
			lines++
		}
	}
	require.NoError(t, sc.Err())
	assert.GreaterOrEqual(t, answered.Load(), int64(200))
	assert.GreaterOrEqual(t, int64(lines), answered.Load(), "every answered request has its access-log line")
	assert.Zero(t, p.AccessLogQueue.Dropped())
	assert.Zero(t, p.Counters.Value("", monitor.LogDropped))
}

// A test's in-memory log (read right after each request, as the log
// canary probe reads it) is written directly, not queued.
func TestInMemoryLogIsNotQueued(t *testing.T) {
	h := startPortal(t)
	assert.Nil(t, h.portal.AccessLogQueue)
}
