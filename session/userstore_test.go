package session_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/session"
)

// userStore is a UserStore over memstore that can be switched off, as a
// shared store that goes down.
type userStore struct {
	*memstore.MemStore
	down  atomic.Bool
	mu    sync.Mutex
	users map[string]map[string]bool
}

func newUserStore() *userStore {
	return &userStore{MemStore: memstore.NewWithCleanupInterval(0), users: map[string]map[string]bool{}}
}

var errDown = fmt.Errorf("test store: connection refused: %w", session.ErrStoreUnavailable)

func (s *userStore) Find(key string) ([]byte, bool, error) {
	if s.down.Load() {
		return nil, false, errDown
	}
	return s.MemStore.Find(key)
}

func (s *userStore) Delete(key string) error {
	if s.down.Load() {
		return errDown
	}
	return s.MemStore.Delete(key)
}

func (s *userStore) CommitUser(_ context.Context, key, user string, b []byte, expiry time.Time, existing bool) error {
	if s.down.Load() {
		return errDown
	}
	if _, found, _ := s.MemStore.Find(key); existing && !found {
		return nil
	}
	s.mu.Lock()
	if s.users[user] == nil {
		s.users[user] = map[string]bool{}
	}
	s.users[user][key] = true
	s.mu.Unlock()
	return s.MemStore.Commit(key, b, expiry)
}

func (s *userStore) DeleteUser(_ context.Context, user string) (int, error) {
	if s.down.Load() {
		return 0, errDown
	}
	s.mu.Lock()
	keys := s.users[user]
	delete(s.users, user)
	s.mu.Unlock()
	n := 0
	for k := range keys {
		if _, found, _ := s.MemStore.Find(k); found {
			n++
			_ = s.MemStore.Delete(k)
		}
	}
	return n, nil
}

var _ session.UserStore = (*userStore)(nil)

func TestStoreUnavailableIs503NeverAnonymous(t *testing.T) {
	store := newUserStore()
	mgr, err := session.New(session.Config{Store: store})
	require.NoError(t, err)
	cookie := loginCookie(t, mgr, "alice")
	var reached atomic.Int32
	h := mgr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		if _, _, ok := mgr.User(r); !ok {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	do := func(withCookie bool) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "https://portal.example.com/api/me", nil)
		if withCookie {
			r.AddCookie(cookie)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	require.Equal(t, http.StatusOK, do(true).Code)

	store.down.Store(true)
	w := do(true)
	assert.Equal(t, http.StatusServiceUnavailable, w.Code, "a signed-in request is refused, not served as anonymous (401) nor as a bug (500)")
	assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
	assert.NotEmpty(t, w.Header().Get("Retry-After"))
	var body map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body))
	assert.EqualValues(t, 503, body["status"])
	assert.Equal(t, int32(1), reached.Load(), "the handler never ran while the store was down")

	// A login while the store is down cannot save: 503, no cookie.
	rec := httptest.NewRecorder()
	mgr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, mgr.Login(r.Context(), "bob"))
		w.WriteHeader(http.StatusOK)
	})).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "https://portal.example.com/login", nil))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Empty(t, rec.Result().Cookies())

	// Back without a restart.
	store.down.Store(false)
	assert.Equal(t, http.StatusOK, do(true).Code)
	assert.Equal(t, int32(2), reached.Load())
}

func TestLogoutEverywhereUsesTheUserIndex(t *testing.T) {
	store := newUserStore()
	mgr, err := session.New(session.Config{Store: store})
	require.NoError(t, err)
	assert.True(t, mgr.Settings().CanLogoutEverywhere)
	assert.False(t, mgr.Settings().InMemoryStore)
	a1, a2, b := loginCookie(t, mgr, "alice"), loginCookie(t, mgr, "alice"), loginCookie(t, mgr, "bob")
	n, err := mgr.LogoutEverywhere(context.Background(), "alice")
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	user := func(c *http.Cookie) string {
		var id string
		r := httptest.NewRequest(http.MethodGet, "https://portal.example.com/", nil)
		r.AddCookie(c)
		mgr.Handler(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { id, _, _ = mgr.User(r) })).
			ServeHTTP(httptest.NewRecorder(), r)
		return id
	}
	assert.Empty(t, user(a1))
	assert.Empty(t, user(a2))
	assert.Equal(t, "bob", user(b))
}
