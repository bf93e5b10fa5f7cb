package readiness_test

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	rscors "github.com/rs/cors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/cors"
	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/readiness/probe"
)

// corsMux is a minimal route inventory standing in for authz.Mux.
type corsMux struct {
	*http.ServeMux
	routes []string
}

func newCORSMux(patterns ...string) *corsMux {
	m := &corsMux{ServeMux: http.NewServeMux(), routes: patterns}
	for _, p := range patterns {
		m.Handle(p, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }))
	}
	return m
}

func (m *corsMux) EachRoute(fn func(string, http.Handler)) {
	for _, p := range m.routes {
		h, _ := m.Handler(&http.Request{Method: strings.Fields(p)[0], URL: mustPath(strings.Fields(p)[1])})
		fn(p, h)
	}
}

// corsSession stands in for session.Handler: its Settings() has a CookieName.
type corsSession struct{ next http.Handler }

type corsSessionSettings struct{ CookieName string }

func (s corsSession) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.next.ServeHTTP(w, r) }
func (s corsSession) Unwrap() http.Handler                             { return s.next }
func (s corsSession) Settings() corsSessionSettings                    { return corsSessionSettings{"__Host-session"} }

// corsWrap is an unnamed pass-through that is walkable.
type corsWrap struct{ next http.Handler }

func (s corsWrap) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.next.ServeHTTP(w, r) }
func (s corsWrap) Unwrap() http.Handler                             { return s.next }

// corsRaw serves through a third-party middleware but unwraps to what it
// wraps, as an adapter would.
type corsRaw struct{ serve, next http.Handler }

func (s corsRaw) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.serve.ServeHTTP(w, r) }
func (s corsRaw) Unwrap() http.Handler                             { return s.next }

var corsRoutes = []string{"GET /api/clients/{id}", "POST /api/clients/{id}/tickets", "PATCH /api/tickets/{id}"}

type corsSetup struct {
	cfg      cors.Config
	headers  *cors.HeadersConfig // nil: no headers middleware
	cookies  bool
	noCORS   bool
	bypass   string
	rawOuter func(http.Handler) http.Handler // e.g. raw rs/cors, not walkable
}

func corsTarget(t *testing.T, env readiness.Env, s corsSetup, checks ...readiness.Check) readiness.Target {
	t.Helper()
	var h http.Handler = newCORSMux(corsRoutes...)
	if s.cookies {
		h = corsSession{h}
	}
	if !s.noCORS {
		p, err := cors.New(s.cfg)
		require.NoError(t, err)
		if s.bypass != "" {
			require.NoError(t, p.InsecureBypassPattern(s.bypass))
		}
		h = p.Handler(h)
	} else {
		h = corsWrap{h}
	}
	if s.headers != nil {
		hs, err := cors.NewHeaders(*s.headers)
		require.NoError(t, err)
		h = hs.Handler(h)
	}
	if s.rawOuter != nil {
		h = corsRaw{serve: s.rawOuter(h), next: h}
	}
	return readiness.Target{
		Server: &http.Server{Handler: h, ReadHeaderTimeout: time.Second, ReadTimeout: time.Second,
			WriteTimeout: time.Second, IdleTimeout: time.Second, MaxHeaderBytes: 1 << 16},
		Env: env, ShutdownTimeout: time.Second, AllowedHosts: []string{"portal.example.com"},
		Checks: checks,
	}
}

func corsIDs(r *readiness.Report) []string {
	var out []string
	for _, f := range r.Findings {
		if strings.HasPrefix(f.ID, "CORS") {
			out = append(out, f.ID+"/"+f.Severity.String())
		}
	}
	sort.Strings(out)
	return out
}

