package session_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/alexedwards/scs/v2/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/session"
)

// The request state stays within the 448-byte size class (above 512
// bytes Go would add a malloc header and round it to 640).
func TestRequestStateSize(t *testing.T) {
	assert.LessOrEqual(t, session.RequestStateSize, uintptr(448))
}

// serveUser runs one request with cookie through mgr's middleware and
// returns the user the handler saw.
func serveUser(t *testing.T, mgr *session.Manager, cookie *http.Cookie) (string, bool) {
	t.Helper()
	var id string
	var ok bool
	h := mgr.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		id, _, ok = mgr.User(r)
	}))
	req := httptest.NewRequest(http.MethodGet, "https://portal.example.com/api/me", nil)
	if cookie != nil {
		req.AddCookie(cookie)
	}
	h.ServeHTTP(httptest.NewRecorder(), req)
	return id, ok
}

// A signed-in user's requests are served from the key cache, and the
// store still decides every time: a session deleted behind the cache's
// back (expired, deleted by another replica) is not served from it.
func TestKeyCacheDoesNotOutliveTheSession(t *testing.T) {
	store := memstore.NewWithCleanupInterval(0)
	mgr, err := session.New(session.Config{Store: store})
	require.NoError(t, err)
	cookie := loginCookie(t, mgr, "agent-7")

	id, ok := serveUser(t, mgr, cookie)
	require.True(t, ok)
	require.Equal(t, "agent-7", id)
	user, cached := session.CachedUser(mgr, cookie.Value)
	require.True(t, cached, "a found session's token is cached")
	assert.Equal(t, "agent-7", user)

	// Deleted in the store directly, as another replica or the store's
	// own expiry would: the cache must not keep it alive.
	require.NoError(t, store.Delete(session.StoreKey(cookie.Value)))
	_, ok = serveUser(t, mgr, cookie)
	assert.False(t, ok, "a session gone from the store is still served")
}

// Made-up tokens, which find no session, are not cached: a client cannot
// fill the cache (nor keep its data in the server's memory) with them.
func TestKeyCacheIgnoresUnknownTokens(t *testing.T) {
	mgr, err := session.New(session.Config{Store: memstore.NewWithCleanupInterval(0)})
	require.NoError(t, err)
	for i := range 200 {
		tok := strings.Repeat("A", 40) + string(rune('a'+i%26)) + string(rune('a'+i/26)) + "x"
		_, ok := serveUser(t, mgr, &http.Cookie{Name: session.DefaultCookieName, Value: tok})
		require.False(t, ok)
	}
	assert.Zero(t, session.CachedKeys(mgr))
}

// Logout (and token renewal) forgets the old token; so does
// LogoutEverywhere for the user's tokens.
func TestKeyCacheForgetsDeletedSessions(t *testing.T) {
	mgr, err := session.New(session.Config{Store: memstore.NewWithCleanupInterval(0)})
	require.NoError(t, err)

	cookie := loginCookie(t, mgr, "agent-7")
	_, ok := serveUser(t, mgr, cookie)
	require.True(t, ok)
	_, cached := session.CachedUser(mgr, cookie.Value)
	require.True(t, cached)
	h := mgr.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		require.NoError(t, mgr.Logout(r.Context()))
	}))
	req := httptest.NewRequest(http.MethodPost, "https://portal.example.com/logout", nil)
	req.AddCookie(cookie)
	h.ServeHTTP(httptest.NewRecorder(), req)
	_, cached = session.CachedUser(mgr, cookie.Value)
	assert.False(t, cached, "logout leaves the token in the cache")
	_, ok = serveUser(t, mgr, cookie)
	assert.False(t, ok, "a logged-out token still signs in")

	a, b := loginCookie(t, mgr, "agent-8"), loginCookie(t, mgr, "agent-9")
	for _, c := range []*http.Cookie{a, b} {
		_, ok := serveUser(t, mgr, c)
		require.True(t, ok)
	}
	n, err := mgr.LogoutEverywhere(context.Background(), "agent-8")
	require.NoError(t, err)
	require.Equal(t, 1, n)
	_, cached = session.CachedUser(mgr, a.Value)
	assert.False(t, cached, "LogoutEverywhere leaves the user's token in the cache")
	_, cached = session.CachedUser(mgr, b.Value)
	assert.True(t, cached, "another user's token was dropped")
	_, ok = serveUser(t, mgr, a)
	assert.False(t, ok)
}

