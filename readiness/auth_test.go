package readiness_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/authz"
	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/readiness/probe"
)

// authIDs returns the AUTH findings' IDs, except the MFA checks (AUTH013,
// AUTH014), which mfa_test.go covers: these fixtures are about the others.
func authIDs(r *readiness.Report) []string {
	var out []string
	for _, id := range r.IDs() {
		if strings.HasPrefix(id, "AUTH") && id != "AUTH013" && id != "AUTH014" || id == "PROBE001" {
			out = append(out, id)
		}
	}
	return out
}

func serverFor(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: time.Second, ReadTimeout: time.Second,
		WriteTimeout: time.Second, IdleTimeout: time.Second, MaxHeaderBytes: 1 << 16}
}

func runAuth(t *testing.T, h http.Handler, checks ...readiness.Check) *readiness.Report {
	t.Helper()
	r, err := readiness.Run(t.Context(), readiness.Target{Server: serverFor(h), Env: readiness.Production,
		AllowedHosts: []string{"portal.example.com"}, ShutdownTimeout: time.Second, Checks: checks})
	require.NoError(t, err)
	return r
}

func newMux(t *testing.T) *authz.Mux {
	t.Helper()
	m, err := authz.NewMux(authz.Config{Authenticate: bearer})
	require.NoError(t, err)
	return m
}

var noop = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})

func anyObject(*http.Request) (authz.Object, error) { return authz.Object{Tenant: "t"}, nil }

func TestAuthStaticChecksGoodMux(t *testing.T) {
	m := newMux(t)
	m.Handle("POST /api/login", authz.Public("login form"), noop)
	m.Handle("POST /api/password-reset", authz.Public("password reset request"), noop)
	m.Handle("GET /healthz", authz.Public("uptime monitor"), noop)
	m.Handle("GET /", authz.Public("browser page"), noop)
	m.Handle("GET /api/me", authz.Authenticated(), noop)
	m.Handle("GET /api/clients", authz.Role("admin", "support").RequireMFA(), noop)
	m.Handle("GET /api/clients/{clientID}/tickets", authz.Authenticated().Object(anyObject, authz.SameTenant), noop)
	m.Handle("GET /api/admin/audit", authz.Role("admin").RequireMFA(), noop)
	m.Handle("POST /admin/reindex", authz.Permission("admin:reindex").RequireMFA(), noop)
	m.Handle("GET /debug/pprof/", authz.Role("admin").RequireMFA(), noop)
	assert.Empty(t, authIDs(runAuth(t, m)))
}

// An object route only admins may use crosses tenants by design: info, not
// the AUTH003 blocker. The same route open to support staff is AUTH003.
func TestAuthAdminOnlyObjectRouteIsInfo(t *testing.T) {
	m := newMux(t)
	m.Handle("GET /api/admin/users/{userID}", authz.Role("admin"), noop)
	m.Handle("DELETE /api/tenants/{tenantID}", authz.Permission("admin:tenants"), noop)
	r := runAuth(t, m)
	assert.Empty(t, r.ByID("AUTH003"))
	info := r.ByID("AUTH004")
	require.Len(t, info, 2)
	for _, f := range info {
		assert.Equal(t, readiness.Info, f.Severity)
		assert.Contains(t, f.Seen, "crosses tenants by design")
	}

	m = newMux(t)
	m.Handle("GET /api/users/{userID}", authz.Role("admin", "support"), noop)
	fs := runAuth(t, m).ByID("AUTH003")
	require.Len(t, fs, 1)
	assert.Equal(t, readiness.Blocker, fs[0].Severity)
}

