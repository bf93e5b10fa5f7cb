package authz_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/authz"
)

// Test principals, chosen by the X-Test-User header.
var users = map[string]authz.Principal{
	"admin": {ID: "u-admin", Roles: []string{"admin"}, Permissions: []string{"clients:read", "clients:export"}},
	"agent": {ID: "u-agent", Roles: []string{"support"}, Permissions: []string{"clients:read"}},
	"alice": {ID: "u-alice", Roles: []string{"client"}, Tenant: "client-a"},
	"bob":   {ID: "u-bob", Roles: []string{"client"}, Tenant: "client-b"},
}

func authenticate(r *http.Request) (authz.Principal, error) {
	p, ok := users[r.Header.Get("X-Test-User")]
	if !ok {
		return authz.Principal{}, authz.ErrUnauthenticated
	}
	return p, nil
}

// tickets: ID → owner and tenant.
var tickets = map[string]authz.Object{
	"t1": {Owner: "u-alice", Tenant: "client-a"},
	"t2": {Owner: "u-bob", Tenant: "client-b"},
}

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
	case "broken":
		return authz.Object{}, errors.New("database is down at 10.0.0.7")
	}
	return authz.Object{}, authz.ErrNotFound
}

func ok(w http.ResponseWriter, r *http.Request) {
	p, _ := authz.PrincipalFrom(r.Context())
	fmt.Fprintf(w, "ok %s %s", r.Pattern, p.ID)
}

func newTestMux(t *testing.T) *authz.Mux {
	t.Helper()
	m, err := authz.NewMux(authz.Config{Authenticate: authenticate})
	require.NoError(t, err)
	m.HandleFunc("GET /healthz", authz.Public("uptime monitor"), ok)
	m.HandleFunc("GET /api/me", authz.Authenticated(), ok)
	m.HandleFunc("GET /api/admin/audit", authz.Role("admin"), ok)
	m.HandleFunc("GET /api/clients", authz.Role("admin", "support"), ok)
	m.HandleFunc("GET /api/clients/{id}/export", authz.Permission("clients:export"), ok)
	m.HandleFunc("GET /api/clients/{id}", authz.Authenticated().Object(loadClient, authz.SameTenant.OrRole("admin", "support")), ok)
	m.HandleFunc("GET /api/tickets/{id}", authz.Role("client").Object(loadTicket, authz.Owner), ok)
	m.HandleFunc("PATCH /api/tickets/{id}", authz.Role("client").Object(loadTicket, authz.SameTenant).RevealObjects(), ok)
	m.HandleFunc("GET /files/{name}", authz.Authenticated(), ok)
	m.HandleFunc("POST /api/login", authz.Public("login form"), ok)
	return m
}

