package ratelimit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/launchready/launchready/ratelimit"
)

// clock is a fake clock safe for concurrent use.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }
func okHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})
}
func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestRetryAfterIsTheRealWait(t *testing.T) {
	clk := newClock()
	l, err := ratelimit.New(ratelimit.Config{Now: clk.Now})
	require.NoError(t, err)
	h := l.Login(okHandler(), ratelimit.ByIP())
	p := ratelimit.LoginPolicy
	for i := range p.Burst {
		w := serve(h, req("203.0.113.9:1"))
		require.Equal(t, http.StatusOK, w.Code, "attempt %d", i)
		assert.Equal(t, fmt.Sprintf(`"login";r=%d;t=%d`, p.Burst-1-i, 30*(i+1)), w.Header().Get("RateLimit"))
		assert.Equal(t, `"login";q=10;w=300`, w.Header().Get("RateLimit-Policy"))
	}
	clk.Advance(12 * time.Second)
	w := serve(h, req("203.0.113.9:1"))
	require.Equal(t, http.StatusTooManyRequests, w.Code)
	assert.Equal(t, "18", w.Header().Get("Retry-After"), "30 s interval, 12 s elapsed")
	assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
	assert.NotContains(t, w.Body.String(), "203.0.113", "never echo the client address")
	var prob map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &prob))
	assert.Equal(t, float64(429), prob["status"])

	retry, _ := strconv.Atoi(w.Header().Get("Retry-After"))
	clk.Advance(time.Duration(retry)*time.Second - time.Nanosecond)
	assert.Equal(t, http.StatusTooManyRequests, serve(h, req("203.0.113.9:1")).Code, "one nanosecond early")
	clk.Advance(time.Nanosecond)
	assert.Equal(t, http.StatusOK, serve(h, req("203.0.113.9:1")).Code, "exactly on time")
	assert.Equal(t, http.StatusOK, serve(h, req("203.0.113.10:1")).Code, "another client has its own budget")
}

