package session_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/session"
)

// loginCookie signs userID in through mgr's middleware and returns the
// session cookie.
func loginCookie(t *testing.T, mgr *session.Manager, userID string) *http.Cookie {
	t.Helper()
	rec := httptest.NewRecorder()
	mgr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, mgr.Login(r.Context(), userID))
	})).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "https://portal.example.com/login", nil))
	cs := rec.Result().Cookies()
	require.Len(t, cs, 1)
	return cs[0]
}

// The session is saved and its cookie set before the first byte of the
// body, whichever way the handler starts the response.
func TestModifiedSessionSavedBeforeBody(t *testing.T) {
	for name, start := range map[string]func(w http.ResponseWriter){
		"Write":       func(w http.ResponseWriter) { _, _ = io.WriteString(w, "hello") },
		"WriteHeader": func(w http.ResponseWriter) { w.WriteHeader(http.StatusCreated) },
		"Flush":       func(w http.ResponseWriter) { require.NoError(t, http.NewResponseController(w).Flush()) },
	} {
		t.Run(name, func(t *testing.T) {
			store := memstore.NewWithCleanupInterval(0)
			mgr, err := session.New(session.Config{Store: store})
			require.NoError(t, err)
			var atFirstByte []string
			var storedAtFirstByte int
			rec := &firstByteRecorder{ResponseRecorder: httptest.NewRecorder(), onFirst: func(h http.Header) {
				atFirstByte = h.Values("Set-Cookie")
				all, _ := store.All()
				storedAtFirstByte = len(all)
			}}
			mgr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				require.NoError(t, mgr.Login(r.Context(), "alice"))
				start(w)
				mgr.Engine().Put(r.Context(), "too late", "not saved") // after the header: lost, as with scs
			})).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "https://portal.example.com/login", nil))
			require.Len(t, atFirstByte, 1, "Set-Cookie present when the header is sent")
			assert.Contains(t, atFirstByte[0], session.DefaultCookieName+"=")
			assert.Equal(t, 1, storedAtFirstByte, "the session is in the store before the client sees the response")
			assert.Equal(t, []string{"Cookie"}, rec.Header().Values("Vary"))
		})
	}
}

// firstByteRecorder calls onFirst with the header when the response
// header is sent (first WriteHeader, Write, WriteString or Flush).
type firstByteRecorder struct {
	*httptest.ResponseRecorder
	onFirst func(http.Header)
	sent    bool
}

func (r *firstByteRecorder) first() {
	if !r.sent {
		r.sent = true
		r.onFirst(r.Header().Clone())
	}
}

func (r *firstByteRecorder) WriteHeader(code int) {
	if code >= 200 {
		r.first()
	}
	r.ResponseRecorder.WriteHeader(code)
}

func (r *firstByteRecorder) Write(p []byte) (int, error) {
	r.first()
	return r.ResponseRecorder.Write(p)
}

func (r *firstByteRecorder) WriteString(s string) (int, error) {
	r.first()
	return r.ResponseRecorder.WriteString(s)
}

func (r *firstByteRecorder) Flush() {
	r.first()
	r.ResponseRecorder.Flush()
}

// 103 Early Hints is not the response: the session is saved with the
// final header, including what the handler changed after the hints.
func TestEarlyHintsDoNotSaveTheSession(t *testing.T) {
	mgr, err := session.New(session.Config{Store: memstore.NewWithCleanupInterval(0)})
	require.NoError(t, err)
	srv := newTLS(t, mgr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet { // replay's /me
			if _, _, ok := mgr.User(r); !ok {
				w.WriteHeader(http.StatusUnauthorized)
			}
			return
		}
		w.Header().Add("Link", "</app.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		require.NoError(t, mgr.Login(r.Context(), "alice"))
		w.WriteHeader(http.StatusNoContent)
	})))
	var hints []textproto.MIMEHeader
	ctx := httptrace.WithClientTrace(t.Context(), &httptrace.ClientTrace{
		Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			hints = append(hints, h)
			return nil
		},
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/login", nil)
	require.NoError(t, err)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Len(t, hints, 1)
	assert.Empty(t, hints[0].Values("Set-Cookie"), "no cookie in the hints")
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	require.Len(t, resp.Cookies(), 1)
	assert.Equal(t, http.StatusOK, replay(t, srv, resp.Cookies()[0].Value), "the session was saved with the final response")
}