func TestCORSChecks(t *testing.T) {
	good := cors.Config{AllowedOrigins: []string{"https://portal.example.com"}, AllowCredentials: true}
	api := &cors.HeadersConfig{}
	tests := []struct {
		name  string
		env   readiness.Env
		setup corsSetup
		want  []string
	}{
		{"hardened", readiness.Production, corsSetup{cfg: good, headers: api, cookies: true}, nil},
		{"hardened dev", readiness.Development, corsSetup{cfg: good, headers: api, cookies: true}, nil},
		{"no headers middleware", readiness.Production, corsSetup{cfg: good}, []string{"CORS007/blocker"}},
		{"no HSTS in production", readiness.Production, corsSetup{cfg: good, headers: &cors.HeadersConfig{InsecureNoHSTS: true}}, []string{"CORS007/blocker"}},
		{"no HSTS in development", readiness.Development, corsSetup{cfg: good, headers: &cors.HeadersConfig{InsecureNoHSTS: true}}, []string{"CORS007/warning"}},
		{"http origin in production", readiness.Production, corsSetup{cfg: cors.Config{AllowedOrigins: []string{"http://localhost:5173"}, InsecureAllowHTTP: true}, headers: api}, []string{"CORS004/blocker"}},
		{"http origin in development", readiness.Development, corsSetup{cfg: cors.Config{AllowedOrigins: []string{"http://localhost:5173"}, InsecureAllowHTTP: true}, headers: api}, []string{"CORS004/warning"}},
		{"wildcard subdomains", readiness.Production, corsSetup{cfg: cors.Config{AllowedOrigins: []string{"https://*.example.com"}, InsecureAllowWildcardSubdomains: true}, headers: api}, []string{"CORS005/warning"}},
		{"wildcard subdomains with credentials in production", readiness.Production, corsSetup{cfg: cors.Config{AllowedOrigins: []string{"https://*.example.com"}, InsecureAllowWildcardSubdomains: true, AllowCredentials: true}, headers: api}, []string{"CORS005/blocker"}},
		{"wildcard subdomains with credentials in development", readiness.Development, corsSetup{cfg: cors.Config{AllowedOrigins: []string{"https://*.example.com"}, InsecureAllowWildcardSubdomains: true, AllowCredentials: true}, headers: api}, []string{"CORS005/warning"}},
		{"origin function", readiness.Production, corsSetup{cfg: cors.Config{AllowOriginFunc: func(string) bool { return false }}, headers: api}, []string{"CORS002/warning"}},
		{"cookies without CSRF protection", readiness.Production, corsSetup{noCORS: true, cookies: true, headers: api}, []string{"CORS006/blocker", "CORS006/blocker"}},
		{"no cookies, no CSRF protection", readiness.Production, corsSetup{noCORS: true, headers: api}, nil},
		{"bypass pattern", readiness.Production, corsSetup{cfg: good, cookies: true, headers: api, bypass: "POST /webhooks/{p}"}, []string{"CORS006/warning"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := readiness.Run(t.Context(), corsTarget(t, tt.env, tt.setup))
			require.NoError(t, err)
			assert.Equal(t, tt.want, corsIDs(r))
		})
	}
}

func TestCORSCSRFFindingsNameRoutes(t *testing.T) {
	r, err := readiness.Run(t.Context(), corsTarget(t, readiness.Production, corsSetup{noCORS: true, cookies: true, headers: &cors.HeadersConfig{}}))
	require.NoError(t, err)
	var routes []string
	for _, f := range r.ByID("CORS006") {
		routes = append(routes, f.Route)
	}
	assert.Equal(t, []string{"PATCH /api/tickets/{id}", "POST /api/clients/{id}/tickets"}, sortedCopy(routes))
}

func sortedCopy(s []string) []string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	return s
}

func TestCORSProbe(t *testing.T) {
	good := cors.Config{AllowedOrigins: []string{"https://portal.example.com"}, AllowCredentials: true}
	reflectAll := func(h http.Handler) http.Handler {
		// The classic mistake: rs/cors reflecting every origin with credentials.
		return rscors.New(rscors.Options{AllowOriginFunc: func(string) bool { return true }, AllowCredentials: true, AllowedMethods: []string{"GET", "POST"}}).Handler(h)
	}
	lookalike := func(h http.Handler) http.Handler {
		// A hand-written suffix check: trusts portal.example.com.evil.test.
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if o := r.Header.Get("Origin"); strings.HasPrefix(o, "https://portal.example.com") {
				w.Header().Set("Access-Control-Allow-Origin", o)
				w.Header().Set("Access-Control-Allow-Credentials", "true")
			}
			h.ServeHTTP(w, r)
		})
	}
	tests := []struct {
		name  string
		setup corsSetup
		want  []string
	}{
		{"hardened", corsSetup{cfg: good, headers: &cors.HeadersConfig{}, cookies: true}, nil},
		{"reflecting rs/cors without CSRF", corsSetup{noCORS: true, headers: &cors.HeadersConfig{}, rawOuter: reflectAll},
			[]string{"CORS006/blocker", "CORS006/blocker", "CORS008/blocker"}},
		{"look-alike suffix match", corsSetup{cfg: good, headers: &cors.HeadersConfig{}, rawOuter: lookalike}, []string{"CORS008/blocker"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := readiness.Run(t.Context(), corsTarget(t, readiness.Production, tt.setup, probe.CORSProbe{}))
			require.NoError(t, err)
			got := corsIDs(r)
			// CORS008 is reported once per origin and request kind; compare the set.
			assert.Equal(t, tt.want, dedupe(got), "%v", r.ByID("CORS008"))
			if tt.name == "look-alike suffix match" {
				var seen []string
				for _, f := range r.ByID("CORS008") {
					seen = append(seen, f.Seen)
				}
				joined := strings.Join(seen, "\n")
				assert.Contains(t, joined, "https://portal.example.com.evil.test")
				assert.NotContains(t, joined, "https://evilportal.example.com\"")
			}
		})
	}
}

func dedupe(s []string) []string {
	var out []string
	for i, v := range s {
		if i > 0 && v == s[i-1] && strings.HasPrefix(v, "CORS008") {
			continue
		}
		out = append(out, v)
	}
	return out
}

func TestCORSProbeRefusedByGate(t *testing.T) {
	target := corsTarget(t, readiness.Production, corsSetup{cfg: cors.Config{}, headers: &cors.HeadersConfig{}}, probe.CORSProbe{})
	err := readiness.Gate(t.Context(), target, nil)
	require.Error(t, err)
}

func mustPath(p string) *url.URL {
	u, err := url.Parse(p)
	if err != nil {
		panic(err)
	}
	return u
}