func TestAuthStaticChecksBadMux(t *testing.T) {
	m := newMux(t)
	m.Handle("POST /api/login", authz.Public("login form"), noop)
	m.Handle("GET /api/admin/users", authz.Public("internal tool"), noop)                        // AUTH002 + AUTH004
	m.Handle("GET /api/reports", authz.Public("reports page"), noop)                             // AUTH002 ("api")
	m.Handle("GET /api/invoices/{invoiceID}", authz.Authenticated(), noop)                       // AUTH003
	m.Handle("PATCH /api/tickets/{id}", authz.Role("client"), noop)                              // AUTH003
	m.Handle("POST /admin/reindex", authz.Role("admin", "support"), noop)                        // AUTH004 + AUTH013
	m.Handle("GET /debug/pprof/", authz.Authenticated(), noop)                                   // AUTH008
	m.Handle("GET /api/tickets/{id}", authz.Role("client").Object(anyObject, authz.Owner), noop) // fine
	r := runAuth(t, m)
	assert.ElementsMatch(t, []string{"AUTH002", "AUTH002", "AUTH003", "AUTH003", "AUTH004", "AUTH004", "AUTH008"}, authIDs(r), "%s", r)
	routes := func(id string) []string {
		var out []string
		for _, f := range r.ByID(id) {
			out = append(out, f.Route)
			assert.Equal(t, readiness.Blocker, f.Severity)
			assert.NotEmpty(t, f.Fix)
		}
		return out
	}
	assert.ElementsMatch(t, []string{"GET /api/admin/users", "GET /api/reports"}, routes("AUTH002"))
	assert.ElementsMatch(t, []string{"GET /api/invoices/{invoiceID}", "PATCH /api/tickets/{id}"}, routes("AUTH003"))
	assert.ElementsMatch(t, []string{"GET /api/admin/users", "POST /admin/reindex"}, routes("AUTH004"))
	assert.ElementsMatch(t, []string{"GET /debug/pprof/"}, routes("AUTH008"))
	assert.ElementsMatch(t, []string{"POST /admin/reindex"}, routes("AUTH013"))

	// Accepting a public route with a reason keeps it visible and unblocking.
	rep, err := readiness.Run(t.Context(), readiness.Target{Server: serverFor(m), Accepted: []readiness.Acceptance{
		readiness.AcceptRoute("AUTH002", "GET /api/reports", "marketing figures, public by design"),
	}})
	require.NoError(t, err)
	for _, f := range rep.ByID("AUTH002") {
		assert.Equal(t, f.Route == "GET /api/reports", f.Accepted)
	}
}

type opaque struct{ http.Handler } // middleware without Unwrap

type walkable struct{ next http.Handler }

func (w walkable) ServeHTTP(rw http.ResponseWriter, r *http.Request) { w.next.ServeHTTP(rw, r) }
func (w walkable) Unwrap() http.Handler                              { return w.next }

func TestAuthInventoryAUTH001(t *testing.T) {
	m := newMux(t)
	m.Handle("GET /healthz", authz.Public("uptime monitor"), noop)
	assert.Empty(t, authIDs(runAuth(t, walkable{m})), "walkable middleware reaches the Mux")
	assert.Equal(t, []string{"AUTH001"}, authIDs(runAuth(t, opaque{m})), "opaque middleware hides the Mux")
	assert.Equal(t, []string{"AUTH001"}, authIDs(runAuth(t, http.NotFoundHandler())))

	sub := http.NewServeMux()
	sub.Handle("/api/legacy/", noop)
	m.Handle("/api/legacy/", authz.Authenticated(), walkable{sub})
	r := runAuth(t, m)
	assert.Equal(t, []string{"AUTH001", "AUTH015"}, authIDs(r), "the mount, and the sensitive route behind it")
	assert.Equal(t, "/api/legacy/", r.ByID("AUTH001")[0].Route)
	assert.Contains(t, r.ByID("AUTH015")[0].Seen, `plain http.ServeMux mounted at "/api/legacy/", which gives all its routes the policy authenticated`)

	// A router registered directly as a route's handler is seen too.
	direct := newMux(t)
	direct.Handle("/api/old/", authz.Authenticated(), sub)
	assert.Equal(t, []string{"AUTH001", "AUTH015"}, authIDs(runAuth(t, direct)))
}

// This test changes http.DefaultServeMux, as importing net/http/pprof does.
func TestAuthDefaultServeMux(t *testing.T) {
	srv := serverFor(nil)
	req := httptest.NewRequest("GET", "/debug/vars", nil)
	if _, pattern := http.DefaultServeMux.Handler(req); pattern == "" { // -count=N runs this again
		r, err := readiness.Run(t.Context(), readiness.Target{Server: srv})
		require.NoError(t, err)
		assert.Equal(t, []string{"AUTH001"}, authIDs(r))
		http.DefaultServeMux.HandleFunc("/debug/vars", func(http.ResponseWriter, *http.Request) {})
	}
	r, err := readiness.Run(t.Context(), readiness.Target{Server: srv})
	require.NoError(t, err)
	// The assessment lists DefaultServeMux's routes: the debug endpoint
	// is also an unprotected sensitive route to migrate.
	assert.ElementsMatch(t, []string{"AUTH001", "AUTH008", "AUTH015"}, authIDs(r))
	assert.Equal(t, "/debug/vars", r.ByID("AUTH008")[0].Route)
	assert.Equal(t, "/debug/vars", r.ByID("AUTH015")[0].Route)

	// Explicitly in the chain is the same.
	r = runAuth(t, walkable{http.DefaultServeMux})
	assert.ElementsMatch(t, []string{"AUTH001", "AUTH008", "AUTH015"}, authIDs(r))
}

