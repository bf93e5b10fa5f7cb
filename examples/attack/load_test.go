package attack_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// rssKiB reads a process's resident set (VmRSS) and peak (VmHWM) in KiB.
func rssKiB(pid int) (rss, hwm int64) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1, -1
	}
	for _, line := range strings.Split(string(raw), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = v
		case "VmHWM:":
			hwm = v
		}
	}
	return rss, hwm
}

// TestLoadSpoofedClientKeys: the portal under bounded concurrent load on
// loopback with 100,000 distinct spoofed client keys — every request
// carries a new X-Forwarded-For / Forwarded address, and the limited
// routes a new account name — from 16 real loopback addresses. Memory stays
// bounded (RSS before/after from /proc), no 5xx, p95 recorded. Bounded to
// 100,000 requests and 55 s; skipped under -short.
func TestLoadSpoofedClientKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("load test: 100,000 requests for up to 55 s; skipped under -short")
	}
	p := startPortal(t)
	// Without login limits every login would cost a bcrypt comparison and
	// the load would measure bcrypt, not the kit.
	require.NotZero(t, loginLimitAfter(t, p.clientFrom(loopbackIP(41, 0)), 60, nil), "the portal answers no 429 to failed logins")
	g := newTally(t, "load")
	const (
		total    = 100_000
		workers  = 32
		sources  = 16
		budget   = 55 * time.Second
		rssSlack = 96 << 10 // KiB the resident set may grow
	)
	clients := make([]*http.Client, sources)
	for i := range clients {
		c := p.clientFrom(loopbackIP(40, i))
		c.hc.Jar = nil
		clients[i] = c.hc
	}
	// Warm up: the routes once each, then settle before reading RSS.
	for _, c := range clients[:4] {
		for _, path := range []string{"/healthz", "/api/me"} {
			if res, err := c.Get(p.base + path); err == nil {
				res.Body.Close()
			}
		}
	}
	time.Sleep(300 * time.Millisecond)
	rssBefore, _ := rssKiB(p.pid())

	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	var next atomic.Int64
	var n5xx, nErr, n429, n2xx, n4xx atomic.Int64
	durs := make([]time.Duration, total)
	var firstErr sync.Once
	var errText string
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= total || ctx.Err() != nil {
					return
				}
				spoof := net.IPv4(10, byte(i>>16), byte(i>>8), byte(i)).String()
				var req *http.Request
				switch i % 4 {
				case 0, 1: // login for a new account name: the limits' key flood
					body := fmt.Sprintf(`{"email":"flood-%d@acme.test","password":"wrong-password-1"}`, i)
					req, _ = http.NewRequestWithContext(ctx, "POST", p.base+"/api/login", strings.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
				case 2: // password reset for a new account name
					body := fmt.Sprintf(`{"email":"flood-%d@acme.test"}`, i)
					req, _ = http.NewRequestWithContext(ctx, "POST", p.base+"/api/password-reset", strings.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
				default:
					req, _ = http.NewRequestWithContext(ctx, "GET", p.base+"/api/me", nil)
				}
				req.Header.Set("X-Forwarded-For", spoof)
				req.Header.Set("X-Real-IP", spoof)
				req.Header.Set("Forwarded", "for="+spoof)
				t0 := time.Now()
				res, err := clients[int(i)%sources].Do(req)
				if err != nil {
					if ctx.Err() == nil {
						nErr.Add(1)
						firstErr.Do(func() { errText = err.Error() })
					}
					continue
				}
				_, _ = drain(res)
				durs[i] = time.Since(t0)
				switch {
				case res.StatusCode >= 500:
					n5xx.Add(1)
				case res.StatusCode == http.StatusTooManyRequests:
					n429.Add(1)
				case res.StatusCode >= 400:
					n4xx.Add(1)
				default:
					n2xx.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	time.Sleep(300 * time.Millisecond)
	rssAfter, hwm := rssKiB(p.pid())

	done := n5xx.Load() + n429.Load() + n4xx.Load() + n2xx.Load()
	got := slices.DeleteFunc(slices.Clone(durs), func(d time.Duration) bool { return d == 0 })
	slices.Sort(got)
	pct := func(q float64) time.Duration {
		if len(got) == 0 {
			return 0
		}
		return got[min(len(got)-1, int(q*float64(len(got))))]
	}
	t.Logf("load: %d requests answered of %d in %v (%.0f req/s), %d workers, %d source addresses, %d distinct spoofed keys",
		done, total, elapsed.Round(time.Millisecond), float64(done)/elapsed.Seconds(), workers, sources, next.Load())
	t.Logf("load: status 2xx %d, 429 %d, other 4xx %d, 5xx %d, transport errors %d (first: %s)",
		n2xx.Load(), n429.Load(), n4xx.Load(), n5xx.Load(), nErr.Load(), errText)
	t.Logf("load: latency p50 %v, p95 %v, p99 %v, max %v", pct(0.50), pct(0.95), pct(0.99), pct(1))
	t.Logf("load: portal RSS before %d KiB, after %d KiB (growth %d KiB), peak %d KiB", rssBefore, rssAfter, rssAfter-rssBefore, hwm)
	g.check(n5xx.Load() == 0, "%d responses were 5xx", n5xx.Load())
	g.check(nErr.Load() == 0, "%d transport errors (first: %s)", nErr.Load(), errText)
	g.check(p.alive(), "portal died under load")
	g.check(rssBefore > 0 && rssAfter-rssBefore < rssSlack, "RSS grew by %d KiB (before %d, after %d), bound %d KiB", rssAfter-rssBefore, rssBefore, rssAfter, rssSlack)
	g.check(done >= total/10, "only %d requests answered in %v: the portal is not keeping up", done, budget)
	if done < total {
		t.Logf("load: the %v budget ended after %d of %d requests (shared CPU)", budget, done, total)
	}
	res, err := p.client().get("/healthz")
	g.check(err == nil && res.status == http.StatusOK, "healthz after the load: %v %v", res, err)
}

// drain drains and closes a response body so the connection is reused.
func drain(res *http.Response) (int64, error) {
	defer res.Body.Close()
	var n int64
	buf := make([]byte, 4096)
	for {
		m, err := res.Body.Read(buf)
		n += int64(m)
		if err != nil {
			return n, nil
		}
	}
}
