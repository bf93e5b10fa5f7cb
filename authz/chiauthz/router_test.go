package chiauthz_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/authz"
	"github.com/launchready/launchready/authz/chiauthz"
	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/validate"
)

// Test principals, chosen by the bearer token. Tokens are built at test
// time from the user name.
var users = map[string]authz.Principal{
	"admin": {ID: "u-admin", Roles: []string{"admin"}},
	"agent": {ID: "u-agent", Roles: []string{"support"}},
	"alice": {ID: "u-alice", Roles: []string{"client"}, Tenant: "client-a"},
	"bob":   {ID: "u-bob", Roles: []string{"client"}, Tenant: "client-b"},
}

func token(user string) string { return "test-" + user }

func authenticate(r *http.Request) (authz.Principal, error) {
	p, ok := users[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer test-")]
	if !ok {
		return authz.Principal{}, authz.ErrUnauthenticated
	}
	return p, nil
}

func signIn(user string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token(user)) }
}

var tickets = map[string]authz.Object{"1": {Tenant: "client-a"}, "2": {Tenant: "client-b"}}

func loadTicket(r *http.Request) (authz.Object, error) {
	o, ok := tickets[r.PathValue("id")]
	if !ok {
		return authz.Object{}, authz.ErrNotFound
	}
	return o, nil
}

func loadClient(r *http.Request) (authz.Object, error) {
	switch id := r.PathValue("id"); id {
	case "client-a", "client-b":
		return authz.Object{Tenant: id}, nil
	}
	return authz.Object{}, authz.ErrNotFound
}

var tenant = authz.SameTenant.OrRole("admin", "support")

func ok(w http.ResponseWriter, r *http.Request) {
	p, _ := authz.PrincipalFrom(r.Context())
	pattern, _ := authz.Decided(r.Context())
	fmt.Fprintf(w, "%s %s %s", pattern, p.ID, r.PathValue("id"))
}

func newRouter(t *testing.T) *chiauthz.Router {
	t.Helper()
	r, err := chiauthz.New(authz.Config{Authenticate: authenticate})
	require.NoError(t, err)
	return r
}