func serve(h http.Handler, method, target, user string, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "http://portal.example.com/", nil)
	u, err := url.ParseRequestURI(target)
	if err != nil {
		panic(err)
	}
	r.URL = u
	r.RequestURI = target
	if user != "" {
		r.Header.Set("X-Test-User", user)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestPolicies(t *testing.T) {
	m := newTestMux(t)
	tests := []struct {
		name, method, path, user string
		want                     int
	}{
		{"public anonymous", "GET", "/healthz", "", 200},
		{"public signed in", "GET", "/healthz", "bob", 200},
		{"public POST", "POST", "/api/login", "", 200},
		{"authenticated anonymous", "GET", "/api/me", "", 401},
		{"authenticated ok", "GET", "/api/me", "alice", 200},
		{"role anonymous", "GET", "/api/admin/audit", "", 401},
		{"role missing", "GET", "/api/admin/audit", "agent", 403},
		{"role client", "GET", "/api/admin/audit", "alice", 403},
		{"role ok", "GET", "/api/admin/audit", "admin", 200},
		{"any of roles", "GET", "/api/clients", "agent", 200},
		{"any of roles missing", "GET", "/api/clients", "bob", 403},
		{"permission missing", "GET", "/api/clients/client-a/export", "agent", 403},
		{"permission ok", "GET", "/api/clients/client-a/export", "admin", 200},
		{"object same tenant", "GET", "/api/clients/client-a", "alice", 200},
		{"object other tenant is 404", "GET", "/api/clients/client-a", "bob", 404},
		{"object missing is 404", "GET", "/api/clients/nope", "bob", 404},
		{"object staff role", "GET", "/api/clients/client-b", "agent", 200},
		{"object anonymous", "GET", "/api/clients/client-a", "", 401},
		{"object loader error is 500", "GET", "/api/clients/broken", "alice", 500},
		{"owner ok", "GET", "/api/tickets/t1", "alice", 200},
		{"owner other", "GET", "/api/tickets/t1", "bob", 404},
		{"owner role first", "GET", "/api/tickets/t1", "agent", 403},
		{"reveal objects answers 403", "PATCH", "/api/tickets/t2", "alice", 403},
		{"reveal objects missing still 404", "PATCH", "/api/tickets/t9", "alice", 404},
		{"HEAD decided as GET, denied", "HEAD", "/api/admin/audit", "agent", 403},
		{"HEAD decided as GET, anonymous", "HEAD", "/api/me", "", 401},
		{"HEAD decided as GET, allowed", "HEAD", "/api/admin/audit", "admin", 200},
		{"unknown route", "GET", "/api/nope", "admin", 404},
		{"wrong method", "DELETE", "/api/me", "admin", 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := serve(m, tt.method, tt.path, tt.user)
			assert.Equal(t, tt.want, w.Code, w.Body.String())
			if tt.want >= 400 && tt.want != 405 && !strings.HasPrefix(tt.name, "unknown") {
				assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
				var prob map[string]any
				require.NoError(t, json.Unmarshal(w.Body.Bytes(), &prob))
				assert.Equal(t, float64(tt.want), prob["status"])
				assert.Equal(t, "about:blank", prob["type"])
				assert.NotContains(t, w.Body.String(), "10.0.0.7", "loader errors never reach the client")
			}
		})
	}
}

func TestObjectDenialLooksLikeMissing(t *testing.T) {
	m := newTestMux(t)
	forbidden := serve(m, "GET", "/api/clients/client-a", "bob")
	missing := serve(m, "GET", "/api/clients/no-such-client", "bob")
	assert.Equal(t, missing.Code, forbidden.Code)
	assert.Equal(t, missing.Body.String(), forbidden.Body.String())
	assert.Equal(t, missing.Header(), forbidden.Header())
}

// Every bypass variant must fail: each request targets the admin route or
// the files route with a trick, as an agent who lacks the admin role.
func TestBypassVariants(t *testing.T) {
	m := newTestMux(t)
	tests := []struct {
		name, method, path string
		hdr                []string
		want               int
	}{
		{"baseline denied", "GET", "/api/admin/audit", nil, 403},
		{"upper case", "GET", "/API/ADMIN/AUDIT", nil, 404},
		{"mixed case", "GET", "/api/Admin/audit", nil, 404},
		{"double slash", "GET", "/api//admin/audit", nil, 307},
		{"leading double slash", "GET", "//api/admin/audit", nil, 307},
		{"dot segment", "GET", "/api/./admin/audit", nil, 307},
		{"dot dot segment", "GET", "/api/x/../admin/audit", nil, 307},
		{"encoded slash", "GET", "/api%2Fadmin%2Faudit", nil, 400},
		{"encoded slash lower", "GET", "/api%2fadmin/audit", nil, 400},
		{"encoded dot", "GET", "/api/%2E/admin/audit", nil, 400},
		{"encoded traversal into wildcard", "GET", "/files/..%2Fapi%2Fadmin%2Faudit", nil, 400},
		{"encoded backslash", "GET", "/files/..%5Cadmin", nil, 400},
		{"double encoding", "GET", "/files/..%252Fadmin", nil, 400},
		{"encoded NUL", "GET", "/files/a%00b", nil, 400},
		{"semicolon", "GET", "/api/admin/audit;x=1", nil, 400},
		{"encoded semicolon", "GET", "/api/admin/audit%3Bx", nil, 400},
		{"trailing slash", "GET", "/api/admin/audit/", nil, 404},
		{"encoded letter still decided on pattern", "GET", "/api/%61dmin/audit", nil, 403},
		{"HEAD", "HEAD", "/api/admin/audit", nil, 403},
		{"method override header", "POST", "/api/admin/audit", []string{"X-HTTP-Method-Override", "GET"}, 400},
		{"method override on GET", "GET", "/api/admin/audit", []string{"X-HTTP-Method", "DELETE"}, 400},
		{"X-Method-Override", "GET", "/api/me", []string{"X-Method-Override", "PUT"}, 400},
		{"TRACE", "TRACE", "/api/admin/audit", nil, 405},
		{"CONNECT", "CONNECT", "/api/admin/audit", nil, 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := serve(m, tt.method, tt.path, "agent", tt.hdr...)
			assert.Equal(t, tt.want, w.Code)
			assert.NotContains(t, w.Body.String(), "ok ", "the handler must not run")
		})
	}
}

