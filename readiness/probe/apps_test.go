package probe_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/audit"
	"github.com/launchready/launchready/authz"
	"github.com/launchready/launchready/cors"
	"github.com/launchready/launchready/flows"
	"github.com/launchready/launchready/monitor"
	"github.com/launchready/launchready/ratelimit"
	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/readiness/probe"
	"github.com/launchready/launchready/session"
	"github.com/launchready/launchready/validate"
)

// Two small portals written from the README and go doc alone, different
// from examples/insecure: one with planted flaws (one per class the kit
// must catch), one done right — including the constructs that once drew
// false blockers (a body decoded with validate.Decode inside the handler,
// an admin-only object route, a Host allowlist in front of everything).

// flaw is one planted mistake and the blocker IDs it must raise — and the
// only blockers the app may have with it planted.
type flaw struct {
	name string
	ids  []string
}

var flaws = []flaw{
	{"bola: tickets route without object check, handler forgets the tenant", []string{"AUTH003", "AUTH007"}},
	{"export route made public with a reason", []string{"AUTH002", "AUTH003", "AUTH007"}},
	{"hand-written router on one authenticated subtree route", []string{"AUTH012"}},
	{"login limited per account only", []string{"RATE009", "RATE007"}},
	{"notes decoded with encoding/json, no cap, unknown fields accepted", []string{"INPUT001", "INPUT002", "INPUT005"}},
	{"wildcard subdomains with credentials", []string{"CORS005", "CORS008"}}, // the probe's look-alike subdomain gets a grant
	{"reflecting CORS middleware in front", []string{"CORS008"}},
	{"login without session renewal", []string{"SESS007"}},
	{"handler logs the raw request URL", []string{"LOG002"}},
}

type appUser struct {
	id, email string
	p         authz.Principal
}

func appUsers() []appUser {
	return []appUser{
		{"u-alice", "alice@client-a.test", authz.Principal{ID: "u-alice", Roles: []string{"client"}, Tenant: "client-a"}},
		{"u-bob", "bob@client-b.test", authz.Principal{ID: "u-bob", Roles: []string{"client"}, Tenant: "client-b"}},
		{"u-agent", "agent@acme.test", authz.Principal{ID: "u-agent", Roles: []string{"support"}}},
		{"u-admin", "admin@acme.test", authz.Principal{ID: "u-admin", Roles: []string{"admin"}}},
	}
}