func TestSpoofedHeadersDoNotChangeTheKey(t *testing.T) {
	clk := newClock()
	l, err := ratelimit.New(ratelimit.Config{Now: clk.Now, TrustedProxies: []string{"10.0.0.0/8"}})
	require.NoError(t, err)
	h := l.PasswordReset(okHandler(), ratelimit.ByIP())
	for i := range ratelimit.PasswordResetPolicy.Burst {
		require.Equal(t, http.StatusOK, serve(h, req("203.0.113.9:1", "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i))).Code)
	}
	for _, hdr := range []string{"X-Forwarded-For", "X-Real-IP", "Forwarded"} {
		v := "198.51.100.200"
		if hdr == "Forwarded" {
			v = "for=" + v
		}
		assert.Equal(t, http.StatusTooManyRequests, serve(h, req("203.0.113.9:1", hdr, v)).Code, hdr)
	}
	// Behind the trusted proxy, an attacker-supplied leftmost entry is ignored.
	for range ratelimit.PasswordResetPolicy.Burst {
		serve(h, req("10.0.0.1:1", "X-Forwarded-For", "203.0.113.50"))
	}
	assert.Equal(t, http.StatusTooManyRequests, serve(h, req("10.0.0.1:1", "X-Forwarded-For", "1.2.3.4, 203.0.113.50")).Code)
	// An unparseable entry from the proxy fails closed with 400, no echo.
	w := serve(h, req("10.0.0.1:1", "X-Forwarded-For", "<script>"))
	assert.Equal(t, http.StatusBadRequest, w.Code)
	assert.NotContains(t, w.Body.String(), "script")
}

func TestIPv6RotationSharesABucket(t *testing.T) {
	clk := newClock()
	l, err := ratelimit.New(ratelimit.Config{Now: clk.Now})
	require.NoError(t, err)
	h := l.Export(okHandler(), ratelimit.ByIP())
	for i := range ratelimit.ExportPolicy.Burst {
		require.Equal(t, http.StatusOK, serve(h, req(fmt.Sprintf("[2001:db8:0:1::%x]:1", i+1))).Code)
	}
	assert.Equal(t, http.StatusTooManyRequests, serve(h, req("[2001:db8:0:1:dead:beef:0:1]:1")).Code)
	assert.Equal(t, http.StatusOK, serve(h, req("[2001:db8:0:2::1]:1")).Code)
}

func TestAccountKeyIsNormalised(t *testing.T) {
	clk := newClock()
	l, err := ratelimit.New(ratelimit.Config{Now: clk.Now})
	require.NoError(t, err)
	acct := func(r *http.Request) string { return r.Header.Get("X-Account") }
	h := l.Limit(ratelimit.KindLogin, ratelimit.Policy{Name: "login-acct", Rate: rate.Every(time.Minute), Burst: 2}, okHandler(), ratelimit.ByAccount(acct))
	assert.Equal(t, http.StatusOK, serve(h, req("203.0.113.1:1", "X-Account", "Alice@Example.com")).Code)
	assert.Equal(t, http.StatusOK, serve(h, req("203.0.113.2:1", "X-Account", " alice@example.com ")).Code)
	w := serve(h, req("203.0.113.3:1", "X-Account", "ALICE@example.COM"))
	assert.Equal(t, http.StatusTooManyRequests, w.Code, "case and spaces do not buy attempts from new addresses")
	assert.NotContains(t, strings.ToLower(w.Body.String()), "alice")
}

func TestSeveralKeysAllMustAllow(t *testing.T) {
	clk := newClock()
	l, err := ratelimit.New(ratelimit.Config{Now: clk.Now})
	require.NoError(t, err)
	acct := func(r *http.Request) string { return r.Header.Get("X-Account") }
	h := l.Login(okHandler(), ratelimit.ByIP(), ratelimit.ByAccount(acct))
	assert.Equal(t, []ratelimit.KeyKind{ratelimit.KeyIP, ratelimit.KeyAccount}, h.KeyKinds())
	for i := range ratelimit.LoginPolicy.Burst {
		require.Equal(t, http.StatusOK, serve(h, req("203.0.113.1:1", "X-Account", fmt.Sprintf("user%d", i))).Code)
	}
	assert.Equal(t, http.StatusTooManyRequests, serve(h, req("203.0.113.1:1", "X-Account", "fresh")).Code, "the address is out of budget")
	assert.Equal(t, http.StatusOK, serve(h, req("203.0.113.2:1", "X-Account", "user1")).Code)
}

type brokenStore struct{}

func (brokenStore) Take(context.Context, ratelimit.Policy, ratelimit.Key, int, time.Time) (ratelimit.Decision, error) {
	return ratelimit.Decision{}, errors.New("dial tcp 10.1.2.3:6379: connection refused")
}
func (brokenStore) Reset(context.Context, ratelimit.Policy, ratelimit.Key) error {
	return errors.New("down")
}
func (brokenStore) Shared() bool { return true }

func TestFailModes(t *testing.T) {
	def, err := ratelimit.New(ratelimit.Config{Store: brokenStore{}})
	require.NoError(t, err)
	open, err := ratelimit.New(ratelimit.Config{Store: brokenStore{}, FailMode: ratelimit.FailOpen})
	require.NoError(t, err)
	closed, err := ratelimit.New(ratelimit.Config{Store: brokenStore{}, FailMode: ratelimit.FailClosed})
	require.NoError(t, err)
	acct := func(*http.Request) string { return "a" }
	tests := []struct {
		name string
		h    *ratelimit.Handler
		mode ratelimit.FailMode
		code int
	}{
		{"login defaults closed", def.Login(okHandler(), ratelimit.ByIP()), ratelimit.FailClosed, 503},
		{"reset defaults closed", def.PasswordReset(okHandler(), ratelimit.ByIP()), ratelimit.FailClosed, 503},
		{"failures default closed", def.Failures(okHandler(), acct), ratelimit.FailClosed, 503},
		{"export defaults open", def.Export(okHandler(), ratelimit.ByIP()), ratelimit.FailOpen, 200},
		{"login made open", open.Login(okHandler(), ratelimit.ByIP()), ratelimit.FailOpen, 200},
		{"upload made closed", closed.Upload(okHandler(), ratelimit.ByIP()), ratelimit.FailClosed, 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.mode, tt.h.FailMode())
			w := serve(tt.h, req("203.0.113.1:1"))
			assert.Equal(t, tt.code, w.Code)
			assert.NotContains(t, w.Body.String(), "10.1.2.3", "never leak store internals")
		})
	}
}

func TestFailures(t *testing.T) {
	clk := newClock()
	l, err := ratelimit.New(ratelimit.Config{Now: clk.Now})
	require.NoError(t, err)
	login := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Password") == "right" && r.Header.Get("X-Account") == "alice" {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	})
	acct := func(r *http.Request) string { return r.Header.Get("X-Account") }
	h := l.Failures(login, acct)
	assert.Equal(t, ratelimit.KindLoginFailures, h.Kind())
	attempt := func(ip, account, pw string) *httptest.ResponseRecorder {
		return serve(h, req(ip+":1", "X-Account", account, "X-Password", pw))
	}
	// Four failures, then success resets the account.
	for i := range 4 {
		require.Equal(t, 401, attempt(fmt.Sprintf("203.0.113.%d", i+1), "alice", "wrong").Code)
	}
	require.Equal(t, 200, attempt("203.0.113.9", "alice", "right").Code)
	for i := range 5 {
		require.Equal(t, 401, attempt(fmt.Sprintf("198.51.100.%d", i+1), "alice", "wrong").Code)
	}
	// Attack: the account is locked even for a fresh address and the right password…
	locked := attempt("192.0.2.1", "alice", "right")
	assert.Equal(t, 429, locked.Code)
	// …and an unknown account locks the same way, so lockout reveals nothing.
	for i := range 5 {
		require.Equal(t, 401, attempt(fmt.Sprintf("198.18.0.%d", i+1), "nobody", "wrong").Code)
	}
	unknown := attempt("192.0.2.2", "nobody", "wrong")
	assert.Equal(t, locked.Code, unknown.Code)
	assert.Equal(t, locked.Body.String(), unknown.Body.String())
	assert.Equal(t, locked.Header().Get("Retry-After"), unknown.Header().Get("Retry-After"))
	// Per address: one address spraying many accounts is locked too.
	for i := range 5 {
		attempt("203.0.113.77", fmt.Sprintf("spray%d", i), "wrong")
	}
	assert.Equal(t, 429, attempt("203.0.113.77", "alice", "right").Code)
	// The lockout lifts after the interval.
	clk.Advance(5 * time.Minute)
	assert.Equal(t, 200, attempt("192.0.2.1", "alice", "right").Code)
}

func TestMemoryStoreHoldsItsCapUnderAFlood(t *testing.T) {
	s, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{MaxKeys: 4096})
	require.NoError(t, err)
	now := time.Unix(1_700_000_000, 0)
	p := ratelimit.LoginPolicy
	ctx := context.Background()
	victim := ratelimit.Key{Kind: ratelimit.KeyAccount, Name: "victim"}
	for range p.Burst {
		_, _ = s.Take(ctx, p, victim, 1, now)
	}
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	var b [4]byte
	for i := range n {
		b[0], b[1], b[2], b[3] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
		_, _ = s.Take(ctx, p, ratelimit.Key{Kind: ratelimit.KeyIP, Addr: netip.AddrFrom4(b)}, 1, now)
		if i%100_000 == 0 {
			require.LessOrEqual(t, s.Len(), s.Cap())
		}
	}
	assert.Equal(t, s.Cap(), s.Len(), "key count stays at the cap")
	assert.Equal(t, 4096, s.Cap())

	// Idle keys are dropped first: after their budget refilled they make room.
	later := now.Add(p.Window() + time.Second)
	for i := range 10 {
		_, _ = s.Take(ctx, p, ratelimit.Key{Kind: ratelimit.KeyAccount, Name: fmt.Sprint("late", i)}, 1, later)
	}
	assert.LessOrEqual(t, s.Len(), s.Cap())
}