func TestHandleRefusesRoutesWithoutPolicy(t *testing.T) {
	m, err := authz.NewMux(authz.Config{Authenticate: authenticate})
	require.NoError(t, err)
	h := http.HandlerFunc(ok)
	for name, p := range map[string]authz.Policy{
		"zero policy":         {},
		"public no reason":    authz.Public("  "),
		"role without roles":  authz.Role(),
		"empty permission":    authz.Permission(""),
		"object nil loader":   authz.Authenticated().Object(nil, authz.SameTenant),
		"object without rule": authz.Authenticated().Object(loadTicket, authz.Rule{}),
		"public narrowed":     authz.Public("login").Role("admin"),
		"public object":       authz.Public("share").Object(loadTicket, authz.Owner),
	} {
		assert.Panics(t, func() { m.Handle("GET /x", p, h) }, name)
	}
	assert.Panics(t, func() { m.Handle("GET /x", authz.Authenticated(), nil) })
	assert.Empty(t, m.Routes())
}

func TestNewMuxValidates(t *testing.T) {
	_, err := authz.NewMux(authz.Config{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "authz: Config.Authenticate is nil")
}

func TestRoutesInventory(t *testing.T) {
	m := newTestMux(t)
	routes := m.Routes()
	require.Len(t, routes, 10)
	byPattern := map[string]authz.Route{}
	for _, r := range routes {
		byPattern[r.Pattern] = r
	}
	h := byPattern["GET /healthz"]
	assert.True(t, h.Policy.IsPublic())
	assert.Equal(t, "uptime monitor", h.Policy.PublicReason())
	assert.Equal(t, "GET", h.Method)
	assert.Equal(t, "/healthz", h.Path)
	a := byPattern["GET /api/admin/audit"]
	assert.Equal(t, []string{"admin"}, a.Policy.Roles())
	assert.True(t, a.Policy.RequiresAuthentication())
	assert.False(t, a.Policy.HasObjectCheck())
	c := byPattern["GET /api/clients/{id}"]
	assert.True(t, c.Policy.HasObjectCheck())
	assert.Equal(t, []string{"same tenant or role admin|support"}, c.Policy.ObjectRules())
	assert.Equal(t, 404, c.Policy.ObjectDenialStatus())
	assert.Equal(t, 403, byPattern["PATCH /api/tickets/{id}"].Policy.ObjectDenialStatus())
	assert.Equal(t, []string{"clients:export"}, byPattern["GET /api/clients/{id}/export"].Policy.Permissions())
	assert.Equal(t, "role(client) object(owner)", byPattern["GET /api/tickets/{id}"].Policy.String())

	var seen []string
	m.EachRoute(func(p string, h http.Handler) {
		seen = append(seen, p)
		assert.NotNil(t, h)
	})
	assert.Equal(t, "GET /healthz", seen[0])
	assert.Len(t, seen, 10)
}

// annotator is an outer middleware's writer wanting the route and principal.
type annotator struct {
	http.ResponseWriter
	route, id, tenant string
	decisions         []string
}

func (a *annotator) SetDecision(p string, d authz.Decision) {
	a.decisions = append(a.decisions, fmt.Sprintf("%s=%d", p, int(d)))
}

func (a *annotator) SetRoute(p string)                   { a.route = p }
func (a *annotator) SetPrincipal(id, tenant string)      { a.id, a.tenant = id, tenant }
func (a *annotator) Unwrap() http.ResponseWriter         { return a.ResponseWriter }
func (a *annotator) WriteHeader(code int)                { a.ResponseWriter.WriteHeader(code) }
func (a *annotator) Write(b []byte) (int, error)         { return a.ResponseWriter.Write(b) }
func (a *annotator) Header() http.Header                 { return a.ResponseWriter.Header() }
func (a *annotator) String() string                      { return a.route + "|" + a.id + "|" + a.tenant }
func (a *annotator) ReadFrom(r io.Reader) (int64, error) { return io.Copy(a.ResponseWriter, r) }

type plainWrapper struct{ http.ResponseWriter }

func (p plainWrapper) Unwrap() http.ResponseWriter { return p.ResponseWriter }

func TestAnnotationsTravelUpTheWriterChain(t *testing.T) {
	m := newTestMux(t)
	outer := &annotator{}
	inner := &annotator{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// outer wraps a plain wrapper which wraps inner which wraps the recorder
		inner.ResponseWriter = w
		outer.ResponseWriter = plainWrapper{inner}
		m.ServeHTTP(outer, r)
	})
	w := serve(h, "GET", "/api/clients/client-b", "bob")
	assert.Equal(t, 200, w.Code)
	assert.Equal(t, "GET /api/clients/{id}|u-bob|client-b", outer.String())
	assert.Equal(t, outer.String(), inner.String())

	// A denied anonymous request still reports its route, and no principal.
	outer2 := &annotator{}
	h2 := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		outer2.ResponseWriter = w
		m.ServeHTTP(outer2, r)
	})
	w = serve(h2, "GET", "/api/admin/audit", "")
	assert.Equal(t, 401, w.Code)
	assert.Equal(t, "GET /api/admin/audit||", outer2.String())

	// The decision travels too: Allow (0) for the served request, the
	// denial's status for the refused one, once each.
	assert.Equal(t, []string{"GET /api/clients/{id}=0"}, outer.decisions)
	assert.Equal(t, outer.decisions, inner.decisions)
	assert.Equal(t, []string{"GET /api/admin/audit=401"}, outer2.decisions)

	// A request the firewall refuses reaches no policy: no decision.
	outer3 := &annotator{}
	h3 := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		outer3.ResponseWriter = w
		m.ServeHTTP(outer3, r)
	})
	w = serve(h3, "GET", "/api/clients/..%2Fadmin", "bob")
	assert.Equal(t, 400, w.Code)
	assert.Empty(t, outer3.decisions)
}

