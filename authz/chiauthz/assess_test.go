package chiauthz_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/authz"
	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/validate"
)

// plainChiPortal is an existing chi app that uses none of the kit: 20
// routes across Route, Mount, Group and With, regexp parameters, and one
// kit middleware (a body schema) on one route.
func plainChiPortal() *chi.Mux {
	type note struct {
		Text string `json:"text" validate:"required"`
	}
	h := func(w http.ResponseWriter, r *http.Request) {}
	r := chi.NewRouter()
	r.Use(func(next http.Handler) http.Handler { return next })
	r.Get("/", h)
	r.Get("/healthz", h)
	r.Post("/api/login", h)
	r.Post("/api/logout", h)
	r.Post("/api/password-reset", h)
	r.Get("/api/me", h)
	r.Route("/api/clients", func(r chi.Router) {
		r.Get("/", h)
		r.Route("/{clientID:[a-z0-9-]+}", func(r chi.Router) {
			r.Get("/", h)
			r.Get("/tickets", h)
			r.Post("/tickets", h)
			r.Get("/invoices", h)
			r.With(func(next http.Handler) http.Handler { return next }).Get("/export", h)
			r.Method("POST", "/notes", validate.JSON(func(http.ResponseWriter, *http.Request, *note) {}, nil))
		})
	})
	r.Group(func(r chi.Router) {
		r.Get("/api/tickets/{id:[0-9]+}", h)
		r.Patch("/api/tickets/{id:[0-9]+}", h)
	})
	admin := chi.NewRouter()
	admin.Get("/audit", h)
	admin.Get("/users", h)
	admin.Delete("/users/{userID}", h)
	r.Mount("/admin", admin)
	r.Get("/app.js", h)
	r.Get("/app.css", h)
	return r
}

func TestAssessPlainChiApp(t *testing.T) {
	app := plainChiPortal()
	rows := readiness.Routes(app)
	byPattern := map[string]readiness.RouteInfo{}
	for _, row := range rows {
		byPattern[row.Pattern] = row
		assert.Equal(t, "none", row.Policy, row.Pattern)
		assert.False(t, row.Protected, row.Pattern)
	}
	want := []string{
		"GET /{$}", "GET /healthz", "POST /api/login", "POST /api/logout", "POST /api/password-reset", "GET /api/me",
		"GET /api/clients", "GET /api/clients/{clientID}", "GET /api/clients/{clientID}/tickets",
		"POST /api/clients/{clientID}/tickets", "GET /api/clients/{clientID}/invoices", "GET /api/clients/{clientID}/export",
		"POST /api/clients/{clientID}/notes", "GET /api/tickets/{id}", "PATCH /api/tickets/{id}",
		"GET /admin/audit", "GET /admin/users", "DELETE /admin/users/{userID}", "GET /app.js", "GET /app.css",
	}
	require.Len(t, rows, 20)
	for _, p := range want {
		assert.Contains(t, byPattern, p, "the mounted and nested routes keep their full patterns")
	}
	assert.Equal(t, "chiauthz_test.note", byPattern["POST /api/clients/{clientID}/notes"].Body, "recognised middleware is shown")
	assert.Equal(t, []string{"AUTH015", "INPUT004"}, byPattern["GET /api/tickets/{id}"].Findings)
	assert.Empty(t, byPattern["GET /healthz"].Findings)

	rep, err := readiness.Run(t.Context(), readiness.Target{Server: serverFor(app), Env: readiness.Production})
	require.NoError(t, err)
	require.Len(t, rep.ByID("AUTH001"), 1, "one line about the router, not one per route")
	assert.Contains(t, rep.ByID("AUTH001")[0].Seen, "plain chi router (20 routes)")
	var flagged []string
	for _, f := range rep.ByID("AUTH015") {
		flagged = append(flagged, f.Route)
		assert.Equal(t, readiness.Blocker, f.Severity)
		assert.Contains(t, f.Fix, "chiauthz.Router")
	}
	assert.ElementsMatch(t, []string{
		"GET /api/me", "GET /api/clients", "GET /api/clients/{clientID}", "GET /api/clients/{clientID}/tickets",
		"POST /api/clients/{clientID}/tickets", "GET /api/clients/{clientID}/invoices", "GET /api/clients/{clientID}/export",
		"POST /api/clients/{clientID}/notes", "GET /api/tickets/{id}", "PATCH /api/tickets/{id}",
		"GET /admin/audit", "GET /admin/users", "DELETE /admin/users/{userID}",
	}, flagged, "each unprotected sensitive route once; sign-in, health and static routes are not findings")
	fix := map[string]readiness.Finding{}
	for _, f := range rep.ByID("AUTH015") {
		fix[f.Route] = f
	}
	assert.Contains(t, fix["DELETE /admin/users/{userID}"].Fix, `r.Delete("/admin/users/{userID}", authz.Role("admin"), h)`)
	assert.Contains(t, fix["GET /api/clients/{clientID}/invoices"].Fix, `authz.Authenticated().Object(loadClient, authz.SameTenant.OrRole("admin", "support"))`)
	assert.Contains(t, fix["GET /api/clients/{clientID}/invoices"].Seen, "group /api/clients (7 of 7 routes to migrate)")
	assert.Contains(t, fix["POST /api/clients/{clientID}/notes"].Seen, "protection seen: body chiauthz_test.note")

	var table bytes.Buffer
	require.NoError(t, readiness.WriteRoutes(&table, rep.Routes))
	for _, p := range want {
		assert.Contains(t, table.String(), p+" ")
	}
	assert.Equal(t, 21, strings.Count(table.String(), "\n"), "a header and one line per route:\n%s", table.String())
}

// A chi router mounted under one authz route hides its routes: AUTH012
// names the route, AUTH015 lists its sensitive routes (issue: "a chi router mounted behind one authz route is
// invisible").
func TestMountedPlainChiIsFlagged(t *testing.T) {
	r := newRouter(t)
	r.MountHandler("/legacy", authz.Authenticated(), plainChiPortal())
	rep := run(t, r)
	require.NotEmpty(t, rep.ByID("AUTH012"), "the mount hands a subtree to a router")
	assert.Equal(t, "/legacy/{rest...}", rep.ByID("AUTH012")[0].Route)
	assert.Empty(t, rep.ByID("AUTH001"), "AUTH001 is for plain ServeMuxes; one finding per mount")
	var inside []string
	for _, f := range rep.ByID("AUTH015") {
		inside = append(inside, f.Route)
	}
	assert.Contains(t, inside, "GET /legacy/admin/audit", "the mounted routes are listed with full patterns")
	assert.Len(t, inside, 13)
}
