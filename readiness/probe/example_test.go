package probe_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/launchready/launchready/authz"
	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/readiness/probe"
)

// One Client serves every probe: it signs in through the app's own login
// route, sends to the host the app's allowlist accepts, and counts what
// reached each route. Here a host allowlist sits in front of the Mux; the
// Client reads the allowed host from it.
func ExampleClient() {
	pw := strings.Repeat("x", 3) + "-example-password" // built at run time, never committed
	tokens := map[string]authz.Principal{}
	mux, _ := authz.NewMux(authz.Config{Authenticate: func(r *http.Request) (authz.Principal, error) {
		if c, err := r.Cookie("sid"); err == nil {
			if p, ok := tokens[c.Value]; ok {
				return p, nil
			}
		}
		return authz.Principal{}, authz.ErrUnauthenticated
	}})
	mux.HandleFunc("POST /api/login", authz.Public("login form"), func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Email, Password string }
		if json.NewDecoder(r.Body).Decode(&in) != nil || in.Password != pw {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		tokens["t-"+in.Email] = authz.Principal{ID: in.Email, Roles: []string{"support"}}
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "t-" + in.Email, Path: "/", Secure: true, HttpOnly: true})
	})
	mux.HandleFunc("GET /api/clients", authz.Role("admin"), func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "[]")
	})
	app := hostOnly{host: "portal.example.com", next: mux}

	c := &probe.Client{
		Login:    probe.Login{Path: "/api/login"},
		Accounts: map[string]probe.Account{"agent": {Username: "agent@example.com", Password: pw}},
	}
	agent := authz.Principal{ID: "agent@example.com", Roles: []string{"support"}}
	report, _ := readiness.Run(context.Background(), readiness.Target{
		Server: &http.Server{Handler: app, ReadHeaderTimeout: time.Second},
		Checks: []readiness.Check{&probe.AuthProbe{Client: c, Identities: []probe.Identity{
			{Name: "support agent", Principal: agent, Account: "agent"},
		}}},
	})
	fmt.Println("not exercised:", len(report.ByID("PROBE001")), "refused in production:", len(report.ByID("AUTH006")))
	// The plain requests and their path-trick variants (AUTH009): the
	// policy refused the plain ones; the Mux's firewall, redirects and
	// router refused the variants before any route matched.
	for _, r := range report.Reach {
		fmt.Println(r.Route, r.Sent, "sent,", r.Reached, "reached the handler, refused:", r.Refused)
	}
	// Output:
	// not exercised: 0 refused in production: 0
	// GET /api/clients 20 sent, 0 reached the handler, refused: map[a layer in front of the route's handler (307):8 authorization (401):2 authorization (403):2 path firewall or router (400):4 router: no route matched (404):4]
}

// hostOnly answers only for its host, like a Host allowlist middleware; its
// AllowedHosts method is what the Client reads.
type hostOnly struct {
	host string
	next http.Handler
}

func (h hostOnly) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Host != h.host {
		http.Error(w, "misdirected", http.StatusMisdirectedRequest)
		return
	}
	h.next.ServeHTTP(w, r)
}
func (h hostOnly) Unwrap() http.Handler   { return h.next }
func (h hostOnly) AllowedHosts() []string { return []string{h.host} }