func TestGuardFailsWithoutDecision(t *testing.T) {
	guarded := authz.Guard(http.HandlerFunc(ok))
	// Wired by mistake on a plain ServeMux: fails closed.
	plain := http.NewServeMux()
	plain.Handle("GET /api/admin/audit", guarded)
	w := serve(plain, "GET", "/api/admin/audit", "admin")
	assert.Equal(t, 500, w.Code)
	assert.NotContains(t, w.Body.String(), "ok ")

	// Through the Mux it runs.
	m, err := authz.NewMux(authz.Config{Authenticate: authenticate})
	require.NoError(t, err)
	m.Handle("GET /api/admin/audit", authz.Role("admin"), guarded)
	assert.Equal(t, 200, serve(m, "GET", "/api/admin/audit", "admin").Code)
	assert.Equal(t, 403, serve(m, "GET", "/api/admin/audit", "agent").Code)
}

func TestPrincipalFrom(t *testing.T) {
	m := newTestMux(t)
	w := serve(m, "GET", "/healthz", "alice")
	assert.Equal(t, "ok GET /healthz u-alice", w.Body.String(), "public routes still see a signed-in principal")
	w = serve(m, "GET", "/healthz", "")
	assert.Equal(t, "ok GET /healthz ", w.Body.String())
	_, found := authz.PrincipalFrom(httptest.NewRequest("GET", "/", nil).Context())
	assert.False(t, found)
}