func TestMemoryStoreReset(t *testing.T) {
	s, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
	require.NoError(t, err)
	assert.False(t, s.Shared())
	ctx, now := context.Background(), time.Unix(0, 0)
	p := ratelimit.Policy{Name: "t", Rate: 1, Burst: 1}
	k := ratelimit.Key{Kind: ratelimit.KeyPrincipal, Name: "u1"}
	d, _ := s.Take(ctx, p, k, 1, now)
	require.True(t, d.Allowed)
	d, _ = s.Take(ctx, p, k, 0, now)
	assert.False(t, d.Allowed, "a peek sees the empty budget")
	assert.Equal(t, time.Second, d.RetryAfter)
	require.NoError(t, s.Reset(ctx, p, k))
	d, _ = s.Take(ctx, p, k, 1, now)
	assert.True(t, d.Allowed)
	assert.Equal(t, 0, d.Remaining)
}

func TestConfigErrors(t *testing.T) {
	for name, c := range map[string]ratelimit.Config{
		"trusted proxy": {TrustedProxies: []string{"::/0"}},
		"header":        {ForwardedHeader: "True-Client-IP"},
		"fail mode":     {FailMode: 7},
		"negative cap":  {MaxKeys: -1},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ratelimit.New(c)
			require.Error(t, err)
			assert.True(t, strings.HasPrefix(err.Error(), "ratelimit: "), err.Error())
		})
	}
	l, err := ratelimit.New(ratelimit.Config{})
	require.NoError(t, err)
	assert.Panics(t, func() {
		l.Limit(ratelimit.KindCustom, ratelimit.Policy{Name: "x", Rate: 1, Burst: 0}, okHandler(), ratelimit.ByIP())
	})
	assert.Panics(t, func() { l.Login(okHandler(), ratelimit.ByAccount(nil)) })
	assert.Panics(t, func() { l.Login(okHandler(), ratelimit.By{}) })
}