// When the session's data names another user than the cache remembers
// for the token (an app that changes the user without renewing the
// token), the data wins and the cache follows it.
func TestKeyCacheFollowsTheSessionsUser(t *testing.T) {
	mgr, err := session.New(session.Config{Store: memstore.NewWithCleanupInterval(0)})
	require.NoError(t, err)
	cookie := loginCookie(t, mgr, "agent-7")
	id, _ := serveUser(t, mgr, cookie)
	require.Equal(t, "agent-7", id)

	// Overwrite the user through the data API, keeping the token.
	h := mgr.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		mgr.Engine().Put(r.Context(), "launchready.user", "agent-8")
	}))
	req := httptest.NewRequest(http.MethodPost, "https://portal.example.com/switch", nil)
	req.AddCookie(cookie)
	h.ServeHTTP(httptest.NewRecorder(), req)

	id, ok := serveUser(t, mgr, cookie)
	require.True(t, ok)
	assert.Equal(t, "agent-8", id)
	user, cached := session.CachedUser(mgr, cookie.Value)
	require.True(t, cached)
	assert.Equal(t, "agent-8", user)
}

// Tokens and user IDs too long for a cache entry are served as before.
func TestKeyCacheLongTokenAndUser(t *testing.T) {
	mgr, err := session.New(session.Config{Store: memstore.NewWithCleanupInterval(0)})
	require.NoError(t, err)
	long := "user-" + strings.Repeat("x", 100)
	cookie := loginCookie(t, mgr, long)
	for range 3 {
		id, ok := serveUser(t, mgr, cookie)
		require.True(t, ok)
		assert.Equal(t, long, id)
	}
	_, ok := serveUser(t, mgr, &http.Cookie{Name: session.DefaultCookieName, Value: strings.Repeat("A", 100)})
	assert.False(t, ok)
}

// The Vary values the middleware shares between requests are never
// written: a handler's Add on one response leaves the next one's alone.
func TestSharedVaryNotWritten(t *testing.T) {
	mgr, err := session.New(session.Config{Store: memstore.NewWithCleanupInterval(0)})
	require.NoError(t, err)
	add := true
	h := mgr.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if add {
			w.Header().Add("Vary", "Accept")
			w.Header()["Vary"] = append(w.Header()["Vary"], "Accept-Language")
		}
	}))
	for _, before := range [][]string{nil, {"Origin"}} {
		serve := func() []string {
			rec := httptest.NewRecorder()
			if before != nil {
				rec.Header()["Vary"] = before
			}
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://portal.example.com/", nil))
			return rec.Header().Values("Vary")
		}
		add = true
		assert.Equal(t, append(append([]string{}, before...), "Cookie", "Accept", "Accept-Language"), serve())
		add = false
		assert.Equal(t, append(append([]string{}, before...), "Cookie"), serve())
	}
}

// With the key cache warm, an authenticated GET of an unchanged session
// allocates the request state only: no store key, no user ID, no Vary
// slice (issue 25).
func TestAuthenticatedGETOneAllocation(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	allocs, vary, _ := authenticatedGETAllocs(t)
	assert.Equal(t, 1.0, allocs)
	assert.Equal(t, []string{"Origin", "Cookie"}, vary)
}

// Some hundreds of signed-in users active at once all stay in the cache
// (two-way sets: three tokens must meet in a pair to evict one), so their
// requests keep skipping the hash.
func TestKeyCacheHoldsManyActiveSessions(t *testing.T) {
	mgr, err := session.New(session.Config{Store: memstore.NewWithCleanupInterval(0)})
	require.NoError(t, err)
	const users = 300
	cookies := make([]*http.Cookie, users)
	for i := range cookies {
		cookies[i] = loginCookie(t, mgr, "agent-"+strconv.Itoa(i))
	}
	for range 3 { // round robin, as interleaved requests come
		for i, c := range cookies {
			id, ok := serveUser(t, mgr, c)
			require.True(t, ok)
			require.Equal(t, "agent-"+strconv.Itoa(i), id)
		}
	}
	held := 0
	for _, c := range cookies {
		if _, ok := session.CachedUser(mgr, c.Value); ok {
			held++
		}
	}
	// Expected misses: about 3 of 300 (pairs holding three tokens of the
	// 1,024); a direct-mapped table of the same size would lose some 21.
	assert.GreaterOrEqual(t, held, users-20)
}

// The key cache's token compare finds every differing byte, at every
// position of a token, including those past the last whole eight bytes.
func TestConstantTimeEqual(t *testing.T) {
	tok := "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ" // 43 bytes, as scs's
	assert.True(t, session.ConstantTimeEqual(tok, string([]byte(tok))))
	assert.True(t, session.ConstantTimeEqual("", ""))
	assert.False(t, session.ConstantTimeEqual(tok, tok[:42]))
	for i := range len(tok) {
		for _, c := range []byte{0, '!', 0xff} {
			b := []byte(tok)
			b[i] = c
			assert.False(t, session.ConstantTimeEqual(tok, string(b)), "byte %d changed to %#x", i, c)
		}
	}
}
