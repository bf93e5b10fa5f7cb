package chiauthz_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/launchready/launchready/authz"
	"github.com/launchready/launchready/authz/chiauthz"
)

// A chi app keeps its routing shape — Route, With, Mount — and every route
// states its policy.
func Example() {
	accounts := map[string]authz.Principal{
		"alice-token": {ID: "u3", Roles: []string{"client"}, Tenant: "client-a"},
		"bob-token":   {ID: "u4", Roles: []string{"client"}, Tenant: "client-b"},
	}
	r, err := chiauthz.New(authz.Config{Authenticate: func(r *http.Request) (authz.Principal, error) {
		p, ok := accounts[r.Header.Get("Authorization")]
		if !ok {
			return authz.Principal{}, authz.ErrUnauthenticated
		}
		return p, nil
	}})
	if err != nil {
		panic(err)
	}
	loadClient := func(r *http.Request) (authz.Object, error) {
		switch id := r.PathValue("id"); id {
		case "client-a", "client-b":
			return authz.Object{Tenant: id}, nil
		}
		return authz.Object{}, authz.ErrNotFound
	}
	hello := func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "hello") }

	r.Get("/healthz", authz.Public("uptime monitor"), hello)
	r.Route("/api/clients", func(r *chiauthz.Router) {
		r.Get("/{id:[a-z0-9-]+}", authz.Role("client").Object(loadClient, authz.SameTenant), hello)
	})
	admin := chiauthz.NewSubrouter()
	admin.Get("/audit", authz.Role("admin"), hello)
	r.Mount("/api/admin", admin)

	for _, req := range []struct{ token, path string }{
		{"", "/healthz"},
		{"alice-token", "/api/clients/client-a"},
		{"bob-token", "/api/clients/client-a"},
		{"alice-token", "/api/admin/audit"},
		{"alice-token", "/api/clients/..%2Fadmin"},
	} {
		rq := httptest.NewRequest("GET", req.path, nil)
		rq.Header.Set("Authorization", req.token)
		w := httptest.NewRecorder()
		r.ServeHTTP(w, rq)
		fmt.Println(w.Code, req.path)
	}
	for _, rt := range r.Routes() {
		fmt.Printf("%-24s %s\n", rt.Pattern, rt.Policy)
	}
	// Output:
	// 200 /healthz
	// 200 /api/clients/client-a
	// 404 /api/clients/client-a
	// 403 /api/admin/audit
	// 400 /api/clients/..%2Fadmin
	// GET /healthz             public ("uptime monitor")
	// GET /api/clients/{id}    role(client) object(same tenant)
	// GET /api/admin/audit     role(admin)
}
