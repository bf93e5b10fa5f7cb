package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/go-chi/chi/v5"

	"github.com/launchready/launchready/authz"
	"github.com/launchready/launchready/authz/chiauthz"
)

// The same RBAC rules in both: admins read the audit log, support and admin
// list clients, and a client reads clients of its own tenant.

const casbinRBAC = `
[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, obj, act

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub) && r.obj == p.obj && r.act == p.act
`

// The object variant adds the tenants of the principal and of the object
// (loaded by the same loader as ours) to the request.
const casbinObject = `
[request_definition]
r = sub, obj, act, st, ot

[policy_definition]
p = sub, obj, act

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub) && r.obj == p.obj && r.act == p.act && r.st == r.ot
`

func newCasbin(b *testing.B, text string) *casbin.Enforcer {
	m, err := model.NewModelFromString(text)
	if err != nil {
		b.Fatal(err)
	}
	e, err := casbin.NewEnforcer(m)
	if err != nil {
		b.Fatal(err)
	}
	for _, p := range [][]string{
		{"admin", "/api/admin/audit", "GET"},
		{"admin", "/api/clients", "GET"},
		{"support", "/api/clients", "GET"},
		{"client", "/api/clients/{id}", "GET"},
	} {
		if _, err := e.AddPolicy(p[0], p[1], p[2]); err != nil {
			b.Fatal(err)
		}
	}
	for _, g := range [][]string{{"u-admin", "admin"}, {"u-agent", "support"}, {"u-alice", "client"}} {
		if _, err := e.AddGroupingPolicy(g[0], g[1]); err != nil {
			b.Fatal(err)
		}
	}
	return e
}

var benchTenants = map[string]string{"client-a": "client-a", "client-b": "client-b"}

func benchLoader(r *http.Request) (authz.Object, error) {
	t, ok := benchTenants[r.PathValue("id")]
	if !ok {
		return authz.Object{}, authz.ErrNotFound
	}
	return authz.Object{Tenant: t}, nil
}

// The principals of the benchmarks, built once: an app's Authenticate reads
// them from its session (whose cost the session benchmarks measure), so the
// Mux benchmarks measure the Mux, not the building of a roles slice.
var (
	benchAdmin = authz.Principal{ID: "u-admin", Roles: []string{"admin"}}
	benchAgent = authz.Principal{ID: "u-agent", Roles: []string{"support"}}
	benchAlice = authz.Principal{ID: "u-alice", Roles: []string{"client"}, Tenant: "client-a"}
)

// authenticateAs is an Authenticate function that always returns p.
func authenticateAs(p authz.Principal) func(*http.Request) (authz.Principal, error) {
	return func(*http.Request) (authz.Principal, error) { return p, nil }
}

func newAuthzMux(b *testing.B) *authz.Mux { return newAuthzMuxAs(b, benchAdmin) }

func newAuthzMuxAs(b *testing.B, p authz.Principal) *authz.Mux {
	m, err := authz.NewMux(authz.Config{Authenticate: authenticateAs(p)})
	if err != nil {
		b.Fatal(err)
	}
	ok := func(http.ResponseWriter, *http.Request) {}
	m.HandleFunc("GET /api/admin/audit", authz.Role("admin"), ok)
	m.HandleFunc("GET /api/clients", authz.Role("admin", "support"), ok)
	m.HandleFunc("GET /api/clients/{id}", authz.Role("client").Object(benchLoader, authz.SameTenant), ok)
	return m
}

