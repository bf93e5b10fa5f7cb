package redisstore_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/launchready/launchready/ratelimit"
	"github.com/launchready/launchready/ratelimit/redisstore"
)

const redisServer = "/usr/bin/redis-server"

// redisProc is a redis-server started by the test on a free loopback port.
type redisProc struct {
	Addr string
	cmd  *exec.Cmd
	once sync.Once
}

// Kill stops the server (idempotent).
func (p *redisProc) Kill() {
	p.once.Do(func() {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	})
}

func startRedis(t testing.TB) *redisProc {
	t.Helper()
	if _, err := os.Stat(redisServer); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing; CI must install Debian's redis-server", redisServer)
		}
		t.Skipf("%s is missing; install redis-server to run the Redis store tests", redisServer)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	cmd := exec.Command(redisServer, "--port", fmt.Sprint(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--loglevel", "notice")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	p := &redisProc{Addr: fmt.Sprintf("127.0.0.1:%d", port), cmd: cmd}
	t.Cleanup(p.Kill)
	// Wait for the readiness line instead of sleeping and polling.
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		ok := false
		for sc.Scan() {
			if !ok && strings.Contains(sc.Text(), "Ready to accept connections") {
				ok = true
				ready <- true
			}
		}
		if !ok {
			ready <- false
		}
	}()
	select {
	case ok := <-ready:
		require.True(t, ok, "redis-server exited before it was ready (port %d taken?)", port)
	case <-time.After(20 * time.Second):
		t.Fatal("redis-server did not become ready in 20s")
	}
	return p
}

func newStore(t testing.TB, addr string) *redisstore.Store {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = rdb.Close() })
	s, err := redisstore.New(redisstore.Config{Client: rdb})
	require.NoError(t, err)
	require.NoError(t, s.Ping(context.Background()))
	return s
}

type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Now().Truncate(time.Second).UnixNano())
	return c
}
func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func serve(h http.Handler, remote string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/api/login", nil)
	r.RemoteAddr = remote
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

var ok = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})

func TestGCRAMatchesTheMemoryStore(t *testing.T) {
	srv := startRedis(t)
	rs := newStore(t, srv.Addr)
	ms, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
	require.NoError(t, err)
	ctx := context.Background()
	p := ratelimit.Policy{Name: "match", Rate: rate.Every(2 * time.Second), Burst: 3}
	k := ratelimit.Key{Kind: ratelimit.KeyAccount, Name: "alice@example.com"}
	now := time.Unix(1_800_000_000, 0)
	steps := []struct {
		advance time.Duration
		n       int
	}{{0, 1}, {0, 1}, {0, 1}, {0, 1}, {500 * time.Millisecond, 0}, {1500 * time.Millisecond, 1}, {0, 1}, {10 * time.Second, 1}}
	for i, st := range steps {
		now = now.Add(st.advance)
		want, err := ms.Take(ctx, p, k, st.n, now)
		require.NoError(t, err)
		got, err := rs.Take(ctx, p, k, st.n, now)
		require.NoError(t, err)
		assert.Equal(t, want, got, "step %d", i)
	}
	require.NoError(t, rs.Reset(ctx, p, k))
	d, err := rs.Take(ctx, p, k, 1, now)
	require.NoError(t, err)
	assert.Equal(t, 2, d.Remaining)
}

func TestTwoReplicasShareOneLimit(t *testing.T) {
	srv := startRedis(t)
	clk := newClock()
	var replicas []*ratelimit.Handler
	for range 2 {
		l, err := ratelimit.New(ratelimit.Config{Store: newStore(t, srv.Addr), Now: clk.Now})
		require.NoError(t, err)
		replicas = append(replicas, l.Login(ok, ratelimit.ByIP()))
	}
	assert.True(t, replicas[0].StoreShared())
	allowed := 0
	for i := range 2 * ratelimit.LoginPolicy.Burst {
		if serve(replicas[i%2], "203.0.113.9:1").Code == http.StatusOK {
			allowed++
		}
	}
	assert.Equal(t, ratelimit.LoginPolicy.Burst, allowed, "the load balancer alternating replicas does not double the budget")
	w := serve(replicas[1], "203.0.113.9:1")
	assert.Equal(t, http.StatusTooManyRequests, w.Code)
	assert.Equal(t, "30", w.Header().Get("Retry-After"))
	clk.Advance(30 * time.Second)
	assert.Equal(t, http.StatusOK, serve(replicas[0], "203.0.113.9:1").Code)
}

func TestConcurrentReplicasNeverExceedTheBurst(t *testing.T) {
	srv := startRedis(t)
	clk := newClock()
	var served atomic.Int64
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { served.Add(1) })
	p := ratelimit.Policy{Name: "conc", Rate: rate.Every(time.Hour), Burst: 25}
	var wg sync.WaitGroup
	for range 4 {
		l, err := ratelimit.New(ratelimit.Config{Store: newStore(t, srv.Addr), Now: clk.Now})
		require.NoError(t, err)
		h := l.Limit(ratelimit.KindCustom, p, next, ratelimit.ByRoute())
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				serve(h, "203.0.113.1:1")
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int64(25), served.Load())
}

func TestRedisKilledMidTestAppliesTheFailMode(t *testing.T) {
	srv := startRedis(t)
	clk := newClock()
	store := newStore(t, srv.Addr)
	def, err := ratelimit.New(ratelimit.Config{Store: store, Now: clk.Now})
	require.NoError(t, err)
	open, err := ratelimit.New(ratelimit.Config{Store: store, Now: clk.Now, FailMode: ratelimit.FailOpen})
	require.NoError(t, err)
	login := def.Login(ok, ratelimit.ByIP())
	export := def.Export(ok, ratelimit.ByIP())
	openLogin := open.Login(ok, ratelimit.ByIP())
	require.Equal(t, http.StatusOK, serve(login, "203.0.113.1:1").Code)

	srv.Kill()

	w := serve(login, "203.0.113.1:1")
	assert.Equal(t, http.StatusServiceUnavailable, w.Code, "login fails closed by default")
	assert.Equal(t, "1", w.Header().Get("Retry-After"))
	assert.NotContains(t, w.Body.String(), "127.0.0.1", "no internals in the response")
	assert.Equal(t, http.StatusOK, serve(export, "203.0.113.1:1").Code, "export fails open by default")
	assert.Equal(t, http.StatusOK, serve(openLogin, "203.0.113.1:1").Code, "explicit FailOpen")

	_, err = store.Take(context.Background(), ratelimit.LoginPolicy, ratelimit.Key{Kind: ratelimit.KeyRoute, Name: "x"}, 1, clk.Now())
	assert.True(t, errors.Is(err, redisstore.ErrUnavailable), "%v", err)
	assert.Error(t, store.Ping(context.Background()))
}

func TestConfigErrors(t *testing.T) {
	_, err := redisstore.New(redisstore.Config{})
	assert.ErrorContains(t, err, "redisstore: Config.Client is nil")
	_, err = redisstore.New(redisstore.Config{Client: redis.NewClient(&redis.Options{}), Timeout: -1})
	assert.ErrorContains(t, err, "redisstore: Config.Timeout")
}