// buildApp wires a portal; planted names the flaws (by index) to plant.
func buildApp(t *testing.T, password string, logs io.Writer, planted map[int]bool) http.Handler {
	t.Helper()
	users := appUsers()
	byEmail, byID := map[string]appUser{}, map[string]appUser{}
	for _, u := range users {
		byEmail[u.email], byID[u.id] = u, u
	}
	mgr, err := session.New(session.Config{})
	require.NoError(t, err)
	mux, err := authz.NewMux(authz.Config{Authenticate: func(r *http.Request) (authz.Principal, error) {
		if id, _, ok := mgr.User(r); ok {
			return byID[id].p, nil
		}
		return authz.Principal{}, authz.ErrUnauthenticated
	}})
	require.NoError(t, err)
	limits, err := ratelimit.New(ratelimit.Config{})
	require.NoError(t, err)
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	accountOf := func(r *http.Request) string {
		if in := validate.Value[loginIn](r); in != nil {
			return strings.ToLower(in.Email)
		}
		return ""
	}
	principalOf := func(r *http.Request) string { p, _ := authz.PrincipalFrom(r.Context()); return p.ID }
	tenantOf := func(r *http.Request) (authz.Object, error) {
		switch id := r.PathValue("id"); id {
		case "client-a", "client-b":
			return authz.Object{Tenant: id}, nil
		}
		return authz.Object{}, authz.ErrNotFound
	}
	ok := func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{"ok":true}`) }
	staffOrTenant := authz.SameTenant.OrRole("support", "admin")
	clientPath := func(h http.Handler) http.Handler { return validate.Path(validate.Rules{"id": validate.Slug}, h) }

	login := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in := validate.Value[loginIn](r)
		u, found := byEmail[strings.ToLower(in.Email)]
		if planted[8] {
			logger.Info("login", "url", r.URL.String()) // the raw URL: query tokens and passwords
		} else {
			logger.Info("login", "route", r.Pattern)
		}
		if !found || in.Password != password {
			http.Error(w, "wrong email or password", http.StatusUnauthorized)
			return
		}
		if planted[7] { // no renewal: the token the browser had becomes the signed-in session
			mgr.Engine().Put(r.Context(), "launchready.user", u.id)
			mgr.Engine().Put(r.Context(), "launchready.auth", time.Now().UnixNano())
		} else if err := mgr.Login(r.Context(), u.id); err != nil {
			http.Error(w, "try again", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	loginKeys := []ratelimit.By{ratelimit.ByIP(), ratelimit.ByAccount(accountOf)}
	if planted[3] {
		loginKeys = []ratelimit.By{ratelimit.ByAccount(accountOf)}
	}
	mux.Handle("POST /api/login", authz.Public("sign-in form"),
		validate.Body[loginIn](nil, limits.Login(login, loginKeys[0], loginKeys[1:]...)))
	mux.Handle("POST /api/logout", authz.Authenticated(), validate.NoBody(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = mgr.Logout(r.Context())
		w.WriteHeader(http.StatusNoContent)
	})))
	mux.HandleFunc("GET /api/me", authz.Authenticated(), ok)

	health, err := monitor.NewHealth(monitor.HealthConfig{})
	require.NoError(t, err)
	health.SetBoot(nil)
	mux.Handle("GET /healthz", authz.Public("uptime monitor"), health.Liveness())
	mux.Handle("GET /readyz", authz.Public("load balancer"), health.Readiness())

	tickets := func(w http.ResponseWriter, r *http.Request) {
		p, _ := authz.PrincipalFrom(r.Context())
		if !planted[0] && p.Tenant != "" && p.Tenant != r.PathValue("id") {
			http.NotFound(w, r)
			return
		}
		_, _ = io.WriteString(w, `[{"ticket":"`+r.PathValue("id")+`"}]`)
	}
	if planted[0] {
		mux.Handle("GET /api/clients/{id}/tickets", authz.Authenticated(), clientPath(http.HandlerFunc(tickets)))
	} else {
		mux.Handle("GET /api/clients/{id}/tickets", authz.Authenticated().Object(tenantOf, staffOrTenant), clientPath(http.HandlerFunc(tickets)))
	}
	origins := cors.Config{AllowedOrigins: []string{"https://portal.example.com"}, AllowCredentials: true}
	if planted[5] {
		origins.AllowedOrigins = []string{"https://*.example.com"}
		origins.InsecureAllowWildcardSubdomains = true
	}
	policy, err := cors.New(origins)
	require.NoError(t, err)
	// Exports refuse cross-site navigations (CORS009).
	export := clientPath(policy.SensitiveRead(limits.Export(http.HandlerFunc(ok), ratelimit.ByPrincipal(principalOf))))
	if planted[1] {
		mux.Handle("GET /api/clients/{id}/export", authz.Public("sales asked for it"), clientPath(policy.SensitiveRead(limits.Export(http.HandlerFunc(ok), ratelimit.ByIP()))))
	} else {
		mux.Handle("GET /api/clients/{id}/export", authz.Role("support", "admin").Object(tenantOf, staffOrTenant), export)
	}

	// Notes: the correct version decodes with validate.Decode inside the
	// handler, which the static checks cannot see.
	notes := func(w http.ResponseWriter, r *http.Request) {
		var in noteIn
		if planted[4] {
			_ = json.NewDecoder(r.Body).Decode(&in)
		} else {
			var err error
			if in, err = validate.Decode[noteIn](w, r, nil); err != nil {
				validate.WriteError(w, r, err)
				return
			}
		}
		w.WriteHeader(http.StatusCreated)
	}
	mux.Handle("POST /api/clients/{id}/notes", authz.Authenticated().Object(tenantOf, staffOrTenant), clientPath(http.HandlerFunc(notes)))
	// Admins look users up across tenants by design (with a second factor).
	mux.Handle("GET /api/admin/users/{userID}", authz.Role("admin").RequireMFA(),
		validate.Path(validate.Rules{"userID": validate.Slug}, http.HandlerFunc(ok)))
	if planted[2] {
		v1 := &miniRouter{}
		v1.Handle("/api/v1/clients/client-b/tickets", http.HandlerFunc(ok))
		mux.Handle("GET /api/v1/", authz.Authenticated(), v1)
	}

	headers, err := cors.NewHeaders(cors.HeadersConfig{})
	require.NoError(t, err)
	sink, err := audit.OpenFile(filepath.Join(t.TempDir(), "audit.jsonl"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = sink.Close() })
	auditor, err := audit.New(audit.Config{Sink: sink})
	require.NoError(t, err)

	var h http.Handler = mgr.Handler(auditor.Handler(mux))
	h = policy.Handler(h)
	if planted[6] {
		inner := h
		h = corsRaw{next: inner, serve: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if o := r.Header.Get("Origin"); o != "" {
				w.Header().Set("Access-Control-Allow-Origin", o)
				w.Header().Set("Access-Control-Allow-Credentials", "true")
			}
			inner.ServeHTTP(w, r)
		})}
	}
	h = headers.Handler(h)
	h = hostOnly{host: "portal.example.com", next: h}
	return monitor.Recover(nil).Handler(monitor.NewCounters().Handler(h))
}

// appProbes is the whole probe setup of such an app: one shared client.
func appProbes(password string, logs *probe.LogCapture) []readiness.Check {
	as := func(email string) probe.Account { return probe.Account{Username: email, Password: password} }
	c := &probe.Client{
		Login:    probe.Login{Path: "/api/login"},
		Accounts: map[string]probe.Account{"alice": as("alice@client-a.test"), "bob": as("bob@client-b.test"), "agent": as("agent@acme.test")},
		Values:   map[string]string{"id": "client-a", "userID": "u-alice"},
	}
	users := appUsers()
	return []readiness.Check{
		&probe.AuthProbe{Client: c, Bodies: map[string]string{"POST /api/clients/{id}/notes": `{"text":"probe"}`},
			Identities: []probe.Identity{
				{Name: "alice", Account: "alice", Principal: users[0].p, Foreign: map[string]string{"id": "client-b"}},
				{Name: "bob", Account: "bob", Principal: users[1].p, Foreign: map[string]string{"id": "client-a"}},
				{Name: "agent", Account: "agent", Principal: users[2].p},
			}},
		probe.SessionProbe{Client: c, Account: "agent", Check: probe.SessionRequest{Path: "/api/me"}, Logout: probe.SessionRequest{Path: "/api/logout"}},
		probe.InputProbe{Client: c, Account: "agent"},
		probe.CORSProbe{Client: c},
		probe.LoginRateProbe{Client: c},
		probe.LogCanary{Client: c, Capture: logs},
	}
}

func scoreApp(t *testing.T, planted map[int]bool) *readiness.Report {
	t.Helper()
	password := "pw-" + strings.Repeat("x", 12) // built at run time
	logs := &probe.LogCapture{}
	h := buildApp(t, password, logs, planted)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 64 << 10}
	// The release plan (DEPLOY008, DEPLOY009, MON005) is declared: these
	// apps are about the probes' findings, not the deploy gate.
	plan := readiness.ReleasePlan{Previous: "v0.9.0", Flows: []flows.Flow{{Name: "sign in and read", Covers: []string{flows.CoverLogin, flows.CoverWorkflow},
		Steps: []flows.Step{{Name: "login", Request: "POST /api/login"}, {Name: "clients", Request: "GET /api/clients"}}}}}
	r, err := readiness.Run(t.Context(), readiness.Target{Server: srv, Env: readiness.Production,
		ShutdownTimeout: 10 * time.Second, Checks: appProbes(password, logs), Release: plan})
	require.NoError(t, err)
	return r
}

// TestCleanAppHasNoFalseBlockers: the correct portal passes in production
// with every probe, and every probe reached what it tests.
func TestCleanAppHasNoFalseBlockers(t *testing.T) {
	r := scoreApp(t, nil)
	assert.Empty(t, r.Blockers(), "false blockers on the clean app: %s", r)
	assert.Empty(t, r.ByID("AUTH003"), "the admin-only object route is not AUTH003")
	var verified []string
	for _, f := range r.Findings {
		if f.VerifiedByProbe != "" {
			verified = append(verified, f.ID+" "+f.Route)
		}
	}
	assert.Contains(t, verified, "INPUT001 POST /api/clients/{id}/notes")
	assert.Contains(t, verified, "INPUT002 POST /api/clients/{id}/notes")
	probes := map[string]bool{}
	for _, rr := range r.Reach {
		if rr.Reached > 0 || rr.Refused["authorization (401)"]+rr.Refused["authorization (403)"]+rr.Refused["authorization (404)"] > 0 {
			probes[rr.Probe] = true
		}
	}
	assert.Len(t, probes, 6, "every probe reached what it tests: %v", probes)
	t.Logf("clean app: %d findings, %d blockers", len(r.Findings), len(r.Blockers()))
}

// TestPlantedFlawsAreCaught: each flaw, planted alone, raises its blocker
// IDs; recall over all flaws must be 1.
func TestPlantedFlawsAreCaught(t *testing.T) {
	caught := 0
	for i, f := range flaws {
		t.Run(f.name, func(t *testing.T) {
			r := scoreApp(t, map[int]bool{i: true})
			var blockers []string
			for _, b := range r.Blockers() {
				blockers = append(blockers, b.ID)
			}
			sort.Strings(blockers)
			all := true
			for _, id := range f.ids {
				if !assert.Contains(t, blockers, id, "%s", r) {
					all = false
				}
			}
			assert.Empty(t, r.ByID("PROBE001"), "every probe was exercised: %s", r)
			for _, id := range blockers {
				assert.Contains(t, f.ids, id, "a blocker the flaw does not explain (false blocker): %s", r)
			}
			if all {
				caught++
			}
			t.Logf("%s: blockers %v", f.name, blockers)
		})
	}
	t.Logf("recall: %d/%d planted flaws caught", caught, len(flaws))
	assert.Equal(t, len(flaws), caught)
}