func TestAuthenticateErrorsAreAnonymous(t *testing.T) {
	m, err := authz.NewMux(authz.Config{Authenticate: func(*http.Request) (authz.Principal, error) {
		return authz.Principal{ID: "half-built"}, errors.New("session store unavailable")
	}})
	require.NoError(t, err)
	m.HandleFunc("GET /api/me", authz.Authenticated(), ok)
	assert.Equal(t, 401, serve(m, "GET", "/api/me", "").Code)
}

func TestCustomDeny(t *testing.T) {
	var got []int
	m, err := authz.NewMux(authz.Config{Authenticate: authenticate, Deny: func(w http.ResponseWriter, r *http.Request, d authz.Denial) {
		got = append(got, d.Status)
		w.WriteHeader(d.Status)
		_, _ = io.WriteString(w, "custom")
	}})
	require.NoError(t, err)
	m.HandleFunc("GET /api/me", authz.Authenticated(), ok)
	assert.Equal(t, "custom", serve(m, "GET", "/api/me", "").Body.String())
	assert.Equal(t, 400, serve(m, "GET", "/api%2Fme", "").Code)
	assert.Equal(t, []int{401, 400}, got)
}

func TestConcurrentRegistrationAndRequests(t *testing.T) {
	m := newTestMux(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			m.HandleFunc(fmt.Sprintf("GET /api/extra/%d", i), authz.Role("admin"), ok)
			_ = m.Routes()
		}()
		go func() {
			defer wg.Done()
			for range 50 {
				if w := serve(m, "GET", "/api/clients/client-a", "bob"); w.Code != 404 {
					t.Errorf("got %d", w.Code)
				}
				if w := serve(m, "GET", "/api/clients/client-a", "alice"); w.Code != 200 {
					t.Errorf("got %d", w.Code)
				}
			}
		}()
	}
	wg.Wait()
	assert.Len(t, m.Routes(), 18)
}

func TestDecide(t *testing.T) {
	m := newTestMux(t)
	r := httptest.NewRequest("GET", "/api/admin/audit", nil)
	r.Pattern = "GET /api/admin/audit"
	d, err := m.Decide(r, users["admin"])
	require.NoError(t, err)
	assert.True(t, d.Allowed())
	d, _ = m.Decide(r, users["agent"])
	assert.Equal(t, authz.Forbidden, d)
	r.Pattern = "GET /unknown"
	d, _ = m.Decide(r, users["admin"])
	assert.Equal(t, authz.NotFound, d)
}

type parentKey struct{}

// The Mux's own context value must not hide the parent's values or its
// cancellation from the handler or from contexts derived in it.
func TestMuxContextKeepsParentValuesAndCancellation(t *testing.T) {
	m, err := authz.NewMux(authz.Config{Authenticate: authenticate})
	require.NoError(t, err)
	var seen string
	var derivedErr, ownErr error
	m.HandleFunc("GET /api/me", authz.Authenticated(), func(w http.ResponseWriter, r *http.Request) {
		seen, _ = r.Context().Value(parentKey{}).(string)
		derived, stop := context.WithCancel(r.Context())
		defer stop()
		<-derived.Done() // the parent below is already cancelled
		derivedErr, ownErr = derived.Err(), r.Context().Err()
		p, ok := authz.PrincipalFrom(r.Context())
		assert.True(t, ok)
		assert.Equal(t, "u-alice", p.ID)
	})
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), parentKey{}, "request-scoped"))
	cancel()
	r := httptest.NewRequest(http.MethodGet, "/api/me", nil).WithContext(ctx)
	r.Header.Set("X-Test-User", "alice")
	m.ServeHTTP(httptest.NewRecorder(), r)
	assert.Equal(t, "request-scoped", seen)
	assert.ErrorIs(t, derivedErr, context.Canceled)
	assert.ErrorIs(t, ownErr, context.Canceled)
}
