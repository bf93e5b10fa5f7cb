package authz_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/launchready/launchready/authz"
)

// An admin route that a stolen password alone does not open, and an
// export that wants a second factor verified in the last 15 minutes.
func ExamplePolicy_RequireMFA() {
	login := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	now := login.Add(20 * time.Minute)
	// Factors come from the session: what the user verified, and when.
	sessions := map[string][]authz.Factor{
		"password-only": {{Method: "pwd", At: login}},
		"with-code":     {{Method: "pwd", At: login}, {Method: "otp", At: login}},
	}
	mux, err := authz.NewMux(authz.Config{
		Now: func() time.Time { return now },
		Authenticate: func(r *http.Request) (authz.Principal, error) {
			f, ok := sessions[r.Header.Get("Authorization")]
			if !ok {
				return authz.Principal{}, authz.ErrUnauthenticated
			}
			return authz.Principal{ID: "u1", Roles: []string{"admin"}, Factors: f}, nil
		}})
	if err != nil {
		panic(err)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "ok") })
	mux.Handle("GET /admin/audit", authz.Role("admin").RequireMFA(), ok)
	mux.Handle("GET /api/export", authz.Role("admin").RequireMFA().Fresh(15*time.Minute), ok)

	for _, c := range []struct{ session, path string }{
		{"password-only", "/admin/audit"},
		{"with-code", "/admin/audit"},
		{"with-code", "/api/export"}, // the code is 20 minutes old
	} {
		r := httptest.NewRequest("GET", c.path, nil)
		r.Header.Set("Authorization", c.session)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		fmt.Println(c.session, c.path, w.Code, w.Body.String())
	}
	// Output:
	// password-only /admin/audit 401 {"type":"urn:launchready:problem:step-up","title":"Step-up authentication required","status":401,"detail":"Verify your second factor (the code of your authenticator app) to use this resource.","step_up":"mfa"}
	//
	// with-code /admin/audit 200 ok
	// with-code /api/export 401 {"type":"urn:launchready:problem:step-up","title":"Step-up authentication required","status":401,"detail":"Verify your identity again to use this resource: your last verification is too old.","step_up":"reauthenticate","max_age":900}
}
