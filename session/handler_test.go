package session_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"strings"
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
// header is sent (first WriteHeader, Write or Flush).
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
