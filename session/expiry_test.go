package session_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/session"
)

// pipeListener is an in-memory net.Listener. Inside a synctest bubble,
// goroutines blocked on real sockets are not "durably blocked", so the fake
// clock would never advance; net.Pipe connections are made of channels
// created in the bubble and are.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 443}
}

func (l *pipeListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// newBubbleManager builds the manager OUTSIDE the synctest bubble: scs.New
// starts a memstore cleanup goroutine with a ticker, which inside the bubble
// would outlive the test (synctest reports a deadlock). The store itself
// needs no cleanup goroutine: memstore refuses expired sessions on Find.
func newBubbleManager(t *testing.T, cfg session.Config) *session.Manager {
	t.Helper()
	cfg.Store = memstore.NewWithCleanupInterval(0)
	mgr, err := session.New(cfg)
	require.NoError(t, err)
	return mgr
}

// bubbleServer starts an HTTPS httptest server for the portal on an
// in-memory listener. Call it inside synctest.Test.
func bubbleServer(t *testing.T, mgr *session.Manager) (*httptest.Server, *browser) {
	t.Helper()
	l := newPipeListener()
	srv := httptest.NewUnstartedServer(portal(mgr))
	srv.Listener = l
	srv.StartTLS()
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.DialContext = l.dial
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := &http.Client{Transport: tr, Jar: jar}
	t.Cleanup(func() {
		c.CloseIdleConnections()
		srv.Close()
	})
	return srv, &browser{t: t, srv: srv, c: c}
}

func TestIdleExpiryOnFakeClock(t *testing.T) {
	mgr := newBubbleManager(t, session.Config{})
	synctest.Test(t, func(t *testing.T) {
		_, b := bubbleServer(t, mgr)
		b.post("/login", url.Values{"user": {"alice"}})

		time.Sleep(29 * time.Minute) // fake clock: returns at once
		code, _ := b.me()
		require.Equal(t, http.StatusOK, code, "active within the idle timeout")

		time.Sleep(29 * time.Minute) // each request pushed the idle deadline
		code, _ = b.me()
		require.Equal(t, http.StatusOK, code)

		time.Sleep(31 * time.Minute)
		code, _ = b.me()
		assert.Equal(t, http.StatusUnauthorized, code, "idle for 31 minutes: signed out")
	})
}

func TestAbsoluteExpiryOnFakeClock(t *testing.T) {
	mgr := newBubbleManager(t, session.Config{})
	synctest.Test(t, func(t *testing.T) {
		_, b := bubbleServer(t, mgr)
		b.post("/login", url.Values{"user": {"alice"}})
		start := time.Now()
		for time.Since(start) < 12*time.Hour-20*time.Minute {
			time.Sleep(20 * time.Minute)
			code, _ := b.me()
			require.Equal(t, http.StatusOK, code, "active session at %v", time.Since(start))
		}
		time.Sleep(21 * time.Minute)
		code, _ := b.me()
		assert.Equal(t, http.StatusUnauthorized, code, "12 hours after login, activity or not: signed out")
	})
}

func TestRenewTokenRestartsLifetime(t *testing.T) {
	mgr := newBubbleManager(t, session.Config{IdleTimeout: time.Hour, Lifetime: 2 * time.Hour})
	synctest.Test(t, func(t *testing.T) {
		_, b := bubbleServer(t, mgr)
		b.post("/login", url.Values{"user": {"alice"}})
		time.Sleep(50 * time.Minute)
		require.Equal(t, http.StatusNoContent, b.post("/promote", nil).StatusCode)
		time.Sleep(50 * time.Minute)
		code, _ := b.me()
		require.Equal(t, http.StatusOK, code)
		time.Sleep(50 * time.Minute) // 150 min after login, 100 after the renewal
		code, _ = b.me()
		assert.Equal(t, http.StatusOK, code, "the lifetime counts from the last renewal")
		time.Sleep(30 * time.Minute)
		code, _ = b.me()
		assert.Equal(t, http.StatusUnauthorized, code)
	})
}

// countingStore counts the writes to a memstore and keeps the last expiry.
type countingStore struct {
	*memstore.MemStore
	mu      sync.Mutex
	commits int
	expiry  time.Time
}

func (s *countingStore) Commit(token string, b []byte, expiry time.Time) error {
	s.mu.Lock()
	s.commits++
	s.expiry = expiry
	s.mu.Unlock()
	return s.MemStore.Commit(token, b, expiry)
}

func (s *countingStore) writes() (int, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commits, s.expiry
}

func newCountingManager(t *testing.T, cfg session.Config) (*session.Manager, *countingStore) {
	t.Helper()
	store := &countingStore{MemStore: memstore.NewWithCleanupInterval(0)}
	cfg.Store = store
	mgr, err := session.New(cfg)
	require.NoError(t, err)
	return mgr, store
}

// meResponse requests /me and returns the response (body closed).
func (b *browser) meResponse() *http.Response {
	b.t.Helper()
	resp, err := b.c.Get(b.srv.URL + "/me")
	require.NoError(b.t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp
}

// Requests within a minute of the last save write nothing: no store write,
// no Set-Cookie. The next one after a minute saves (pushing the idle
// deadline) without a Set-Cookie either: the cookie has not changed.
func TestNoWriteWithinRefreshWindow(t *testing.T) {
	mgr, store := newCountingManager(t, session.Config{})
	synctest.Test(t, func(t *testing.T) {
		_, b := bubbleServer(t, mgr)
		b.post("/login", url.Values{"user": {"alice"}})
		saved, expiry := store.writes()
		require.Equal(t, 1, saved)
		assert.WithinDuration(t, time.Now().Add(30*time.Minute), expiry, 0, "the store forgets the session when idle, not at the absolute deadline")

		for range 5 {
			time.Sleep(10 * time.Second)
			resp := b.meResponse()
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Empty(t, resp.Header.Values("Set-Cookie"))
			assert.Empty(t, resp.Header.Values("Cache-Control"))
			assert.Equal(t, []string{"Cookie"}, resp.Header.Values("Vary"))
		}
		n, _ := store.writes()
		assert.Equal(t, 1, n, "no store write within the refresh window")

		time.Sleep(10 * time.Second) // 60 s after the login
		resp := b.meResponse()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Empty(t, resp.Header.Values("Set-Cookie"), "a refresh keeps the token and the cookie")
		n, expiry = store.writes()
		assert.Equal(t, 2, n, "the idle deadline is pushed once a minute")
		assert.WithinDuration(t, time.Now().Add(30*time.Minute), expiry, 0)

		resp = b.meResponse()
		assert.Empty(t, resp.Header.Values("Set-Cookie"))
		n, _ = store.writes()
		assert.Equal(t, 2, n)
	})
}

// Attack: an unattended signed-in browser. Without a write per request, a
// session idle for IdleTimeout+1m must still be gone: the store was told to
// forget it at its last save.
func TestIdleSessionEndsWithoutWrites(t *testing.T) {
	mgr, store := newCountingManager(t, session.Config{})
	synctest.Test(t, func(t *testing.T) {
		srv, b := bubbleServer(t, mgr)
		b.post("/login", url.Values{"user": {"alice"}})
		token := b.token()
		for range 5 { // active, but never long enough to be saved again
			time.Sleep(10 * time.Second)
			code, _ := b.me()
			require.Equal(t, http.StatusOK, code)
		}
		n, _ := store.writes()
		require.Equal(t, 1, n)

		time.Sleep(31 * time.Minute) // IdleTimeout+1m after the last request
		code, _ := b.me()
		assert.Equal(t, http.StatusUnauthorized, code, "idle for 31 minutes: signed out")
		_, found, err := store.Find(hashed(token))
		require.NoError(t, err)
		assert.False(t, found, "the store has expired the session")
		assert.Equal(t, http.StatusUnauthorized, replayBubble(t, srv, b, token))
	})
}

// A session used every 10 seconds is saved once a minute, keeps working
// for two hours, and still ends at its absolute lifetime.
func TestActiveSessionRefreshedUntilLifetime(t *testing.T) {
	mgr, store := newCountingManager(t, session.Config{Lifetime: 2*time.Hour + 5*time.Minute})
	synctest.Test(t, func(t *testing.T) {
		_, b := bubbleServer(t, mgr)
		b.post("/login", url.Values{"user": {"alice"}})
		start := time.Now()
		for time.Since(start) < 2*time.Hour {
			time.Sleep(10 * time.Second)
			code, _ := b.me()
			require.Equal(t, http.StatusOK, code, "active session at %v", time.Since(start))
		}
		n, _ := store.writes()
		assert.InDelta(t, 1+120, n, 2, "about one save a minute, not one per request (720)")

		for time.Since(start) < 2*time.Hour+5*time.Minute {
			time.Sleep(10 * time.Second)
			b.me()
		}
		time.Sleep(time.Second) // past the deadline
		code, _ := b.me()
		assert.Equal(t, http.StatusUnauthorized, code, "the absolute lifetime ends an active session")
	})
}

// Logout within the refresh window destroys the session and expires the
// cookie as before.
func TestLogoutWithinRefreshWindow(t *testing.T) {
	mgr, _ := newCountingManager(t, session.Config{})
	synctest.Test(t, func(t *testing.T) {
		srv, b := bubbleServer(t, mgr)
		b.post("/login", url.Values{"user": {"alice"}})
		token := b.token()
		time.Sleep(10 * time.Second)
		resp := b.post("/logout", nil)
		require.Equal(t, http.StatusNoContent, resp.StatusCode)
		assert.Contains(t, resp.Header.Get("Set-Cookie"), "Max-Age=0")
		assert.Empty(t, b.token())
		assert.Equal(t, http.StatusUnauthorized, replayBubble(t, srv, b, token))
	})
}

// replayBubble requests /me with token alone, through b's transport.
func replayBubble(t *testing.T, srv *httptest.Server, b *browser, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/me", nil)
	require.NoError(t, err)
	req.AddCookie(&http.Cookie{Name: session.DefaultCookieName, Value: token})
	resp, err := (&http.Client{Transport: b.c.Transport}).Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	return resp.StatusCode
}

func hashed(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// foreverStore keeps every session for a year, whatever expiry it is given:
// a store that does not honour expiries (or a slow cleanup).
type foreverStore struct{ *memstore.MemStore }

func (s foreverStore) Commit(token string, b []byte, _ time.Time) error {
	return s.MemStore.Commit(token, b, time.Now().Add(365*24*time.Hour))
}

// The manager refuses an idle session itself, whatever the store keeps,
// and the data API does not see its data either.
func TestIdleSessionRefusedWhateverTheStoreKeeps(t *testing.T) {
	mgr, err := session.New(session.Config{Store: foreverStore{memstore.NewWithCleanupInterval(0)}})
	require.NoError(t, err)
	h := mgr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			require.NoError(t, mgr.Login(r.Context(), "alice"))
			mgr.Engine().Put(r.Context(), "note", "secret")
			return
		}
		id, _, _ := mgr.User(r)
		_, _ = io.WriteString(w, id+"|"+mgr.Engine().GetString(r.Context(), "note"))
	}))
	synctest.Test(t, func(t *testing.T) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "https://portal.example.com/", nil))
		cookie := rec.Result().Cookies()[0]
		get := func() string {
			req := httptest.NewRequest(http.MethodGet, "https://portal.example.com/", nil)
			req.AddCookie(cookie)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec.Body.String()
		}
		time.Sleep(29 * time.Minute)
		require.Equal(t, "alice|secret", get())
		time.Sleep(31 * time.Minute)
		assert.Equal(t, "|", get(), "idle for 31 minutes: neither the user nor the data")
	})
}

