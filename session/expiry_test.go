package session_test

import (
	"context"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"testing/synctest"
	"time"

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
