package session_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/launchready/launchready/session"
)

// Principal is the app's own idea of a signed-in user (with authz, its
// principal type).
type Principal struct {
	UserID   string
	AuthTime time.Time
}

// The glue between session and an authorization layer is two lines of app
// code: read the user from the session, build the app's principal.
func Example_authenticate() {
	mgr, err := session.New(session.Config{})
	if err != nil {
		panic(err)
	}
	authenticate := func(r *http.Request) (Principal, bool) {
		id, authTime, ok := mgr.User(r)
		return Principal{UserID: id, AuthTime: authTime}, ok
	}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/login", func(w http.ResponseWriter, r *http.Request) {
		// ...verify the credentials first...
		if err := mgr.Login(r.Context(), "agent@acme.test"); err != nil {
			http.Error(w, "login failed", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /api/me", func(w http.ResponseWriter, r *http.Request) {
		p, ok := authenticate(r)
		if !ok {
			http.Error(w, "sign in first", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "signed in as %s", p.UserID)
	})
	h := mgr.Handler(mux)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "https://portal.example.com/api/me", nil))
	fmt.Println("anonymous:", rec.Code)

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "https://portal.example.com/api/login", nil))
	cookie := rec.Result().Cookies()[0]
	fmt.Println("login:", rec.Code, cookie.Name, cookie.Secure, cookie.HttpOnly)

	req := httptest.NewRequest("GET", "https://portal.example.com/api/me", nil)
	req.AddCookie(cookie)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Body.String())
	// Output:
	// anonymous: 401
	// login: 204 __Host-session true true
	// signed in as agent@acme.test
}

// Password-reset links: hashed at rest, single use, at most 30 minutes,
// and a new link revokes the older ones.
func ExampleResetTokens() {
	resets, err := session.NewResetTokens(session.ResetConfig{})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	older, _ := resets.Issue(ctx, "u-agent")
	newer, _ := resets.Issue(ctx, "u-agent") // put it in the mail, never in a log
	_, err = resets.Consume(ctx, older)
	fmt.Println("older link:", err)
	user, err := resets.Consume(ctx, newer)
	fmt.Println("newer link:", user, err)
	_, err = resets.Consume(ctx, newer)
	fmt.Println("again:", err)
	// After setting the new password: mgr.PasswordChanged(ctx, user) ends
	// the user's other sessions.
	// Output:
	// older link: session: the reset token is invalid or has expired
	// newer link: u-agent <nil>
	// again: session: the reset token is invalid or has expired
}