// An app that shortens the idle timeout on the engine gets the shorter
// one, and Settings reports it.
func TestEngineIdleTimeoutShortens(t *testing.T) {
	mgr := newBubbleManager(t, session.Config{})
	assert.Equal(t, time.Duration(0), mgr.Engine().IdleTimeout, "the manager keeps the idle timeout, not the engine")
	assert.Equal(t, 30*time.Minute, mgr.Settings().IdleTimeout)
	mgr.Engine().IdleTimeout = 10 * time.Minute
	assert.Equal(t, 10*time.Minute, mgr.Settings().IdleTimeout)
	mgr.Engine().IdleTimeout = time.Hour
	assert.Equal(t, 30*time.Minute, mgr.Settings().IdleTimeout, "the engine cannot lengthen it")
	mgr.Engine().IdleTimeout = 10 * time.Minute
	synctest.Test(t, func(t *testing.T) {
		_, b := bubbleServer(t, mgr)
		b.post("/login", url.Values{"user": {"alice"}})
		time.Sleep(9 * time.Minute)
		code, _ := b.me()
		require.Equal(t, http.StatusOK, code)
		time.Sleep(11 * time.Minute)
		code, _ = b.me()
		assert.Equal(t, http.StatusUnauthorized, code)
	})
}

// Sessions saved without the last-save time (by an older version, or with
// the engine's own Commit) keep working and get it at their next request.
func TestSessionWithoutLastSaveIsRefreshed(t *testing.T) {
	mgr, store := newCountingManager(t, session.Config{})
	token := "legacy-token-0123456789-0123456789-01234567"
	b, err := scs.GobCodec{}.Encode(time.Now().Add(12*time.Hour), map[string]any{"launchready.user": "alice", "launchready.auth": int64(1)})
	require.NoError(t, err)
	require.NoError(t, store.MemStore.Commit(hashed(token), b, time.Now().Add(30*time.Minute)))

	srv := newTLS(t, portal(mgr))
	require.Equal(t, http.StatusOK, replay(t, srv, token))
	n, _ := store.writes()
	assert.Equal(t, 1, n, "saved once with the last-save time")
	require.Equal(t, http.StatusOK, replay(t, srv, token))
	n, _ = store.writes()
	assert.Equal(t, 1, n, "and not again within the refresh window")
}