// When the session cannot be saved, the error handler's problem document
// is the response, and the handler's body is not appended to it.
func TestSaveErrorReplacesTheResponse(t *testing.T) {
	mgr, err := session.New(session.Config{Store: commitFailsStore{memstore.NewWithCleanupInterval(0)}})
	require.NoError(t, err)
	var writeErr error
	rec := httptest.NewRecorder()
	mgr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, mgr.Login(r.Context(), "alice"))
		_, writeErr = io.WriteString(w, "welcome alice")
	})).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "https://portal.example.com/login", nil))
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	assert.NotContains(t, rec.Body.String(), "welcome")
	assert.Empty(t, rec.Header().Values("Set-Cookie"), "no cookie for a session that is not in the store")
	assert.Error(t, writeErr)
}

type commitFailsStore struct{ *memstore.MemStore }

func (commitFailsStore) Commit(string, []byte, time.Time) error { return errors.New("disk full") }

// The session cookie is found as net/http finds it.
func FuzzCookieValue(f *testing.F) {
	for _, seed := range []string{
		"__Host-session=abc", "a=b; __Host-session=abc", "__Host-session=\"abc\"", " __Host-session = abc ;x=y",
		"__Host-session=a\\b; __Host-session=ok", "__Host-session", "__Host-session=;", "__host-session=x", "a=\"\"",
		"__Host-session=\"", "\t__Host-session=v\r",
	} {
		f.Add(seed, "")
	}
	f.Add("__Host-session=one", "__Host-session=two")
	f.Fuzz(func(t *testing.T, line1, line2 string) {
		h := http.Header{"Cookie": {line1}}
		if line2 != "" {
			h["Cookie"] = append(h["Cookie"], line2)
		}
		want := ""
		if c, err := (&http.Request{Header: h}).Cookie(session.DefaultCookieName); err == nil {
			want = c.Value
		}
		if got := session.CookieValue(h["Cookie"], session.DefaultCookieName); got != want {
			t.Fatalf("cookie %q %q: got %q, net/http %q", line1, line2, got, want)
		}
	})
}

func TestCookieValueLimit(t *testing.T) {
	line := strings.Repeat("a=b; ", 3000) + session.DefaultCookieName + "=v"
	assert.Empty(t, session.CookieValue([]string{line}, session.DefaultCookieName), "over net/http's cookie limit, as Request.Cookie")
	assert.Equal(t, "v", session.CookieValue([]string{"a=b; " + session.DefaultCookieName + "=v"}, session.DefaultCookieName))
}

// User reads the session without loading it into scs, yet follows every
// change made in the same request: Login, RenewToken, Logout, and the data
// API writing the lifecycle's keys.
func TestUserFollowsChangesInTheRequest(t *testing.T) {
	for _, eager := range []bool{false, true} {
		t.Run(fmt.Sprintf("eager=%v", eager), func(t *testing.T) {
			mgr, err := session.New(session.Config{Store: memstore.NewWithCleanupInterval(0)})
			require.NoError(t, err)
			if eager {
				session.LoadEagerly(mgr)
			}
			who := func(r *http.Request) string {
				id, _, ok := mgr.User(r)
				if !ok {
					return "-"
				}
				return id
			}
			var seen []string
			h := mgr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ctx := r.Context()
				seen = append(seen, who(r))
				switch r.URL.Path {
				case "/login":
					require.NoError(t, mgr.Login(ctx, "alice"))
					seen = append(seen, who(r))
					require.NoError(t, mgr.RenewToken(ctx))
					seen = append(seen, who(r))
				case "/switch":
					mgr.Engine().Put(ctx, "launchready.user", "bob")
					seen = append(seen, who(r))
					require.NoError(t, mgr.Logout(ctx))
					seen = append(seen, who(r))
					require.NoError(t, mgr.Login(ctx, "carol"))
					seen = append(seen, who(r))
				}
			}))
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "https://portal.example.com/login", nil))
			cookie := rec.Result().Cookies()[0]
			req := httptest.NewRequest(http.MethodPost, "https://portal.example.com/switch", nil)
			req.AddCookie(cookie)
			rec = httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			assert.Equal(t, []string{"-", "alice", "alice", "alice", "bob", "-", "carol"}, seen)

			req = httptest.NewRequest(http.MethodGet, "https://portal.example.com/me", nil)
			req.AddCookie(rec.Result().Cookies()[0])
			h.ServeHTTP(httptest.NewRecorder(), req)
			assert.Equal(t, "carol", seen[len(seen)-1])
			req = httptest.NewRequest(http.MethodGet, "https://portal.example.com/me", nil)
			req.AddCookie(cookie)
			h.ServeHTTP(httptest.NewRecorder(), req)
			assert.Equal(t, "-", seen[len(seen)-1], "the first token died at the second login")
		})
	}
}

