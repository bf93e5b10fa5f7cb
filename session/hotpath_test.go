package session_test

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"weak"

	"github.com/alexedwards/scs/v2/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/session"
)

// Issue 25: an authenticated GET of an unchanged session allocates at most
// the request state and one small array; with the key cache warm, the
// request state only (TestAuthenticatedGETOneAllocation).
func TestAuthenticatedGETTwoAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	allocs, vary, shared := authenticatedGETAllocs(t)
	assert.LessOrEqual(t, allocs, 2.0)
	assert.Equal(t, []string{"Origin", "Cookie"}, vary)
	assert.Equal(t, []string{"Origin"}, shared, "the Vary slice set before the middleware must not be written")
}

// authenticatedGETAllocs serves a signed-in user's GET of an unchanged
// session, the response's Vary holding rs/cors's shared "Origin" slice,
// and returns the allocations per request, the response's Vary values and
// that shared slice as it is afterwards.
func authenticatedGETAllocs(t *testing.T) (allocs float64, vary, shared []string) {
	t.Helper()
	mgr, err := session.New(session.Config{Store: memstore.NewWithCleanupInterval(0)})
	require.NoError(t, err)
	cookie := loginCookie(t, mgr, "agent-7")
	h := mgr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id, _, ok := mgr.User(r); !ok || id != "agent-7" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	req := httptest.NewRequest(http.MethodGet, "https://portal.example.com/api/me", nil)
	req.AddCookie(cookie)
	shared = []string{"Origin"} // as rs/cors sets it: one shared value
	w := &reusedWriter{h: http.Header{}}
	allocs = testing.AllocsPerRun(100, func() {
		clear(w.h)
		w.h["Vary"] = shared
		w.code = 0
		h.ServeHTTP(w, req)
		if w.code != http.StatusNoContent {
			t.Fatalf("status %d", w.code)
		}
	})
	return allocs, w.h.Values("Vary"), shared
}

// Vary: Cookie is added after the values already set, however many, and
// a value added after the middleware's does not overwrite another
// request's header.
func TestVaryCookieKeepsEarlierValues(t *testing.T) {
	mgr, err := session.New(session.Config{Store: memstore.NewWithCleanupInterval(0)})
	require.NoError(t, err)
	h := mgr.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Add("Vary", "Accept")
	}))
	for n := range 7 {
		before := make([]string, n)
		for i := range before {
			before[i] = "X-Vary-" + string(rune('A'+i))
		}
		rec := httptest.NewRecorder()
		rec.Header()["Vary"] = before[:n:n]
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://portal.example.com/", nil))
		want := append(append(append([]string{}, before...), "Cookie"), "Accept")
		assert.Equal(t, want, rec.Header().Values("Vary"), "with %d values before", n)
	}
}

// The user ID and store key of one request stay what they were after
// later requests of other users (they share no buffer), and a user ID too
// long for the request's own buffer is read whole.
func TestUserIDsOfConcurrentRequestsStayApart(t *testing.T) {
	mgr, err := session.New(session.Config{Store: memstore.NewWithCleanupInterval(0)})
	require.NoError(t, err)
	long := "user-" + strings.Repeat("x", 100)
	ids := []string{"u-alice", "u-bob", long, ""}
	var seen []string
	h := mgr.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		id, _, _ := mgr.User(r)
		seen = append(seen, id)
	}))
	for _, id := range ids {
		req := httptest.NewRequest(http.MethodGet, "https://portal.example.com/api/me", nil)
		if id != "" {
			req.AddCookie(loginCookie(t, mgr, id))
		}
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	assert.Equal(t, ids, seen)
}

// The user ID an app keeps (in a cache, an audit record) does not keep the
// request's state alive: the request next ran with is collected.
func TestRetainedUserIDDoesNotPinTheRequest(t *testing.T) {
	mgr, err := session.New(session.Config{Store: memstore.NewWithCleanupInterval(0)})
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodGet, "https://portal.example.com/api/me", nil)
	req.AddCookie(loginCookie(t, mgr, "agent-7"))
	var id string
	var seen weak.Pointer[http.Request]
	mgr.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		id, _, _ = mgr.User(r)
		seen = weak.Make(r)
	})).ServeHTTP(httptest.NewRecorder(), req)
	require.Equal(t, "agent-7", id)
	for i := 0; i < 20 && seen.Value() != nil; i++ {
		runtime.GC()
	}
	assert.Nil(t, seen.Value(), "the user ID keeps the request state alive")
	assert.Equal(t, "agent-7", id)
	runtime.KeepAlive(id)
}
