package probe_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/launchready/launchready/authz"
	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/readiness/probe"
)

// The auth probe in an app's test: an anonymous client, a client user of
// each tenant (each naming the other tenant's objects as Foreign) and a
// support agent request every route. The invoices handler here forgot its
// tenant check, so the probe reports the BOLA (AUTH007) — and the static
// check sees the route has no object-level check (AUTH003).
func ExampleAuthProbe() {
	users := map[string]authz.Principal{
		"alice": {ID: "u-alice", Roles: []string{"client"}, Tenant: "client-a"},
		"bob":   {ID: "u-bob", Roles: []string{"client"}, Tenant: "client-b"},
		"agent": {ID: "u-agent", Roles: []string{"support"}},
	}
	mux, err := authz.NewMux(authz.Config{Authenticate: func(r *http.Request) (authz.Principal, error) {
		name, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if p, ok := users[name]; ok {
			return p, nil
		}
		return authz.Principal{}, authz.ErrUnauthenticated
	}})
	if err != nil {
		panic(err)
	}
	mux.HandleFunc("GET /healthz", authz.Public("uptime monitor"), func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})
	mux.HandleFunc("GET /api/clients", authz.Role("support"), func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `["client-a","client-b"]`)
	})
	mux.HandleFunc("GET /api/clients/{id}/invoices", authz.Authenticated(), func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `[{"invoice":1}]`) // forgot: does r.PathValue("id") belong to the principal's tenant?
	})

	as := func(name string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+name) }
	}
	authProbe := &probe.AuthProbe{
		Client: &probe.Client{Values: map[string]string{"id": "client-a"}},
		Identities: []probe.Identity{
			{Name: "alice", Principal: users["alice"], Authenticate: as("alice"), Foreign: map[string]string{"id": "client-b"}},
			{Name: "bob", Principal: users["bob"], Authenticate: as("bob"), Foreign: map[string]string{"id": "client-a"}},
			{Name: "agent", Principal: users["agent"], Authenticate: as("agent")},
		},
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: time.Second, ReadTimeout: time.Second,
		WriteTimeout: time.Second, IdleTimeout: time.Second, MaxHeaderBytes: 1 << 16}
	report, err := readiness.Run(context.Background(), readiness.Target{Server: srv, Checks: []readiness.Check{authProbe}})
	if err != nil {
		panic(err)
	}
	for _, f := range report.Findings {
		if strings.HasPrefix(f.ID, "AUTH") {
			fmt.Println(f.ID, f.Route, "—", f.Seen[:min(len(f.Seen), 60)])
		}
	}
	// Output:
	// AUTH003 GET /api/clients/{id}/invoices — the route addresses an object by {id} but its policy (authen
	// AUTH007 GET /api/clients/{id}/invoices — alice got 200 from GET /api/clients/client-b/invoices
	// AUTH007 GET /api/clients/{id}/invoices — bob got 200 from GET /api/clients/client-a/invoices
	// AUTH013 GET /api/clients — a staff or export route does not require a second factor (po
}
