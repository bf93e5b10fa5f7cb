package redisstore_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/internal/enginetest"
	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/session"
	"github.com/launchready/launchready/session/redisstore"
)

func newClient(t testing.TB, addr string) *redis.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// replica is one app instance: its own Redis client and session manager,
// serving login, logout, logout-everywhere and "who am I".
type replica struct {
	mgr     *session.Manager
	h       http.Handler
	entered chan struct{} // the slow route is running
	release chan struct{} // let it finish
}

func newReplica(t testing.TB, addr string) *replica {
	t.Helper()
	store, err := redisstore.New(redisstore.Config{Client: newClient(t, addr)})
	require.NoError(t, err)
	require.NoError(t, store.Ping(context.Background()))
	mgr, err := session.New(session.Config{Store: store})
	require.NoError(t, err)
	rp := &replica{mgr: mgr, entered: make(chan struct{}, 1), release: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login/{user}", func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, mgr.Login(r.Context(), r.PathValue("user")))
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, mgr.Logout(r.Context()))
	})
	mux.HandleFunc("POST /logout-everywhere/{user}", func(w http.ResponseWriter, r *http.Request) {
		n, err := mgr.LogoutEverywhere(r.Context(), r.PathValue("user"))
		require.NoError(t, err)
		_ = json.NewEncoder(w).Encode(n)
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		id, _, ok := mgr.User(r)
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(id))
	})
	mux.HandleFunc("POST /slow-put", func(w http.ResponseWriter, r *http.Request) {
		if _, _, ok := mgr.User(r); !ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		rp.entered <- struct{}{}
		<-rp.release
		mgr.Engine().Put(r.Context(), "draft", "x") // modifies: the session would be saved
	})
	rp.h = mgr.Handler(mux)
	return rp
}

func (rp *replica) do(method, path string, c *http.Cookie) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "https://portal.example.com"+path, nil)
	if c != nil {
		r.AddCookie(c)
	}
	w := httptest.NewRecorder()
	rp.h.ServeHTTP(w, r)
	return w
}

func (rp *replica) login(t testing.TB, user string) *http.Cookie {
	t.Helper()
	w := rp.do(http.MethodPost, "/login/"+user, nil)
	require.Equal(t, http.StatusOK, w.Code)
	cs := w.Result().Cookies()
	require.Len(t, cs, 1)
	return cs[0]
}

func TestSessionsSharedAcrossReplicas(t *testing.T) {
	srv := enginetest.StartRedis(t)
	a, b, c := newReplica(t, srv.Addr), newReplica(t, srv.Addr), newReplica(t, srv.Addr)

	alice := a.login(t, "alice")
	for _, rp := range []*replica{a, b, c} {
		w := rp.do(http.MethodGet, "/me", alice)
		require.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, "alice", w.Body.String())
	}
	// Logout on b ends it on a and c.
	require.Equal(t, http.StatusOK, b.do(http.MethodPost, "/logout", alice).Code)
	for _, rp := range []*replica{a, b, c} {
		assert.Equal(t, http.StatusUnauthorized, rp.do(http.MethodGet, "/me", alice).Code, "a logged-out token must not work anywhere")
	}

	// LogoutEverywhere on c ends every session of bob made on a and b,
	// and only his.
	bob1, bob2, carol := a.login(t, "bob"), b.login(t, "bob"), a.login(t, "carol")
	w := c.do(http.MethodPost, "/logout-everywhere/bob", nil)
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "2\n", w.Body.String())
	for _, rp := range []*replica{a, b, c} {
		assert.Equal(t, http.StatusUnauthorized, rp.do(http.MethodGet, "/me", bob1).Code)
		assert.Equal(t, http.StatusUnauthorized, rp.do(http.MethodGet, "/me", bob2).Code)
		assert.Equal(t, http.StatusOK, rp.do(http.MethodGet, "/me", carol).Code)
	}
}

// A request that loaded a session before LogoutEverywhere and saves it
// after does not bring it back.
func TestLogoutEverywhereWinsOverARequestInFlight(t *testing.T) {
	srv := enginetest.StartRedis(t)
	a, b := newReplica(t, srv.Addr), newReplica(t, srv.Addr)
	dave := a.login(t, "dave")
	done := make(chan int)
	go func() { done <- a.do(http.MethodPost, "/slow-put", dave).Code }()
	<-a.entered
	require.Equal(t, http.StatusOK, b.do(http.MethodPost, "/logout-everywhere/dave", nil).Code)
	close(a.release)
	<-done
	assert.Equal(t, http.StatusUnauthorized, b.do(http.MethodGet, "/me", dave).Code)
	assert.Equal(t, http.StatusUnauthorized, a.do(http.MethodGet, "/me", dave).Code)
}