func serve(h http.Handler, method, target, user string, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "http://portal.example.com/", nil)
	u, err := url.ParseRequestURI(target)
	if err != nil {
		panic(err)
	}
	r.URL, r.RequestURI = u, target
	if user != "" {
		signIn(user)(r)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestRouteWithoutPolicyCannotBeRegistered(t *testing.T) {
	_, err := chiauthz.New(authz.Config{})
	require.ErrorContains(t, err, "Config.Authenticate is nil")
	r := newRouter(t)
	for name, register := range map[string]func(){
		"zero policy":             func() { r.Get("/api/clients", authz.Policy{}, ok) },
		"public without a reason": func() { r.Get("/healthz", authz.Public(""), ok) },
		"object without loader":   func() { r.Get("/api/x/{id}", authz.Authenticated().Object(nil, authz.SameTenant), ok) },
		"zero policy in a Route": func() {
			r.Route("/api/tickets", func(r *chiauthz.Router) { r.Post("/", authz.Policy{}, ok) })
		},
		"zero policy on a With route": func() { r.With(func(h http.Handler) http.Handler { return h }).Delete("/x", authz.Policy{}, ok) },
		"zero policy on a subrouter":  func() { chiauthz.NewSubrouter().Get("/x", authz.Policy{}, ok) },
		"nil handler":                 func() { r.Get("/y", authz.Authenticated(), nil) },
		"CONNECT":                     func() { r.MethodFunc("CONNECT", "/z", authz.Authenticated(), ok) },
	} {
		assert.Panics(t, register, name)
	}
	assert.Empty(t, r.Routes(), "a refused registration leaves nothing behind")
	r.Get("/api/me", authz.Authenticated(), ok)
	assert.PanicsWithValue(t, `chiauthz: route "GET /api/me" (/api/me) conflicts with "GET /api/me" (/api/me)`,
		func() { r.Get("/api/me", authz.Public("oops"), ok) }, "a second registration cannot loosen the policy")
	assert.Panics(t, func() {
		r.Get("/api/me/", authz.Authenticated(), ok)
		r.Get("/api/{id:[0-9]+}", authz.Authenticated(), ok)
		r.Get("/api/{id}", authz.Public("x"), ok)
	},
		"two chi patterns that list alike are refused")
}

// register puts the same route table on either router.
type registrar interface {
	http.Handler
	handle(method, pattern string, p authz.Policy, h http.HandlerFunc)
}

type muxReg struct{ *authz.Mux }

func (m muxReg) handle(method, pattern string, p authz.Policy, h http.HandlerFunc) {
	m.HandleFunc(method+" "+pattern, p, h)
}

type chiReg struct{ *chiauthz.Router }

func (c chiReg) handle(method, pattern string, p authz.Policy, h http.HandlerFunc) {
	c.MethodFunc(method, pattern, p, h)
}

func routers(t *testing.T) map[string]registrar {
	m, err := authz.NewMux(authz.Config{Authenticate: authenticate})
	require.NoError(t, err)
	return map[string]registrar{"authz.Mux": muxReg{m}, "chiauthz.Router": chiReg{newRouter(t)}}
}

func TestDecisionsMatchAuthzMux(t *testing.T) {
	reqs := []struct{ method, target, user string }{
		{"GET", "/healthz", ""}, {"HEAD", "/healthz", ""},
		{"GET", "/api/me", ""}, {"GET", "/api/me", "bob"},
		{"GET", "/api/admin/audit", "agent"}, {"GET", "/api/admin/audit", "admin"}, {"GET", "/api/admin/audit", ""},
		{"GET", "/api/clients/client-a", "alice"}, {"GET", "/api/clients/client-a", "bob"},
		{"GET", "/api/clients/nope", "agent"}, {"GET", "/api/clients/client-b", "agent"},
		{"PATCH", "/api/tickets/1", "alice"}, {"PATCH", "/api/tickets/2", "alice"}, {"PATCH", "/api/tickets/1", ""},
		{"GET", "/api/tickets/..%2Fadmin", "admin"}, {"TRACE", "/api/me", "bob"},
		{"POST", "/api/tickets/1", "alice" /* 405 */},
		{"GET", "/nowhere", "admin"},
		{"POST", "/api/login", ""}, {"POST", "/api/me", "bob" /* 405 */},
	}
	got := map[string][]string{}
	for name, r := range routers(t) {
		r.handle("GET", "/healthz", authz.Public("uptime monitor"), ok)
		r.handle("POST", "/api/login", authz.Public("login form"), ok)
		r.handle("GET", "/api/me", authz.Authenticated(), ok)
		r.handle("GET", "/api/admin/audit", authz.Role("admin"), ok)
		r.handle("GET", "/api/clients/{id}", authz.Authenticated().Object(loadClient, tenant), ok)
		r.handle("PATCH", "/api/tickets/{id}", authz.Role("client").Object(loadTicket, authz.SameTenant), ok)
		r.handle("GET", "/api/admin/users", authz.Role("admin").RequireMFA(), ok)
		for _, q := range reqs {
			w := serve(r, q.method, q.target, q.user)
			line := fmt.Sprintf("%s %s as %q: %d", q.method, q.target, q.user, w.Code)
			if q.target == "/api/admin/users" {
				line += " " + strings.TrimSpace(w.Body.String()) + " " + w.Header().Get("WWW-Authenticate")
			}
			if w.Code >= 400 && name == "chiauthz.Router" {
				assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"), "%s on %s", line, name)
			}
			if w.Code < 400 && q.method != "HEAD" {
				line += " " + w.Body.String()
			}
			got[name] = append(got[name], line)
		}
	}
	assert.Equal(t, got["authz.Mux"], got["chiauthz.Router"])
	assert.Contains(t, got["chiauthz.Router"], `PATCH /api/tickets/2 as "alice": 404`, "another tenant's ticket looks missing")
	assert.Contains(t, got["chiauthz.Router"], `GET /api/clients/client-a as "alice": 200 GET /api/clients/{id} u-alice client-a`)
}

// tag is a walkable middleware that marks the chain it is on.
type tag struct {
	name string
	next http.Handler
}

func (t *tag) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("X-Tag", t.name)
	t.next.ServeHTTP(w, r)
}
func (t *tag) Unwrap() http.Handler { return t.next }

func mw(name string) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler { return &tag{name: name, next: h} }
}

func chainTags(h http.Handler) []string {
	var out []string
	for _, x := range readiness.Walk(h) {
		if t, ok := x.(*tag); ok {
			out = append(out, t.name)
		}
	}
	return out
}

