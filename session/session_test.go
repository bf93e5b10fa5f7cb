package session_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/session"
)

// portal is a tiny app: login, logout, privilege change, whoami, notes.
func portal(mgr *session.Manager) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if err := mgr.Login(r.Context(), r.FormValue("user")); err != nil {
			http.Error(w, "bad login", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if err := mgr.Logout(r.Context()); err != nil {
			http.Error(w, "logout failed", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /promote", func(w http.ResponseWriter, r *http.Request) {
		if err := mgr.RenewToken(r.Context()); err != nil {
			http.Error(w, "renew failed", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	// A password change by the signed-in user, and a reset completed from
	// the signed-out form (the emailed token named the user).
	mux.HandleFunc("POST /password", func(w http.ResponseWriter, r *http.Request) {
		id, _, _ := mgr.User(r)
		n, err := mgr.PasswordChanged(r.Context(), id)
		if err != nil {
			http.Error(w, "change failed", http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, n)
	})
	mux.HandleFunc("POST /reset", func(w http.ResponseWriter, r *http.Request) {
		n, err := mgr.PasswordChanged(r.Context(), r.FormValue("user"))
		if err != nil {
			http.Error(w, "reset failed", http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, n)
	})
	mux.HandleFunc("POST /note", func(w http.ResponseWriter, r *http.Request) {
		mgr.Engine().Put(r.Context(), "note", r.FormValue("note"))
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		id, authTime, ok := mgr.User(r)
		if !ok {
			http.Error(w, "who are you?", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "%s %d", id, authTime.Unix())
	})
	// Second factor: /begin after the password, /complete after the code,
	// /stepup for a signed-in user, /auth reports the factors.
	mux.HandleFunc("POST /begin", func(w http.ResponseWriter, r *http.Request) {
		if err := mgr.BeginLogin(r.Context(), r.FormValue("user")); err != nil {
			http.Error(w, "bad login", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /complete", func(w http.ResponseWriter, r *http.Request) {
		if _, err := mgr.CompleteLogin(r.Context(), session.MethodOTP); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /stepup", func(w http.ResponseWriter, r *http.Request) {
		if err := mgr.StepUp(r.Context(), r.FormValue("method")); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /auth", func(w http.ResponseWriter, r *http.Request) {
		a, ok := mgr.Auth(r)
		if !ok {
			http.Error(w, "who are you?", http.StatusUnauthorized)
			return
		}
		fmt.Fprint(w, a.User)
		for _, f := range a.Factors {
			fmt.Fprintf(w, " %s@%d", f.Method, f.At.Unix())
		}
	})
	return mgr.Handler(mux)
}

type browser struct {
	t   *testing.T
	srv *httptest.Server
	c   *http.Client
}

func newBrowser(t *testing.T, srv *httptest.Server) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := &http.Client{Transport: srv.Client().Transport, Jar: jar}
	return &browser{t: t, srv: srv, c: c}
}

func (b *browser) post(path string, form url.Values) *http.Response {
	b.t.Helper()
	resp, err := b.c.PostForm(b.srv.URL+path, form)
	require.NoError(b.t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp
}

func (b *browser) me() (int, string) {
	b.t.Helper()
	resp, err := b.c.Get(b.srv.URL + "/me")
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (b *browser) token() string {
	u, _ := url.Parse(b.srv.URL)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == session.DefaultCookieName {
			return c.Value
		}
	}
	return ""
}

// replay requests /me with a stolen token and nothing else.
func replay(t *testing.T, srv *httptest.Server, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/me", nil)
	require.NoError(t, err)
	req.AddCookie(&http.Cookie{Name: session.DefaultCookieName, Value: token})
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	return resp.StatusCode
}

func newServer(t *testing.T, cfg session.Config) (*session.Manager, *httptest.Server) {
	t.Helper()
	mgr, err := session.New(cfg)
	require.NoError(t, err)
	return mgr, newTLS(t, portal(mgr))
}

func newTLS(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestDefaultsAreHardened(t *testing.T) {
	mgr, srv := newServer(t, session.Config{})
	assert.Equal(t, session.Settings{
		CookieName: "__Host-session", Path: "/", Secure: true, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, IdleTimeout: 30 * time.Minute, Lifetime: 12 * time.Hour,
		HashedTokens: true, InMemoryStore: true, CanLogoutEverywhere: true,
	}, mgr.Settings())

	b := newBrowser(t, srv)
	resp := b.post("/login", url.Values{"user": {"agent-7"}})
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	sc := resp.Header.Get("Set-Cookie")
	for _, want := range []string{"__Host-session=", "Path=/", "HttpOnly", "Secure", "SameSite=Lax"} {
		assert.Contains(t, sc, want)
	}
	for _, not := range []string{"Domain=", "Max-Age=", "Expires="} {
		assert.NotContains(t, sc, not, "a non-persistent host-only cookie by default")
	}
}

func TestInsecurePlainHTTPIsExplicit(t *testing.T) {
	mgr, err := session.New(session.Config{InsecurePlainHTTP: true})
	require.NoError(t, err)
	s := mgr.Settings()
	assert.Equal(t, "session", s.CookieName)
	assert.False(t, s.Secure)
	assert.True(t, s.HttpOnly)

	rec := httptest.NewRecorder()
	mgr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, mgr.Login(r.Context(), "dev"))
	})).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "http://localhost/login", nil))
	sc := rec.Header().Get("Set-Cookie")
	assert.True(t, strings.HasPrefix(sc, "session="), sc)
	assert.NotContains(t, sc, "Secure")
}

func TestConfigRefused(t *testing.T) {
	tests := []struct {
		name string
		cfg  session.Config
		want string
	}{
		{"negative idle", session.Config{IdleTimeout: -time.Second}, "Config.IdleTimeout"},
		{"idle and no idle", session.Config{IdleTimeout: time.Minute, InsecureNoIdleTimeout: true}, "InsecureNoIdleTimeout"},
		{"negative lifetime", session.Config{Lifetime: -time.Second}, "Config.Lifetime"},
		{"idle longer than lifetime", session.Config{IdleTimeout: 2 * time.Hour, Lifetime: time.Hour}, "longer than Config.Lifetime"},
		{"SameSite None without the Insecure name", session.Config{SameSite: http.SameSiteNoneMode}, "InsecureSameSiteNone"},
		{"Insecure None but Lax", session.Config{InsecureSameSiteNone: true}, "InsecureSameSiteNone"},
		{"unknown SameSite", session.Config{SameSite: 9}, "Config.SameSite"},
		{"bad cookie name", session.Config{CookieName: "a b;c"}, "Config.CookieName"},
		{"__Host- over http", session.Config{CookieName: "__Host-x", InsecurePlainHTTP: true}, "__Host-"},
		{"__Secure- over http", session.Config{CookieName: "__Secure-x", InsecurePlainHTTP: true}, "__Secure-"},
		{"__Host- with Domain", session.Config{Domain: "example.com"}, "Config.Domain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mgr, err := session.New(tt.cfg)
			require.Error(t, err)
			assert.Nil(t, mgr)
			assert.True(t, strings.HasPrefix(err.Error(), "session: "), err.Error())
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// Attack: session fixation. The attacker plants a token that the server
// knows (an anonymous session with data); after the victim logs in, that
// token must not be signed in.
func TestLoginRenewsTokenAgainstFixation(t *testing.T) {
	_, srv := newServer(t, session.Config{})
	victim := newBrowser(t, srv)
	victim.post("/note", url.Values{"note": {"before login"}})
	planted := victim.token()
	require.NotEmpty(t, planted)

	resp := victim.post("/login", url.Values{"user": {"alice"}})
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.NotEqual(t, planted, victim.token(), "login must issue a new token")
	code, body := victim.me()
	assert.Equal(t, http.StatusOK, code)
	assert.True(t, strings.HasPrefix(body, "alice "), body)
	assert.Equal(t, http.StatusUnauthorized, replay(t, srv, planted), "the planted token must be dead")
}

func TestLoginRefusesEmptyUser(t *testing.T) {
	_, srv := newServer(t, session.Config{})
	b := newBrowser(t, srv)
	assert.Equal(t, http.StatusBadRequest, b.post("/login", url.Values{"user": {""}}).StatusCode)
	code, _ := b.me()
	assert.Equal(t, http.StatusUnauthorized, code)
}

func TestRenewTokenAtPrivilegeChange(t *testing.T) {
	_, srv := newServer(t, session.Config{})
	b := newBrowser(t, srv)
	b.post("/login", url.Values{"user": {"alice"}})
	_, before := b.me()
	old := b.token()
	require.Equal(t, http.StatusNoContent, b.post("/promote", nil).StatusCode)
	assert.NotEqual(t, old, b.token())
	code, after := b.me()
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, before, after, "user and auth time survive the renewal")
	assert.Equal(t, http.StatusUnauthorized, replay(t, srv, old), "the pre-renewal token must be dead")
}

// Attack: replay of a copied token after the user logged out.
func TestLogoutDestroysServerSide(t *testing.T) {
	_, srv := newServer(t, session.Config{})
	b := newBrowser(t, srv)
	b.post("/login", url.Values{"user": {"alice"}})
	stolen := b.token()
	require.Equal(t, http.StatusOK, replay(t, srv, stolen))

	resp := b.post("/logout", nil)
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	sc := resp.Header.Get("Set-Cookie")
	assert.Contains(t, sc, "__Host-session=;")
	assert.Contains(t, sc, "Max-Age=0", "the cookie is expired in the browser")
	assert.Empty(t, b.token())
	code, _ := b.me()
	assert.Equal(t, http.StatusUnauthorized, code)
	assert.Equal(t, http.StatusUnauthorized, replay(t, srv, stolen), "a copied token must not outlive logout")
}

func TestLogoutEverywhere(t *testing.T) {
	mgr, srv := newServer(t, session.Config{})
	laptop, phone, bob := newBrowser(t, srv), newBrowser(t, srv), newBrowser(t, srv)
	laptop.post("/login", url.Values{"user": {"alice"}})
	phone.post("/login", url.Values{"user": {"alice"}})
	bob.post("/login", url.Values{"user": {"bob"}})

	n, err := mgr.LogoutEverywhere(context.Background(), "alice")
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	for _, b := range []*browser{laptop, phone} {
		code, _ := b.me()
		assert.Equal(t, http.StatusUnauthorized, code)
	}
	code, _ := bob.me()
	assert.Equal(t, http.StatusOK, code, "other users stay signed in")

	_, err = mgr.LogoutEverywhere(context.Background(), "")
	assert.ErrorIs(t, err, session.ErrNoUserID)
}

// plainStore hides memstore's All method.
type plainStore struct{ s scs.Store }

func (p plainStore) Find(token string) ([]byte, bool, error) { return p.s.Find(token) }
func (p plainStore) Commit(token string, b []byte, exp time.Time) error {
	return p.s.Commit(token, b, exp)
}
func (p plainStore) Delete(token string) error { return p.s.Delete(token) }

func TestLogoutEverywhereNeedsIterableStore(t *testing.T) {
	mgr, err := session.New(session.Config{Store: plainStore{memstore.NewWithCleanupInterval(0)}})
	require.NoError(t, err)
	assert.False(t, mgr.Settings().CanLogoutEverywhere)
	assert.False(t, mgr.Settings().InMemoryStore, "readiness cannot see through a wrapper")
	_, err = mgr.LogoutEverywhere(context.Background(), "alice")
	assert.ErrorIs(t, err, session.ErrNotIterable)
}

// A store dump must not contain replayable tokens.
func TestTokensAreHashedInStore(t *testing.T) {
	store := memstore.NewWithCleanupInterval(0)
	_, srv := newServer(t, session.Config{Store: store})
	b := newBrowser(t, srv)
	b.post("/login", url.Values{"user": {"alice"}})
	token := b.token()
	all, err := store.All()
	require.NoError(t, err)
	require.Len(t, all, 1)
	sum := sha256.Sum256([]byte(token))
	_, hashed := all[base64.RawURLEncoding.EncodeToString(sum[:])]
	_, raw := all[token]
	assert.True(t, hashed)
	assert.False(t, raw)
}

func TestUserFailsClosedWithoutHandler(t *testing.T) {
	mgr, err := session.New(session.Config{})
	require.NoError(t, err)
	id, at, ok := mgr.User(httptest.NewRequest(http.MethodGet, "/", nil))
	assert.False(t, ok)
	assert.Empty(t, id)
	assert.True(t, at.IsZero())
}

func TestStoreErrorIsProblemJSON(t *testing.T) {
	mgr, err := session.New(session.Config{Store: failingStore{}})
	require.NoError(t, err)
	h := mgr.Handler(http.NotFoundHandler())
	req := httptest.NewRequest(http.MethodGet, "https://portal.example.com/", nil)
	req.AddCookie(&http.Cookie{Name: session.DefaultCookieName, Value: "some-token"})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	assert.NotContains(t, rec.Body.String(), "db password", "no internals in the response")
	assert.Contains(t, rec.Body.String(), `"status":500`)
}

type failingStore struct{}

func (failingStore) Find(string) ([]byte, bool, error) {
	return nil, false, errors.New("dial tcp: db password rejected")
}
func (failingStore) Commit(string, []byte, time.Time) error { return errors.New("down") }
func (failingStore) Delete(string) error                    { return errors.New("down") }

func TestHandlerIsWalkable(t *testing.T) {
	mgr, err := session.New(session.Config{})
	require.NoError(t, err)
	next := http.NotFoundHandler()
	h := mgr.Handler(next)
	sh, ok := h.(*session.Handler)
	require.True(t, ok)
	assert.Equal(t, mgr, sh.Manager())
	assert.Equal(t, mgr.Settings(), sh.Settings())
	assert.NotNil(t, sh.Unwrap())
}

// Concurrent requests on one session: the identity the docs promise to keep
// survives, whatever the interleaving (run with -race). Notes written by
// concurrent requests follow last-write-wins and are not asserted.
func TestConcurrentRequestsKeepIdentity(t *testing.T) {
	_, srv := newServer(t, session.Config{})
	b := newBrowser(t, srv)
	b.post("/login", url.Values{"user": {"alice"}})
	token := b.token()

	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var req *http.Request
			if i%2 == 0 {
				req, _ = http.NewRequest(http.MethodPost, srv.URL+"/note", strings.NewReader(url.Values{"note": {fmt.Sprint(i)}}.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			} else {
				req, _ = http.NewRequest(http.MethodGet, srv.URL+"/me", nil)
			}
			req.AddCookie(&http.Cookie{Name: session.DefaultCookieName, Value: token})
			resp, err := srv.Client().Do(req)
			if err != nil {
				errs <- err.Error()
				return
			}
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode >= 300 || (i%2 == 1 && !strings.HasPrefix(string(body), "alice ")) {
				errs <- fmt.Sprintf("request %d: %d %q", i, resp.StatusCode, body)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	code, body := b.me()
	assert.Equal(t, http.StatusOK, code)
	assert.True(t, strings.HasPrefix(body, "alice "), body)
}

func TestCustomErrorHandlerAndLogger(t *testing.T) {
	var logs strings.Builder
	called := false
	mgr, err := session.New(session.Config{
		Store:  failingStore{},
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			called = true
			w.WriteHeader(http.StatusServiceUnavailable)
		},
	})
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodGet, "https://portal.example.com/x", nil)
	req.AddCookie(&http.Cookie{Name: session.DefaultCookieName, Value: "some-token"})
	rec := httptest.NewRecorder()
	mgr.Handler(http.NotFoundHandler()).ServeHTTP(rec, req)
	assert.True(t, called)
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Contains(t, logs.String(), "session: store error")
	assert.NotContains(t, logs.String(), "some-token", "the token is never logged")
}