func TestStoreKeepsHashedTokensAndExpiry(t *testing.T) {
	srv := enginetest.StartRedis(t)
	a := newReplica(t, srv.Addr)
	c := a.login(t, "erin")
	rdb := newClient(t, srv.Addr)
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, "*").Result()
	require.NoError(t, err)
	require.Len(t, keys, 2, "one session, one user index: %v", keys)
	for _, k := range keys {
		assert.NotContains(t, k, c.Value, "the raw token must not appear in Redis")
	}
	dump, err := rdb.Get(ctx, "session:s:"+strings.TrimPrefix(findKey(keys, "session:s:"), "session:s:")).Bytes()
	require.NoError(t, err)
	assert.NotContains(t, string(dump), c.Value)
	ttl, err := rdb.PTTL(ctx, findKey(keys, "session:s:")).Result()
	require.NoError(t, err)
	assert.Greater(t, ttl, 25*time.Minute)
	assert.LessOrEqual(t, ttl, session.DefaultIdleTimeout, "Redis forgets the session at the idle deadline")
	uttl, err := rdb.PTTL(ctx, "session:u:erin").Result()
	require.NoError(t, err)
	assert.Greater(t, uttl, time.Duration(0), "the index expires too")
}

func findKey(keys []string, prefix string) string {
	for _, k := range keys {
		if strings.HasPrefix(k, prefix) {
			return k
		}
	}
	return ""
}

func TestRedisDownAnswers503ThenRecovers(t *testing.T) {
	srv := enginetest.StartRedis(t)
	a := newReplica(t, srv.Addr)
	frank := a.login(t, "frank")
	require.Equal(t, http.StatusOK, a.do(http.MethodGet, "/me", frank).Code)

	srv.Kill()
	for _, req := range []struct {
		method, path string
		c            *http.Cookie
	}{{http.MethodGet, "/me", frank}, {http.MethodPost, "/login/frank", nil}, {http.MethodPost, "/logout", frank}} {
		w := a.do(req.method, req.path, req.c)
		assert.Equal(t, http.StatusServiceUnavailable, w.Code, "%s %s while Redis is down", req.method, req.path)
		assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
		assert.Empty(t, w.Result().Cookies())
	}

	srv.Start() // no persistence: every session is gone; the app was not restarted
	assert.Equal(t, http.StatusUnauthorized, a.do(http.MethodGet, "/me", frank).Code)
	again := a.login(t, "frank")
	assert.Equal(t, http.StatusOK, a.do(http.MethodGet, "/me", again).Code)
}

func TestConfigRefused(t *testing.T) {
	_, err := redisstore.New(redisstore.Config{})
	require.ErrorContains(t, err, "Config.Client")
	_, err = redisstore.New(redisstore.Config{Client: redis.NewClient(&redis.Options{}), Timeout: -1})
	require.ErrorContains(t, err, "Config.Timeout")
}

// With the Redis store, several replicas pass SESS010.
func TestReadinessSESS010PassesWithRedis(t *testing.T) {
	srv := enginetest.StartRedis(t)
	a := newReplica(t, srv.Addr)
	mem, err := session.New(session.Config{})
	require.NoError(t, err)
	for _, tt := range []struct {
		name string
		mgr  *session.Manager
		want bool
	}{{"redis", a.mgr, false}, {"memory", mem, true}} {
		report, err := readiness.Run(context.Background(), readiness.Target{
			Server:   &http.Server{Handler: tt.mgr.Handler(http.NewServeMux()), ReadHeaderTimeout: time.Second},
			Replicas: 3,
		})
		require.NoError(t, err)
		assert.Equal(t, tt.want, len(report.ByID("SESS010")) > 0, tt.name)
	}
	assert.True(t, a.mgr.Settings().CanLogoutEverywhere)
}

func TestConcurrentLoginsOneUser(t *testing.T) {
	srv := enginetest.StartRedis(t)
	a, b := newReplica(t, srv.Addr), newReplica(t, srv.Addr)
	var wg sync.WaitGroup
	cookies := make([]*http.Cookie, 20)
	for i := range cookies {
		wg.Go(func() {
			rp := a
			if i%2 == 1 {
				rp = b
			}
			w := rp.do(http.MethodPost, "/login/grace", nil)
			if assert.Equal(t, http.StatusOK, w.Code) {
				cookies[i] = w.Result().Cookies()[0]
			}
		})
	}
	wg.Wait()
	w := a.do(http.MethodPost, "/logout-everywhere/grace", nil)
	assert.Equal(t, "20\n", w.Body.String())
	for _, c := range cookies {
		assert.Equal(t, http.StatusUnauthorized, b.do(http.MethodGet, "/me", c).Code)
	}
}