// Goroutines of one request may use the session at the same time: the
// first to ask loads it, once (run with -race).
func TestConcurrentUseWithinARequest(t *testing.T) {
	mgr, err := session.New(session.Config{Store: memstore.NewWithCleanupInterval(0)})
	require.NoError(t, err)
	cookie := loginCookie(t, mgr, "alice")
	req := httptest.NewRequest(http.MethodGet, "https://portal.example.com/", nil)
	req.AddCookie(cookie)
	rec := httptest.NewRecorder()
	mgr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				if i%2 == 0 {
					mgr.Engine().Put(r.Context(), fmt.Sprint("k", i), i)
				}
				id, _, ok := mgr.User(r)
				assert.True(t, ok)
				assert.Equal(t, "alice", id)
			})
		}
		wg.Wait()
	})).ServeHTTP(rec, req)
	assert.Len(t, rec.Result().Cookies(), 1, "modified: saved with its cookie")
}

// The data API works the same when the middleware loads every session up
// front (its fallback should it not learn scs's context key).
func TestEagerLoading(t *testing.T) {
	mgr, err := session.New(session.Config{Store: memstore.NewWithCleanupInterval(0)})
	require.NoError(t, err)
	session.LoadEagerly(mgr)
	srv := newTLS(t, portal(mgr))
	b := newBrowser(t, srv)
	b.post("/note", url.Values{"note": {"before login"}})
	planted := b.token()
	b.post("/login", url.Values{"user": {"alice"}})
	code, body := b.me()
	assert.Equal(t, http.StatusOK, code)
	assert.True(t, strings.HasPrefix(body, "alice "), body)
	assert.Equal(t, http.StatusUnauthorized, replay(t, srv, planted))
	stolen := b.token()
	resp := b.post("/logout", nil)
	assert.Contains(t, resp.Header.Get("Set-Cookie"), "Max-Age=0")
	assert.Equal(t, http.StatusUnauthorized, replay(t, srv, stolen))
}

// reusedWriter is a ResponseWriter that allocates nothing per request.
type reusedWriter struct {
	h    http.Header
	code int
}

func (w *reusedWriter) Header() http.Header         { return w.h }
func (w *reusedWriter) WriteHeader(code int)        { w.code = code }
func (w *reusedWriter) Write(p []byte) (int, error) { return len(p), nil }

// An authenticated GET of an unchanged session, as an API serves most
// requests, costs a handful of allocations (issue 12: ≤ 8; scs's
// LoadAndSave took 29): the request state, the request's new context,
// the hashed token, the user ID, and the Vary header value.
func TestAuthenticatedGETAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	mgr, err := session.New(session.Config{Store: memstore.NewWithCleanupInterval(0)})
	require.NoError(t, err)
	cookie := loginCookie(t, mgr, "agent-7")
	h := mgr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, _, ok := mgr.User(r); !ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	req := httptest.NewRequest(http.MethodGet, "https://portal.example.com/api/me", nil)
	req.AddCookie(&http.Cookie{Name: "other", Value: "x"})
	req.AddCookie(cookie)
	w := &reusedWriter{h: http.Header{}}
	allocs := testing.AllocsPerRun(100, func() {
		clear(w.h)
		w.code = 0
		h.ServeHTTP(w, req)
		if w.code != http.StatusNoContent {
			t.Fatalf("status %d", w.code)
		}
	})
	assert.LessOrEqual(t, allocs, 5.0)
	assert.Empty(t, w.h.Values("Set-Cookie"))
}
