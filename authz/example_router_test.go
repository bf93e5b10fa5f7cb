package authz_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/launchready/launchready/authz"
)

// routeInfoKey is a router's own context key.
type routeInfoKey struct{}

// routeInfo is a router's per-request state, read by its handlers.
type routeInfo struct{ name string }

// An adapter for a router that keeps per-request state in the request
// context prepares the request once with WithRouterValue before routing;
// Enforce then records its decision in that same context, so the router's
// state, the decision and the request copy cost one allocation.
func ExampleEnforcer_WithRouterValue() {
	e, err := authz.NewEnforcer(authz.Config{Authenticate: func(r *http.Request) (authz.Principal, error) {
		if r.Header.Get("Authorization") != "agent-token" {
			return authz.Principal{}, authz.ErrUnauthenticated
		}
		return authz.Principal{ID: "u2", Roles: []string{"support"}}, nil
	}})
	if err != nil {
		panic(err)
	}
	policy := authz.Role("support")
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := r.Context().Value(routeInfoKey{}).(*routeInfo)
		p, _ := authz.PrincipalFrom(r.Context())
		fmt.Fprintf(w, "%s for %s", info.name, p.ID)
	})
	router := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !e.Firewall(w, r) {
			return
		}
		info := &routeInfo{}
		r = e.WithRouterValue(r, routeInfoKey{}, info)
		if !strings.HasPrefix(r.URL.Path, "/api/clients") { // the router's matching
			e.Deny(w, r, authz.Denial{Status: http.StatusNotFound})
			return
		}
		info.name = "client list"
		e.Enforce(w, r, "GET /api/clients", &policy, handler)
	})

	for _, token := range []string{"agent-token", ""} {
		r := httptest.NewRequest("GET", "/api/clients", nil)
		r.Header.Set("Authorization", token)
		w := httptest.NewRecorder()
		router.ServeHTTP(w, r)
		if w.Code == http.StatusOK {
			fmt.Println(w.Code, w.Body.String())
		} else {
			fmt.Println(w.Code, w.Header().Get("Content-Type"))
		}
	}
	// Output:
	// 200 client list for u2
	// 401 application/problem+json
}