func TestDeclaredAPI(t *testing.T) {
	m := newMux(t)
	m.Handle("GET /healthz", authz.Public("uptime monitor"), noop)
	m.Handle("GET /api/clients/{clientID}", authz.Authenticated().Object(anyObject, authz.SameTenant), noop)
	m.Handle("GET /api/debug-export", authz.Role("admin"), noop) // shadow
	spec := []byte(`{"openapi":"3.0.3","paths":{
		"/clients/{id}":{"get":{},"parameters":[]},
		"/clients/{id}/notes":{"get":{}}
	}}`)
	r := runAuth(t, m, readiness.DeclaredAPI{OpenAPI: spec, BasePath: "/api", Ignore: []string{"GET /healthz"}})
	assert.Equal(t, []string{"AUTH011", "AUTH011"}, authIDs(r))
	var routes []string
	for _, f := range r.ByID("AUTH011") {
		routes = append(routes, f.Route)
		assert.Equal(t, readiness.Warning, f.Severity)
	}
	assert.ElementsMatch(t, []string{"GET /api/debug-export", "GET /api/clients/{}/notes"}, routes)

	r = runAuth(t, m, readiness.DeclaredAPI{Routes: []string{"GET /healthz", "GET /api/clients/{id}", "GET /api/debug-export"}})
	assert.Empty(t, authIDs(r))

	r = runAuth(t, m, readiness.DeclaredAPI{OpenAPI: []byte("openapi: 3.0.3")})
	assert.Equal(t, []string{"AUTH011"}, authIDs(r))
}

// ---- the probe ----

var probeUsers = map[string]authz.Principal{
	"admin": {ID: "u-admin", Roles: []string{"admin"}},
	"agent": {ID: "u-agent", Roles: []string{"support"}},
	"alice": {ID: "u-alice", Roles: []string{"client"}, Tenant: "client-a"},
	"bob":   {ID: "u-bob", Roles: []string{"client"}, Tenant: "client-b"},
}

func bearer(r *http.Request) (authz.Principal, error) {
	name, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	p, found := probeUsers[name]
	if !ok || !found {
		return authz.Principal{}, authz.ErrUnauthenticated
	}
	return p, nil
}

func signIn(name string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+name) }
}

var ticketTenant = map[string]string{"t1": "client-a", "t2": "client-b"}

// portalVariant plants one mistake in the test portal.
type portalVariant struct {
	bolaHandler   bool // invoices route: policy without object check, handler forgets the tenant
	handlerChecks bool // invoices route: policy without object check, handler checks the tenant
	frontCache    bool // a cache in front of the Mux serves the admin audit log to anyone
	weakTwins     bool // weaker "GET /api/admin/audit/" and "HEAD /api/clients" routes
}

func testPortal(t *testing.T, v portalVariant) http.Handler {
	m := newMux(t)
	ok := func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }
	loadClient := func(r *http.Request) (authz.Object, error) {
		id := r.PathValue("id")
		if id != "client-a" && id != "client-b" {
			return authz.Object{}, authz.ErrNotFound
		}
		return authz.Object{Tenant: id}, nil
	}
	loadTicket := func(r *http.Request) (authz.Object, error) {
		tn, found := ticketTenant[r.PathValue("id")]
		if !found {
			return authz.Object{}, authz.ErrNotFound
		}
		return authz.Object{Tenant: tn}, nil
	}
	staffOrTenant := authz.SameTenant.OrRole("admin", "support")
	m.HandleFunc("GET /", authz.Public("browser page"), ok) // public catch-all: variants land here
	m.HandleFunc("GET /healthz", authz.Public("uptime monitor"), ok)
	m.HandleFunc("POST /api/login", authz.Public("login form"), ok)
	m.HandleFunc("GET /api/me", authz.Authenticated(), ok)
	m.HandleFunc("GET /api/admin/audit", authz.Role("admin"), ok)
	m.HandleFunc("GET /api/clients", authz.Role("admin", "support"), ok)
	m.HandleFunc("GET /api/clients/{id}", authz.Authenticated().Object(loadClient, staffOrTenant), ok)
	m.HandleFunc("PATCH /api/tickets/{id}", authz.Authenticated().Object(loadTicket, staffOrTenant), ok)
	invoices := func(w http.ResponseWriter, r *http.Request) {
		p, _ := authz.PrincipalFrom(r.Context())
		if v.handlerChecks && !p.HasRole("admin") && !p.HasRole("support") && p.Tenant != r.PathValue("id") {
			http.NotFound(w, r)
			return
		}
		_, _ = io.WriteString(w, `[{"invoice":1}]`)
	}
	if v.bolaHandler || v.handlerChecks {
		m.HandleFunc("GET /api/clients/{id}/invoices", authz.Authenticated(), invoices)
	} else {
		m.HandleFunc("GET /api/clients/{id}/invoices", authz.Authenticated().Object(loadClient, staffOrTenant), invoices)
	}
	if v.weakTwins {
		m.HandleFunc("GET /api/admin/audit/", authz.Authenticated(), ok)
		m.HandleFunc("HEAD /api/clients", authz.Authenticated(), ok)
	}
	var h http.Handler = m
	if v.frontCache {
		h = walkable{http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/api/admin/audit" {
				_, _ = io.WriteString(w, "cached audit log")
				return
			}
			m.ServeHTTP(w, r)
		})}
		// The cache's HandlerFunc does not unwrap to the Mux; runProbe
		// gives readiness the same routes through an honest server.
	}
	return h
}