func TestNestedRoutersKeepFullPatterns(t *testing.T) {
	r := newRouter(t)
	r.Use(mw("root"))
	r.Get("/healthz", authz.Public("uptime monitor"), ok)
	r.Route("/api", func(r *chiauthz.Router) {
		r.Use(mw("api"))
		r.Route("/clients", func(r *chiauthz.Router) {
			r.Get("/", authz.Role("admin", "support"), ok)
			r.Get("/{id:[a-z0-9-]+}", authz.Authenticated().Object(loadClient, tenant), ok)
			r.With(mw("limit")).Get("/{id}/export", authz.Role("admin"), ok)
		})
		r.Group(func(r *chiauthz.Router) {
			r.Use(mw("group"))
			r.Patch("/tickets/{id:[0-9]+}", authz.Role("client").Object(loadTicket, authz.SameTenant), ok)
		})
		r.Get("/me", authz.Authenticated(), ok)
	})
	admin := chiauthz.NewSubrouter()
	admin.Use(mw("admin"))
	admin.Get("/audit", authz.Role("admin"), ok)
	admin.Route("/users", func(r *chiauthz.Router) {
		r.Delete("/{userID}", authz.Role("admin"), ok)
	})
	r.Mount("/api/admin", admin)
	assert.Panics(t, func() { admin.Get("/late", authz.Role("admin"), ok) }, "a mounted subrouter takes no more routes")

	chains := map[string][]string{}
	r.EachRoute(func(pattern string, h http.Handler) { chains[pattern] = chainTags(h) })
	assert.Equal(t, map[string][]string{
		"GET /healthz":                     {"root"},
		"GET /api/clients":                 {"root", "api"},
		"GET /api/clients/{id}":            {"root", "api"},
		"GET /api/clients/{id}/export":     {"root", "api", "limit"},
		"PATCH /api/tickets/{id}":          {"root", "api", "group"},
		"GET /api/me":                      {"root", "api"},
		"GET /api/admin/audit":             {"root", "admin"},
		"DELETE /api/admin/users/{userID}": {"root", "admin"},
	}, chains)
	chiPath, found := r.ChiPattern("GET /api/clients/{id}")
	assert.True(t, found)
	assert.Equal(t, "/api/clients/{id:[a-z0-9-]+}", chiPath)

	// The routes answer at their full paths, through the middleware the
	// inventory lists, and the regexp still constrains the parameter.
	for _, tc := range []struct {
		method, target, user string
		status               int
		tags                 []string
	}{
		{"GET", "/api/admin/audit", "admin", 200, []string{"root", "admin"}},
		{"GET", "/api/admin/audit", "agent", 403, nil},
		{"DELETE", "/api/admin/users/u-bob", "admin", 200, []string{"root", "admin"}},
		{"GET", "/api/clients/client-b/export", "admin", 200, []string{"root", "api", "limit"}},
		{"PATCH", "/api/tickets/2", "bob", 200, []string{"root", "api", "group"}},
		{"PATCH", "/api/tickets/abc", "bob", 404, nil},
		{"GET", "/api/clients/", "agent", 200, []string{"root", "api"}},
		{"GET", "/api/clients", "agent", 200, []string{"root", "api"}}, // Route + "/" serves both, as in chi
		{"GET", "/api/clients", "bob", 403, nil},
		{"GET", "/api/clients/client-a", "bob", 404, nil},
	} {
		w := serve(r, tc.method, tc.target, tc.user)
		assert.Equal(t, tc.status, w.Code, "%s %s as %s", tc.method, tc.target, tc.user)
		assert.Equal(t, tc.tags, w.Header().Values("X-Tag"), "%s %s", tc.method, tc.target)
	}
	w := serve(r, "GET", "/api/admin/audit", "admin")
	assert.Equal(t, "GET /api/admin/audit u-admin ", w.Body.String(), "the decision names the full pattern")
}

func TestInventoryPattern(t *testing.T) {
	for _, tc := range []struct{ method, path, want string }{
		{"GET", "/api/clients/{id}", "GET /api/clients/{id}"},
		{"GET", "/api/clients/{id:[0-9]+}/tickets", "GET /api/clients/{id}/tickets"},
		{"GET", "/d/{date:\\d{4}-\\d{2}}", "GET /d/{date}"},
		{"", "/static/*", "/static/{rest...}"},
		{"POST", "/", "POST /{$}"},
		{"GET", "/api/clients/", "GET /api/clients/{$}"},
	} {
		assert.Equal(t, tc.want, chiauthz.InventoryPattern(tc.method, tc.path), tc.path)
	}
}

