package chiauthz_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/authz"
	"github.com/launchready/launchready/authz/chiauthz"
	"github.com/launchready/launchready/readiness"
)

// The steps of docs/adopting.md, run for real: each step's auth findings
// are the ones the guide shows. Run with -v to print them.

func authLines(rep *readiness.Report) []string {
	var out []string
	for _, f := range rep.Findings {
		if f.Item == readiness.ItemAuth {
			line := f.ID
			if f.Route != "" {
				line += " " + f.Route
			}
			if f.Accepted {
				line += " (accepted)"
			}
			out = append(out, line)
		}
	}
	return out
}

func guideStep(t *testing.T, name string, h http.Handler, accepted ...readiness.Acceptance) *readiness.Report {
	t.Helper()
	rep, err := readiness.Run(t.Context(), readiness.Target{Server: serverFor(h), Env: readiness.Production, Accepted: accepted})
	require.NoError(t, err)
	t.Logf("%s\n%s\n  %s", name, rep.Summary(), strings.Join(authLines(rep), "\n  "))
	return rep
}

func okh(w http.ResponseWriter, _ *http.Request) {}

// legacyAPI is the part of plainChiPortal under /api, still plain chi.
func legacyAPI() *chi.Mux {
	r := chi.NewRouter()
	r.Post("/login", okh)
	r.Get("/me", okh)
	r.Route("/clients", func(r chi.Router) {
		r.Get("/", okh)
		r.Get("/{clientID}", okh)
	})
	return r
}

func TestAdoptingGuide(t *testing.T) {
	// Step 1: the assessment of the app as it is.
	rep := guideStep(t, "step 1: assessment", plainChiPortal())
	lines := authLines(rep)
	assert.Equal(t, "AUTH001", lines[0])
	assert.Len(t, rep.ByID("AUTH015"), 13)
	assert.Len(t, rep.Routes, 20)

	// Step 3: the root is a chiauthz.Router; the admin section moved, the
	// API is still a plain chi router under one policy, accepted meanwhile.
	r := newRouter(t)
	r.Get("/healthz", authz.Public("uptime monitor"), okh)
	r.Route("/admin", func(r *chiauthz.Router) {
		r.Get("/audit", authz.Role("admin").RequireMFA(), okh)
		r.Get("/users", authz.Role("admin").RequireMFA(), okh)
		r.Delete("/users/{userID}", authz.Role("admin").RequireMFA().Object(loadClient, authz.SameTenant.OrRole("admin")), okh)
	})
	r.MountHandler("/api", authz.Authenticated(), legacyAPI())
	rep = guideStep(t, "step 3a: admin moved, the API mounted as it is", r)
	assert.Equal(t, []string{"AUTH012 /api/{rest...}", "AUTH015 GET /api/clients", "AUTH015 GET /api/clients/{clientID}", "AUTH015 GET /api/me"},
		authLines(rep), "the mounted router's sensitive routes stay on the plan, with full patterns")
	assert.Len(t, rep.Routes, 5+4, "the table lists the mount and the routes inside it")

	const reason = "the API moves to policies in sprint 14; every call needs a signed-in user meanwhile"
	accepted := []readiness.Acceptance{readiness.AcceptRoute("AUTH012", "/api/{rest...}", reason)}
	for _, f := range rep.ByID("AUTH015") {
		accepted = append(accepted, readiness.AcceptRoute("AUTH015", f.Route, reason))
	}
	rep = guideStep(t, "step 3b: the rest accepted while it moves", r, accepted...)
	assert.Equal(t, []string{"AUTH012 /api/{rest...} (accepted)", "AUTH015 GET /api/clients (accepted)",
		"AUTH015 GET /api/clients/{clientID} (accepted)", "AUTH015 GET /api/me (accepted)"}, authLines(rep))

	// Step 4: every group moved.
	r = newRouter(t)
	r.Get("/healthz", authz.Public("uptime monitor"), okh)
	r.Route("/api", func(r *chiauthz.Router) {
		r.Post("/login", authz.Public("sign-in form"), okh)
		r.Get("/me", authz.Authenticated(), okh)
		r.Route("/clients", func(r *chiauthz.Router) {
			r.Get("/", authz.Role("admin", "support").RequireMFA(), okh)
			r.Get("/{clientID}", authz.Authenticated().Object(loadClient, tenant), okh)
		})
	})
	rep = guideStep(t, "step 4: every route has a policy", r)
	assert.Empty(t, authLines(rep))
}
