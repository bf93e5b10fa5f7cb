package readiness_test

import (
	"net/http"
	"os"

	"github.com/launchready/launchready/readiness"
)

// The first look at an app that uses none of the kit: its plain ServeMux
// listed route by route, with what protects each (nothing yet) and the
// findings on it. AUTH015 marks the sensitive routes to move to policies.
func ExampleRoutes() {
	h := func(http.ResponseWriter, *http.Request) {}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", h)
	mux.HandleFunc("GET /api/clients/{id}", h)
	mux.HandleFunc("GET /admin/users", h)
	_ = readiness.WriteRoutes(os.Stdout, readiness.Routes(mux))
	// Output:
	// ROUTE                  POLICY  OBJECT  LIMITS  BODY  CSRF  AUDIT  FINDINGS
	// GET /admin/users       none    -       -       -     -     -      AUTH015
	// GET /api/clients/{id}  none    -       -       -     -     -      AUTH015 INPUT004
	// GET /healthz           none    -       -       -     -     -      -
}
