package session_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/alexedwards/scs/v2/memstore"

	"github.com/launchready/launchready/session"
)

// FuzzSessionCookie sends attacker-chosen session cookie values: none may
// crash the middleware, answer 5xx, or sign anyone in.
func FuzzSessionCookie(f *testing.F) {
	for _, seed := range []string{"", "x", "AAAA", "../../etc/passwd", "a=b; c", "\x00\xff", "yimIVnXYONfZO8z47n1WOjyc6miUiN2IfrrC7AaVh8A"} {
		f.Add(seed)
	}
	mgr, err := session.New(session.Config{Store: memstore.NewWithCleanupInterval(0)})
	if err != nil {
		f.Fatal(err)
	}
	h := mgr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, _, ok := mgr.User(r); ok {
			w.WriteHeader(http.StatusTeapot)
		}
	}))
	f.Fuzz(func(t *testing.T, value string) {
		req := httptest.NewRequest(http.MethodGet, "https://portal.example.com/", nil)
		req.Header.Set("Cookie", session.DefaultCookieName+"="+value)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("cookie %q: status %d", value, rec.Code)
		}
	})
}

// FuzzConfigCookieName: New either refuses a cookie name with an error or
// produces a Set-Cookie that parses back to the same name.
func FuzzConfigCookieName(f *testing.F) {
	for _, seed := range []string{"", "sid", "__Host-x", "__Secure-x", "a b", "a;b", "é", "a=b"} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	f.Fuzz(func(t *testing.T, name string, plain bool) {
		mgr, err := session.New(session.Config{CookieName: name, InsecurePlainHTTP: plain, Store: memstore.NewWithCleanupInterval(0)})
		if err != nil {
			return
		}
		rec := httptest.NewRecorder()
		mgr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := mgr.Login(r.Context(), "u"); err != nil {
				t.Fatal(err)
			}
		})).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "https://portal.example.com/", nil))
		cs := rec.Result().Cookies()
		if len(cs) != 1 || cs[0].Name != mgr.Settings().CookieName {
			t.Fatalf("name %q: cookies %v", name, cs)
		}
	})
}
