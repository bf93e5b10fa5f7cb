package authz_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/launchready/launchready/authz"
)

// A small portal: a public health check, an admin-only audit log, and
// client records that staff can read and each client only its own.
func Example() {
	// The app's own glue: who is signing in (from the session, a token...).
	accounts := map[string]authz.Principal{
		"admin-token": {ID: "u1", Roles: []string{"admin"}},
		"alice-token": {ID: "u3", Roles: []string{"client"}, Tenant: "client-a"},
		"bob-token":   {ID: "u4", Roles: []string{"client"}, Tenant: "client-b"},
	}
	mux, err := authz.NewMux(authz.Config{Authenticate: func(r *http.Request) (authz.Principal, error) {
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
	hello := func(w http.ResponseWriter, r *http.Request) {
		p, _ := authz.PrincipalFrom(r.Context())
		fmt.Fprintf(w, "hello %s", p.ID)
	}

	mux.HandleFunc("GET /healthz", authz.Public("uptime monitor"), hello)
	mux.HandleFunc("GET /api/admin/audit", authz.Role("admin"), hello)
	mux.HandleFunc("GET /api/clients/{id}",
		authz.Role("admin", "client").Object(loadClient, authz.SameTenant.OrRole("admin")), hello)

	for _, req := range []struct{ token, path string }{
		{"", "/healthz"},
		{"", "/api/admin/audit"},
		{"alice-token", "/api/admin/audit"},
		{"admin-token", "/api/admin/audit"},
		{"alice-token", "/api/clients/client-a"},
		{"bob-token", "/api/clients/client-a"},
		{"admin-token", "/api/clients/client-b"},
		{"admin-token", "/files/..%2Fadmin"},
	} {
		r := httptest.NewRequest("GET", req.path, nil)
		r.Header.Set("Authorization", req.token)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		fmt.Println(w.Code, req.path)
	}
	for _, rt := range mux.Routes() {
		fmt.Printf("%-26s %s\n", rt.Pattern, rt.Policy)
	}
	// Output:
	// 200 /healthz
	// 401 /api/admin/audit
	// 403 /api/admin/audit
	// 200 /api/admin/audit
	// 200 /api/clients/client-a
	// 404 /api/clients/client-a
	// 200 /api/clients/client-b
	// 400 /files/..%2Fadmin
	// GET /healthz               public ("uptime monitor")
	// GET /api/admin/audit       role(admin)
	// GET /api/clients/{id}      role(admin|client) object(same tenant or role admin)
}