// BenchmarkAuthzRoleDecision: may this principal use this role route? Ours
// looks the policy up by the matched pattern; casbin enforces the RBAC
// model (role through g, then object and action). Target (issue 3): 0
// allocs and under 150 ns/op for impl=launchready; casbin side by side.
func BenchmarkAuthzRoleDecision(b *testing.B) {
	b.Run("impl=launchready", func(b *testing.B) {
		m := newAuthzMux(b)
		r := httptest.NewRequest("GET", "/api/admin/audit", nil)
		r.Pattern = "GET /api/admin/audit"
		p := authz.Principal{ID: "u-admin", Roles: []string{"admin"}}
		b.ReportAllocs()
		for b.Loop() {
			if d, _ := m.Decide(r, p); d != authz.Allow {
				b.Fatal(d)
			}
		}
	})
	b.Run("impl=casbin", func(b *testing.B) {
		e := newCasbin(b, casbinRBAC)
		b.ReportAllocs()
		for b.Loop() {
			if ok, err := e.Enforce("u-admin", "/api/admin/audit", "GET"); !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
}

// BenchmarkAuthzObjectDecision: may this client read this client record?
// Both load the object's tenant with the same loader, then decide role and
// tenant. Issue 3 names no separate target; reported side by side.
func BenchmarkAuthzObjectDecision(b *testing.B) {
	r := httptest.NewRequest("GET", "/api/clients/client-a", nil)
	r.Pattern = "GET /api/clients/{id}"
	r.SetPathValue("id", "client-a")
	alice := benchAlice
	b.Run("impl=launchready", func(b *testing.B) {
		m := newAuthzMux(b)
		b.ReportAllocs()
		for b.Loop() {
			if d, _ := m.Decide(r, alice); d != authz.Allow {
				b.Fatal(d)
			}
		}
	})
	b.Run("impl=casbin", func(b *testing.B) {
		e := newCasbin(b, casbinObject)
		b.ReportAllocs()
		for b.Loop() {
			obj, err := benchLoader(r)
			if err != nil {
				b.Fatal(err)
			}
			if ok, err := e.Enforce(alice.ID, "/api/clients/{id}", "GET", alice.Tenant, obj.Tenant); !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
}

// BenchmarkAuthzServeHTTP: a whole request to an allowed role route through
// the Mux (firewall, matching, authentication, decision, annotations, the
// context handlers read the principal from) next to a plain http.ServeMux
// serving the same handler without any authorization. Target (issue 25): at
// most 2× ServeMux and at most 1 alloc/op.
//
// impl=net-http-context is the floor of any authorization that hands the
// handler its principal through the request context, as the kit's API
// (PrincipalFrom) does: ServeMux, and the handler wrapped to put the
// principal in the context (context.WithValue, r.WithContext), with no
// check at all. The Mux does that in one allocation instead of two.
func BenchmarkAuthzServeHTTP(b *testing.B) {
	r := httptest.NewRequest("GET", "/api/admin/audit", nil)
	b.Run("impl=launchready", func(b *testing.B) {
		m := newAuthzMux(b)
		w := httptest.NewRecorder()
		b.ReportAllocs()
		for b.Loop() {
			m.ServeHTTP(w, r)
		}
	})
	b.Run("impl=net-http", func(b *testing.B) {
		m := http.NewServeMux()
		m.HandleFunc("GET /api/admin/audit", func(http.ResponseWriter, *http.Request) {})
		w := httptest.NewRecorder()
		b.ReportAllocs()
		for b.Loop() {
			m.ServeHTTP(w, r)
		}
	})
	b.Run("impl=net-http-context", func(b *testing.B) {
		m := http.NewServeMux()
		m.Handle("GET /api/admin/audit", withPrincipal(benchAdmin, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
		w := httptest.NewRecorder()
		b.ReportAllocs()
		for b.Loop() {
			m.ServeHTTP(w, r)
		}
	})
}

// serveBench serves r once through h and fails unless the status is want
// (0: the handler's, which writes none), then serves it in the timed loop:
// a benchmark that measured a refusal by mistake would flatter the kit.
func serveBench(b *testing.B, h http.Handler, r *http.Request, want int) {
	w := &benchWriter{h: http.Header{}}
	h.ServeHTTP(w, r)
	if w.code != want {
		b.Fatalf("status %d, want %d (0: the handler's, none written)", w.code, want)
	}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}

type benchPrincipalKey struct{}

// withPrincipal puts p in the request context for h, the usual way.
func withPrincipal(p authz.Principal, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), benchPrincipalKey{}, &p)))
	})
}

// BenchmarkAuthzServeHTTPDenied: a support agent asks for the admin-only
// route and the Mux answers 403 with the default problem+json document;
// ServeMux, which has no authorization, serves the same handler. What a
// refusal costs next to serving (no target).
func BenchmarkAuthzServeHTTPDenied(b *testing.B) {
	r := httptest.NewRequest("GET", "/api/admin/audit", nil)
	b.Run("impl=launchready", func(b *testing.B) {
		m := newAuthzMuxAs(b, benchAgent)
		serveBench(b, m, r, http.StatusForbidden)
	})
	b.Run("impl=net-http", func(b *testing.B) {
		m := http.NewServeMux()
		m.HandleFunc("GET /api/admin/audit", func(http.ResponseWriter, *http.Request) {})
		serveBench(b, m, r, 0)
	})
}

// BenchmarkAuthzServeHTTPObject: a client reads a client record of its own
// tenant: role check, then the object loader (the same map lookup as the
// decision benchmarks) and the same-tenant rule; ServeMux serves the same
// handler without any of it (no target).
func BenchmarkAuthzServeHTTPObject(b *testing.B) {
	r := httptest.NewRequest("GET", "/api/clients/client-a", nil)
	b.Run("impl=launchready", func(b *testing.B) {
		m := newAuthzMuxAs(b, benchAlice)
		serveBench(b, m, r, 0)
	})
	b.Run("impl=net-http", func(b *testing.B) {
		m := http.NewServeMux()
		m.HandleFunc("GET /api/clients/{id}", func(http.ResponseWriter, *http.Request) {})
		serveBench(b, m, r, 0)
	})
}

// scalingPatterns returns n distinct route patterns of a portal's shapes:
// per-client tickets and notes, invoices, admin reports.
func scalingPatterns(n int) []string {
	out := make([]string, 0, n)
	for i := 0; len(out) < n; i++ {
		for _, f := range []string{
			"GET /api/clients/{id}/tickets/%d",
			"POST /api/clients/{id}/notes/%d",
			"GET /api/invoices/%d/{id}",
			"DELETE /api/admin/reports/r%d",
		} {
			if len(out) < n {
				out = append(out, fmt.Sprintf(f, i))
			}
		}
	}
	return out
}

// BenchmarkAuthzScaling: ServeHTTP of one allowed role route
// ("GET /api/clients/{id}/tickets/1") on a Mux with 10 and with 1,000
// registered routes, each next to an http.ServeMux with the same patterns:
// how the cost grows with the number of routes.
func BenchmarkAuthzScaling(b *testing.B) {
	r := httptest.NewRequest("GET", "/api/clients/client-a/tickets/1", nil)
	ok := func(http.ResponseWriter, *http.Request) {}
	for _, n := range []int{10, 1000} {
		patterns := scalingPatterns(n)
		b.Run(fmt.Sprintf("routes=%d/impl=launchready", n), func(b *testing.B) {
			m, err := authz.NewMux(authz.Config{Authenticate: authenticateAs(benchAgent)})
			if err != nil {
				b.Fatal(err)
			}
			for _, p := range patterns {
				m.HandleFunc(p, authz.Role("support", "admin"), ok)
			}
			serveBench(b, m, r, 0)
		})
		b.Run(fmt.Sprintf("routes=%d/impl=net-http", n), func(b *testing.B) {
			m := http.NewServeMux()
			for _, p := range patterns {
				m.HandleFunc(p, ok)
			}
			serveBench(b, m, r, 0)
		})
	}
}

// BenchmarkChiauthzServeHTTP: a whole request through chiauthz (firewall,
// chi's matching, authentication, decision, annotations) next to a plain
// chi router without any authorization, to show the overhead (no target).
func BenchmarkChiauthzServeHTTP(b *testing.B) {
	r := httptest.NewRequest("GET", "/api/admin/audit", nil)
	b.Run("impl=launchready", func(b *testing.B) {
		m, err := chiauthz.New(authz.Config{Authenticate: authenticateAs(benchAdmin)})
		if err != nil {
			b.Fatal(err)
		}
		m.Get("/api/admin/audit", authz.Role("admin"), func(http.ResponseWriter, *http.Request) {})
		w := httptest.NewRecorder()
		b.ReportAllocs()
		for b.Loop() {
			m.ServeHTTP(w, r)
		}
	})
	b.Run("impl=go-chi", func(b *testing.B) {
		m := chi.NewRouter()
		m.Get("/api/admin/audit", func(http.ResponseWriter, *http.Request) {})
		w := httptest.NewRecorder()
		b.ReportAllocs()
		for b.Loop() {
			m.ServeHTTP(w, r)
		}
	})
}

// BenchmarkChiauthzServeHTTPObject: a client reads a client record of its
// own tenant through chiauthz (a route with a URL parameter, the object
// loader and the same-tenant rule) next to a plain chi router serving the
// same handler without any of it (no target).
func BenchmarkChiauthzServeHTTPObject(b *testing.B) {
	r := httptest.NewRequest("GET", "/api/clients/client-a", nil)
	b.Run("impl=launchready", func(b *testing.B) {
		m, err := chiauthz.New(authz.Config{Authenticate: authenticateAs(benchAlice)})
		if err != nil {
			b.Fatal(err)
		}
		m.Get("/api/clients/{id}", authz.Role("client").Object(benchLoader, authz.SameTenant), func(http.ResponseWriter, *http.Request) {})
		serveBench(b, m, r, 0)
	})
	b.Run("impl=go-chi", func(b *testing.B) {
		m := chi.NewRouter()
		m.Get("/api/clients/{id}", func(http.ResponseWriter, *http.Request) {})
		serveBench(b, m, r, 0)
	})
}
