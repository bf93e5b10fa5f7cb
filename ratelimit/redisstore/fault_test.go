package redisstore_test

// Fault test of the attack suite (issue 13): Redis stopped, hung and
// restarted under concurrent load. It lives here, not in examples/attack,
// because this module is where go-redis is a dependency.

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/time/rate"

	"github.com/launchready/launchready/ratelimit"
	"github.com/launchready/launchready/ratelimit/redisstore"
)

// faultRedis is a redis-server that can be killed, paused and started
// again on the same port.
type faultRedis struct {
	t    *testing.T
	port int
	cmd  *exec.Cmd
	done chan struct{}
}

func newFaultRedis(t *testing.T) *faultRedis {
	t.Helper()
	if _, err := os.Stat(redisServer); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing; CI must install redis-server", redisServer)
		}
		t.Skipf("%s is missing; install redis-server to run the Redis fault test", redisServer)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	f := &faultRedis{t: t, port: ln.Addr().(*net.TCPAddr).Port}
	require.NoError(t, ln.Close())
	f.start()
	t.Cleanup(f.kill)
	return f
}

func (f *faultRedis) addr() string { return fmt.Sprintf("127.0.0.1:%d", f.port) }

func (f *faultRedis) start() {
	f.t.Helper()
	f.cmd = exec.Command(redisServer, "--port", fmt.Sprint(f.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--loglevel", "warning")
	require.NoError(f.t, f.cmd.Start())
	done := make(chan struct{})
	f.done = done
	cmd := f.cmd
	go func() { _ = cmd.Wait(); close(done) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", f.addr(), time.Second)
		if err == nil {
			_ = c.Close()
			return
		}
		require.True(f.t, time.Now().Before(deadline), "redis-server did not listen within 20s")
		time.Sleep(20 * time.Millisecond)
	}
}

func (f *faultRedis) kill() {
	if f.cmd == nil {
		return
	}
	_ = f.cmd.Process.Signal(syscall.SIGCONT)
	_ = f.cmd.Process.Kill()
	<-f.done
	f.cmd = nil
}

func (f *faultRedis) signal(s syscall.Signal) { require.NoError(f.t, f.cmd.Process.Signal(s)) }

// phaseCounts counts answers per status during one phase.
type phaseCounts struct {
	ok, limited, unavailable, other atomic.Int64
	slowest                         atomic.Int64 // ns
}

func (c *phaseCounts) add(code int, d time.Duration) {
	switch code {
	case http.StatusOK:
		c.ok.Add(1)
	case http.StatusTooManyRequests:
		c.limited.Add(1)
	case http.StatusServiceUnavailable:
		c.unavailable.Add(1)
	default:
		c.other.Add(1)
	}
	for {
		cur := c.slowest.Load()
		if int64(d) <= cur || c.slowest.CompareAndSwap(cur, int64(d)) {
			return
		}
	}
}

func (c *phaseCounts) String() string {
	return fmt.Sprintf("200=%d 429=%d 503=%d other=%d slowest=%v", c.ok.Load(), c.limited.Load(), c.unavailable.Load(), c.other.Load(), time.Duration(c.slowest.Load()))
}

// TestRedisStoppedAndRestartedUnderLoad: with concurrent traffic on a
// fail-closed auth limit (login) and a fail-open limit (upload), Redis is
// killed, started again on the same port (empty: the Lua script must be
// loaded again), paused (SIGSTOP: a hung server) and resumed. While Redis
// is gone, login answers 503 and upload 200, every decision within the
// store's timeout; once Redis is back both answer 200 again; no answer is
// ever another status; no goroutine leaks once the client is closed.
func TestRedisStoppedAndRestartedUnderLoad(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv := newFaultRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.addr(), MaxRetries: -1, DialTimeout: 200 * time.Millisecond,
		ReadTimeout: 200 * time.Millisecond, WriteTimeout: 200 * time.Millisecond, PoolSize: 16})
	const timeout = 150 * time.Millisecond
	store, err := redisstore.New(redisstore.Config{Client: rdb, Timeout: timeout})
	require.NoError(t, err)
	lim, err := ratelimit.New(ratelimit.Config{Store: store})
	require.NoError(t, err)
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	generous := ratelimit.Policy{Name: "fault-login", Rate: rate.Every(time.Millisecond), Burst: 1_000_000}
	login := lim.Limit(ratelimit.KindLogin, generous, ok, ratelimit.ByIP())
	upload := lim.Limit(ratelimit.KindUpload, ratelimit.Policy{Name: "fault-upload", Rate: rate.Every(time.Millisecond), Burst: 1_000_000}, ok, ratelimit.ByIP())

	var phase atomic.Pointer[string]
	counts := map[string]*[2]phaseCounts{}
	var mu sync.Mutex
	setPhase := func(name string) *[2]phaseCounts {
		mu.Lock()
		defer mu.Unlock()
		c := &[2]phaseCounts{}
		counts[name] = c
		phase.Store(&name)
		return c
	}
	cur := setPhase("up")
	var curP atomic.Pointer[[2]phaseCounts]
	curP.Store(cur)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var attempts, boundary atomic.Int64
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				which := i % 2
				h := []http.Handler{login, upload}[which]
				r := httptest.NewRequest(http.MethodPost, "/api/login", nil)
				r.RemoteAddr = fmt.Sprintf("198.51.100.%d:1234", (w*31+i)%250+1)
				rec := httptest.NewRecorder()
				c0 := curP.Load()
				t0 := time.Now()
				h.ServeHTTP(rec, r)
				if curP.Load() != c0 {
					boundary.Add(1) // straddled a phase change: counted in neither
				} else {
					c0[which].add(rec.Code, time.Since(t0))
				}
				attempts.Add(1)
				time.Sleep(2 * time.Millisecond) // bounded load
			}
		}()
	}
	// Each phase starts before its action, so a request counted in a
	// phase ran entirely under it.
	move := func(name string, action func(), d time.Duration) *[2]phaseCounts {
		c := setPhase(name)
		curP.Store(c)
		action()
		time.Sleep(d)
		return c
	}
	nothing := func() {}
	time.Sleep(700 * time.Millisecond)
	move("transition", srv.kill, 0)
	down := move("killed", nothing, 1500*time.Millisecond)
	move("restarting", srv.start, 1500*time.Millisecond) // the pool reconnects; NOSCRIPT → script reloaded
	back := move("restarted", nothing, time.Second)
	move("transition", func() { srv.signal(syscall.SIGSTOP) }, 0)
	hung := move("paused", nothing, 1500*time.Millisecond)
	move("resuming", func() { srv.signal(syscall.SIGCONT) }, time.Second)
	resumed := move("resumed", nothing, time.Second)
	close(stop)
	wg.Wait()

	failures := 0
	check := func(ok bool, format string, args ...any) {
		if !ok {
			failures++
			t.Errorf(format, args...)
		}
	}
	for _, name := range []string{"up", "killed", "restarting", "restarted", "paused", "resuming", "resumed"} {
		c := counts[name]
		t.Logf("%-10s login: %s | upload: %s", name, &c[0], &c[1])
		check(c[0].other.Load() == 0 && c[1].other.Load() == 0 && c[0].limited.Load() == 0 && c[1].limited.Load() == 0,
			"%s: unexpected statuses", name)
		check(c[1].unavailable.Load() == 0, "%s: the fail-open upload limit answered 503", name)
	}
	up := counts["up"]
	check(up[0].ok.Load() > 0 && up[0].unavailable.Load() == 0, "up: login %s", &up[0])
	for _, c := range []*[2]phaseCounts{down, hung} {
		check(c[0].ok.Load() == 0 && c[0].unavailable.Load() > 0, "Redis gone: login must fail closed: %s", &c[0])
		check(c[1].ok.Load() > 0, "Redis gone: upload must fail open: %s", &c[1])
	}
	for _, c := range []*[2]phaseCounts{back, resumed} {
		check(c[0].unavailable.Load() == 0 && c[0].ok.Load() > 0, "Redis back: login recovered: %s", &c[0])
	}
	// Each decision is bounded by the store timeout (plus scheduling slack
	// on a shared machine), even against a hung server.
	check(time.Duration(hung[0].slowest.Load()) < timeout+time.Second, "hung Redis held a request for %v", time.Duration(hung[0].slowest.Load()))
	t.Logf("TALLY redis-fault: attempts=%d (%d straddled a phase change) failures=%d", attempts.Load(), boundary.Load(), failures)
	require.NoError(t, rdb.Close())
	srv.kill() // its Wait goroutine is the test's own, not a leak
}