func authProbe() *probe.AuthProbe {
	return &probe.AuthProbe{
		Client: &probe.Client{Values: map[string]string{"id": "client-a", "/api/tickets/{id}": "t1"}},
		Identities: []probe.Identity{
			{Name: "alice (client-a)", Principal: probeUsers["alice"], Authenticate: signIn("alice"),
				Foreign: map[string]string{"id": "client-b", "/api/tickets/{id}": "t2"}},
			{Name: "bob (client-b)", Principal: probeUsers["bob"], Authenticate: signIn("bob"),
				Foreign: map[string]string{"id": "client-a", "/api/tickets/{id}": "t1"}},
			{Name: "support agent", Principal: probeUsers["agent"], Authenticate: signIn("agent")},
			{Name: "expired session", Authenticate: func(r *http.Request) { r.Header.Set("Authorization", "Bearer nobody") }},
		},
	}
}

// runProbe inspects mux (the inventory) and sends the probe's requests to h.
func runProbe(t *testing.T, v portalVariant) *readiness.Report {
	t.Helper()
	h := testPortal(t, v)
	p := authProbe()
	inventory := h
	if v.frontCache {
		p.Client.Handler = h
		inventory = testPortal(t, portalVariant{}) // same routes, reachable by the walk
	}
	return runAuth(t, inventory, p)
}

func probeIDs(r *readiness.Report) []string {
	var out []string
	for _, id := range authIDs(r) {
		switch id {
		case "AUTH005", "AUTH006", "AUTH007", "AUTH009":
			out = append(out, id)
		}
	}
	return out
}

func TestAuthProbeFixedPortalPasses(t *testing.T) {
	r := runProbe(t, portalVariant{})
	assert.Empty(t, authIDs(r), "%s", r)
}

func TestAuthProbeCatchesPlantedBOLA(t *testing.T) {
	r := runProbe(t, portalVariant{bolaHandler: true})
	assert.Equal(t, []string{"AUTH007", "AUTH007"}, probeIDs(r), "%s", r)
	for _, f := range r.ByID("AUTH007") {
		assert.Equal(t, "GET /api/clients/{id}/invoices", f.Route)
		assert.Equal(t, readiness.Blocker, f.Severity)
	}
	seen := r.ByID("AUTH007")[0].Seen + r.ByID("AUTH007")[1].Seen
	assert.Contains(t, seen, "bob (client-b) got 200 from GET /api/clients/client-a/invoices")
	assert.Contains(t, seen, "alice (client-a) got 200 from GET /api/clients/client-b/invoices")
	assert.Contains(t, authIDs(r), "AUTH003", "the static check sees the missing object check too")

	// The same app whose handler checks the tenant passes the probe.
	r = runProbe(t, portalVariant{handlerChecks: true})
	assert.Empty(t, probeIDs(r), "%s", r)
}

func TestAuthProbeCatchesFrontDoorBypass(t *testing.T) {
	r := runProbe(t, portalVariant{frontCache: true})
	assert.ElementsMatch(t, []string{"AUTH005", "AUTH005", "AUTH006", "AUTH006", "AUTH006"}, probeIDs(r), "%s", r)
	for _, id := range []string{"AUTH005", "AUTH006"} {
		for _, f := range r.ByID(id) {
			assert.Equal(t, "GET /api/admin/audit", f.Route)
		}
	}
}