func TestFirewallAndHostAllowlistInFront(t *testing.T) {
	r := newRouter(t)
	r.Get("/files/{name}", authz.Authenticated(), ok)
	r.Get("/admin", authz.Role("admin"), ok)
	allowed := hostAllowlist("portal.example.com", r)
	for _, tc := range []struct {
		name, method, target string
		hdr                  []string
		want                 int
	}{
		{"encoded slash", "GET", "/files/..%2Fadmin", nil, 400},
		{"encoded dot", "GET", "/files/%2E%2E", nil, 400},
		{"semicolon", "GET", "/files/a;b", nil, 400},
		{"method override", "POST", "/admin", []string{"X-HTTP-Method-Override", "GET"}, 400},
		{"TRACE", "TRACE", "/admin", nil, 405},
		{"plain request passes", "GET", "/files/report.pdf", nil, 200},
	} {
		w := serve(allowed, tc.method, tc.target, "admin", tc.hdr...)
		assert.Equal(t, tc.want, w.Code, tc.name)
	}
	req := httptest.NewRequest("GET", "http://evil.example/files/x", nil)
	signIn("admin")(req)
	w := httptest.NewRecorder()
	allowed.ServeHTTP(w, req)
	assert.Equal(t, http.StatusMisdirectedRequest, w.Code, "the Host allowlist answers before the router")
}

// hostAllowlist is the shape of a Host-checking middleware in front of the
// router (the example portal's hostCheck).
func hostAllowlist(host string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != host {
			w.WriteHeader(http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func TestMountHandlerIsOneRoute(t *testing.T) {
	r := newRouter(t)
	files := http.NewServeMux()
	files.HandleFunc("GET /a.txt", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("a")) })
	r.MountHandler("/files", authz.Authenticated(), files)
	var patterns []string
	r.EachRoute(func(p string, _ http.Handler) { patterns = append(patterns, p) })
	assert.Equal(t, []string{"/files/{rest...}"}, patterns)
	assert.Equal(t, 401, serve(r, "GET", "/files/a.txt", "").Code)
	w := serve(r, "GET", "/files/a.txt", "bob")
	assert.Equal(t, 200, w.Code)
	assert.Equal(t, "a", w.Body.String())
	rep := run(t, r)
	assert.NotEmpty(t, rep.ByID("AUTH001"), "a plain router under one policy hides its routes: %s", rep)
}

func serverFor(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: time.Second, ReadTimeout: time.Second,
		WriteTimeout: time.Second, IdleTimeout: time.Second, MaxHeaderBytes: 1 << 16}
}

func run(t *testing.T, h http.Handler, checks ...readiness.Check) *readiness.Report {
	t.Helper()
	rep, err := readiness.Run(t.Context(), readiness.Target{Server: serverFor(h), Env: readiness.Production,
		AllowedHosts: []string{"portal.example.com"}, ShutdownTimeout: time.Second, Checks: checks})
	require.NoError(t, err)
	return rep
}

func ids(r *readiness.Report) []string {
	var out []string
	for _, f := range r.Findings {
		out = append(out, f.ID+" "+f.Route)
	}
	sort.Strings(out)
	return out
}

// The static checks read a chi app's policies exactly as an authz.Mux's.
func TestStaticChecksSameOnBothRouters(t *testing.T) {
	type in struct{ Name string }
	got := map[string][]string{}
	for name, r := range routers(t) {
		r.handle("POST", "/api/login", authz.Public("login form"), ok)
		r.handle("GET", "/api/admin/users", authz.Public("internal tool"), ok)  // AUTH002 + AUTH004
		r.handle("GET", "/api/invoices/{invoiceID}", authz.Authenticated(), ok) // AUTH003
		r.handle("POST", "/admin/reindex", authz.Role("admin", "support"), ok)  // AUTH004
		r.handle("GET", "/debug/pprof/", authz.Authenticated(), ok)             // AUTH008
		r.handle("POST", "/api/notes", authz.Authenticated(), validate.JSON(func(http.ResponseWriter, *http.Request, *in) {}, nil).ServeHTTP)
		var list []string
		for _, f := range ids(run(t, r)) {
			if strings.HasPrefix(f, "AUTH") || strings.HasPrefix(f, "INPUT") {
				list = append(list, strings.ReplaceAll(f, "/debug/pprof/{$}", "/debug/pprof/"))
			}
		}
		got[name] = list
	}
	require.NotEmpty(t, got["authz.Mux"])
	assert.Equal(t, got["authz.Mux"], got["chiauthz.Router"])
}