func TestHandlerIsWalkable(t *testing.T) {
	l, err := ratelimit.New(ratelimit.Config{TrustedProxies: []string{"10.0.0.0/8"}, ForwardedHeader: "Forwarded"})
	require.NoError(t, err)
	next := okHandler()
	h := l.Upload(next, ratelimit.ByPrincipal(func(*http.Request) string { return "p" }))
	assert.NotNil(t, h.Unwrap())
	assert.Equal(t, ratelimit.KindUpload, h.Kind())
	assert.Equal(t, ratelimit.UploadPolicy, h.Policy())
	assert.Equal(t, "memory", h.StoreKind())
	assert.False(t, h.StoreShared())
	assert.Equal(t, []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, h.TrustedProxies())
	assert.Equal(t, "Forwarded", h.ForwardedHeader())
	assert.Equal(t, ratelimit.FailOpen, h.FailMode())
}

func TestConcurrentRequestsNeverExceedTheBurst(t *testing.T) {
	clk := newClock()
	l, err := ratelimit.New(ratelimit.Config{Now: clk.Now})
	require.NoError(t, err)
	var served atomic.Int64
	h := l.Limit(ratelimit.KindCustom, ratelimit.Policy{Name: "c", Rate: rate.Every(time.Hour), Burst: 50}, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { served.Add(1) }), ratelimit.ByRoute())
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 40 {
				serve(h, req(fmt.Sprintf("203.0.113.%d:1", g)))
				clk.Advance(time.Millisecond) // the clock moves while requests are in flight
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int64(50), served.Load())
}

func TestCustomReject(t *testing.T) {
	l, err := ratelimit.New(ratelimit.Config{Now: newClock().Now, Reject: func(w http.ResponseWriter, _ *http.Request, rej *ratelimit.Rejection) {
		assert.ErrorIs(t, rej.Reason, ratelimit.ErrLimited)
		w.WriteHeader(418)
	}})
	require.NoError(t, err)
	h := l.Limit(ratelimit.KindCustom, ratelimit.Policy{Name: "x", Rate: 1, Burst: 1}, okHandler(), ratelimit.ByIP())
	serve(h, req("203.0.113.1:1"))
	w := serve(h, req("203.0.113.1:1"))
	assert.Equal(t, 418, w.Code)
	assert.Equal(t, "1", w.Header().Get("Retry-After"))
}