func TestAuthProbeCatchesPathTricks(t *testing.T) {
	r := runProbe(t, portalVariant{weakTwins: true})
	assert.NotEmpty(t, r.ByID("AUTH009"), "%s", r)
	var seen []string
	for _, f := range r.ByID("AUTH009") {
		seen = append(seen, f.Route+" | "+f.Seen)
		assert.Contains(t, []string{"GET /api/admin/audit", "GET /api/clients", "GET /api/admin/audit/", "HEAD /api/clients"}, f.Route) // probe and static twins
	}
	joined := strings.Join(seen, "\n")
	assert.Contains(t, joined, "GET /api/admin/audit | alice (client-a) (roles [client]) was denied GET /api/admin/audit (403) but got 200 with a path trick (trailing slash: GET /api/admin/audit/)")
	assert.Contains(t, joined, "with a path trick (HEAD for GET: HEAD /api/clients)")
	assert.Subset(t, []string{"AUTH009"}, probeIDs(r))
}

func TestAuthStaticTwins(t *testing.T) {
	m := newMux(t)
	m.Handle("GET /api/admin/audit", authz.Role("admin"), noop)
	m.Handle("GET /api/admin/audit/", authz.Authenticated(), noop)
	m.Handle("GET /api/clients", authz.Role("support"), noop)
	m.Handle("HEAD /api/clients", authz.Authenticated(), noop)
	m.Handle("GET /api/Reports", authz.Role("admin"), noop)
	m.Handle("GET /api/reports", authz.Role("admin"), noop) // same policy: fine
	r := runAuth(t, m)
	var routes []string
	for _, f := range r.ByID("AUTH009") {
		routes = append(routes, f.Route)
	}
	assert.ElementsMatch(t, []string{"GET /api/admin/audit/", "HEAD /api/clients"}, routes, "%s", r)
	assert.ElementsMatch(t, []string{"AUTH004", "AUTH009", "AUTH009"}, authIDs(r), "%s", r)
}

func TestGateRefusesAuthProbe(t *testing.T) {
	err := readiness.Gate(t.Context(), readiness.Target{Server: serverFor(healthOnlyMux()), Checks: []readiness.Check{authProbe()}}, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "probe")
}

// A probe without an inventory says so instead of passing vacuously.
func TestAuthProbeWithoutMux(t *testing.T) {
	r := runAuth(t, http.NotFoundHandler(), authProbe())
	assert.ElementsMatch(t, []string{"AUTH001", "PROBE001"}, authIDs(r))
}

// A probe whose requests are all refused in front of the Mux (here a Host
// allowlist) says so instead of passing vacuously.
func TestAuthProbeNeverReachingTheMux(t *testing.T) {
	m := testPortal(t, portalVariant{})
	hostCheck := walkable{http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != "portal.internal" {
			http.Error(w, "unknown host", http.StatusMisdirectedRequest)
			return
		}
		m.ServeHTTP(w, r)
	})}
	p := authProbe()
	p.Client.Handler = hostCheck
	r := runAuth(t, m, p) // AllowedHosts is portal.example.com: refused
	require.NotEmpty(t, r.ByID("PROBE001"))
	assert.Len(t, r.ByID("PROBE001"), len(authIDs(r)), "only PROBE001: %s", r)
	for _, f := range r.ByID("PROBE001") {
		assert.Contains(t, f.Seen, "Host allowlist (421)")
		assert.Equal(t, readiness.Blocker, f.Severity)
	}

	p = authProbe()
	p.Client.Handler = hostCheck
	p.Client.Host = "portal.internal"
	assert.Empty(t, authIDs(runAuth(t, m, p)))
}

// The probe may run while the app changes routes (parallel tests).
func TestAuthProbeConcurrent(t *testing.T) {
	m := testPortal(t, portalVariant{}).(*authz.Mux)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			m.HandleFunc(fmt.Sprintf("GET /api/extra/{id}/r%d", i), authz.Role("admin"), noop)
		}()
		go func() {
			defer wg.Done()
			_ = runAuth(t, m, authProbe())
		}()
	}
	wg.Wait()
	w := httptest.NewRecorder()
	m.ServeHTTP(w, httptest.NewRequest("GET", "/api/extra/x/r0", nil))
	assert.Equal(t, 401, w.Code)
}
