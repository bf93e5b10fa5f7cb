package probe_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/readiness/probe"
	"github.com/launchready/launchready/session"
)

// In the app's own tests, the session probe signs in through the real login
// route. Run it inside synctest.Test with Advance: time.Sleep to probe idle
// and absolute expiry on the bubble's fake clock as well.
func ExampleSessionProbe() {
	mgr, _ := session.New(session.Config{})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/login", func(w http.ResponseWriter, r *http.Request) {
		// ...the app verifies the credentials...
		_ = mgr.Login(r.Context(), "agent@acme.test")
	})
	mux.HandleFunc("POST /api/logout", func(w http.ResponseWriter, r *http.Request) {
		_ = mgr.Logout(r.Context())
	})
	mux.HandleFunc("GET /api/me", func(w http.ResponseWriter, r *http.Request) {
		if _, _, ok := mgr.User(r); !ok {
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	srv := &http.Server{Handler: mgr.Handler(mux), ReadHeaderTimeout: 5 * time.Second}

	report, err := readiness.Run(context.Background(), readiness.Target{
		Server: srv,
		Checks: []readiness.Check{probe.SessionProbe{
			Login:  probe.SessionRequest{Path: "/api/login", Body: `{"email":"agent@acme.test","password":"…"}`},
			Logout: probe.SessionRequest{Path: "/api/logout"},
			Check:  probe.SessionRequest{Path: "/api/me"},
		}},
	})
	if err != nil {
		panic(err)
	}
	n := 0
	for _, id := range report.IDs() {
		if strings.HasPrefix(id, "SESS") {
			n++
		}
	}
	fmt.Println("session findings:", n)
	// Output: session findings: 0
}