// The lock-free path must never admit more than the burst: goroutines
// race on a few keys with a frozen clock while others insert thousands of
// keys, so the shard tables rebuild under the racing readers.
func TestMemoryStoreAdmitsExactlyTheBurstUnderConcurrency(t *testing.T) {
	s, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{MaxKeys: 1_000_000})
	require.NoError(t, err)
	p := ratelimit.Policy{Name: "race", Rate: 1, Burst: 50}
	now := time.Unix(1_700_000_000, 0)
	ctx := context.Background()
	const keys, racers, tries = 8, 8, 200
	var allowed [keys]atomic.Int64
	var wg sync.WaitGroup
	for g := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range tries {
				k := (g + i) % keys
				d, err := s.Take(ctx, p, ratelimit.Key{Kind: ratelimit.KeyAccount, Name: fmt.Sprint("hot", k)}, 1, now)
				if err == nil && d.Allowed {
					allowed[k].Add(1)
				}
			}
		}()
	}
	wg.Add(1)
	go func() { // grow every shard's table while the racers read it
		defer wg.Done()
		var b [4]byte
		for i := range 20_000 {
			b[2], b[3] = byte(i>>8), byte(i)
			_, _ = s.Take(ctx, p, ratelimit.Key{Kind: ratelimit.KeyIP, Addr: netip.AddrFrom4(b)}, 1, now)
		}
	}()
	wg.Wait()
	for k := range keys {
		assert.Equal(t, int64(p.Burst), allowed[k].Load(), "key %d: exactly the burst passes", k)
	}
	assert.Equal(t, 20_000+keys, s.Len())
}

// Eviction is approximately least-recently-used: a key in steady use keeps
// its spent budget while a flood of one-shot keys cycles through the cap.
func TestMemoryStoreKeepsAKeyInUseThroughAFlood(t *testing.T) {
	s, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{MaxKeys: 4096})
	require.NoError(t, err)
	p := ratelimit.LoginPolicy
	now := time.Unix(1_700_000_000, 0)
	ctx := context.Background()
	victim := ratelimit.Key{Kind: ratelimit.KeyAccount, Name: "victim"}
	for range p.Burst {
		_, _ = s.Take(ctx, p, victim, 1, now)
	}
	var b [4]byte
	for i := range 200_000 {
		b[1], b[2], b[3] = byte(i>>16), byte(i>>8), byte(i)
		_, _ = s.Take(ctx, p, ratelimit.Key{Kind: ratelimit.KeyIP, Addr: netip.AddrFrom4(b)}, 1, now)
		if i%16 == 0 {
			d, _ := s.Take(ctx, p, victim, 0, now) // a peek is a use
			require.False(t, d.Allowed, "after %d flood keys the victim's spent budget was forgotten", i)
		}
	}
	assert.Equal(t, s.Cap(), s.Len())
}

// An address written with a zone or in IPv4-mapped form is the same client.
func TestMemoryStoreFoldsAddressForms(t *testing.T) {
	s, err := ratelimit.NewMemoryStore(ratelimit.MemoryConfig{})
	require.NoError(t, err)
	p := ratelimit.Policy{Name: "fold", Rate: 1, Burst: 1}
	now := time.Unix(1_700_000_000, 0)
	ctx := context.Background()
	for _, forms := range [][]string{
		{"203.0.113.9", "::ffff:203.0.113.9"},
		{"fe80::1", "fe80::1%eth0", "fe80::1%attacker-chosen"},
	} {
		d, _ := s.Take(ctx, p, ratelimit.Key{Kind: ratelimit.KeyIP, Addr: netip.MustParseAddr(forms[0])}, 1, now)
		require.True(t, d.Allowed)
		for _, f := range forms {
			d, _ = s.Take(ctx, p, ratelimit.Key{Kind: ratelimit.KeyIP, Addr: netip.MustParseAddr(f)}, 1, now)
			assert.False(t, d.Allowed, "%s shares the bucket of %s", f, forms[0])
		}
		require.NoError(t, s.Reset(ctx, p, ratelimit.Key{Kind: ratelimit.KeyIP, Addr: netip.MustParseAddr(forms[len(forms)-1])}))
		d, _ = s.Take(ctx, p, ratelimit.Key{Kind: ratelimit.KeyIP, Addr: netip.MustParseAddr(forms[0])}, 1, now)
		assert.True(t, d.Allowed, "Reset through another form clears the bucket")
	}
}
