package portalapp_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/authz"
	"github.com/launchready/launchready/examples/portalapp"
	"github.com/launchready/launchready/readiness"
)

// signer keeps one signed-in session per account for the probes, signing
// in again through the portal's own login route when a probe request
// ended the session (the probe also calls POST /api/logout).
type signer struct {
	t        *testing.T
	h        http.Handler
	host     string
	password string
	mu       sync.Mutex
	cookies  map[string]*http.Cookie
	addrs    map[string]string
}

func newSigner(t *testing.T, p *portalapp.Portal, password string) *signer {
	host := "localhost"
	if len(p.Target.AllowedHosts) > 0 {
		host = p.Target.AllowedHosts[0]
	}
	return &signer{t: t, h: p.Server.Handler, host: host, password: password, cookies: map[string]*http.Cookie{}, addrs: map[string]string{}}
}

// addr gives each account its own client address (TEST-NET-2), apart from
// the probes' own, so probe traffic never exhausts a login limit.
func (s *signer) addr(email string) string {
	if a, ok := s.addrs[email]; ok {
		return a
	}
	a := "198.51.100." + strconv.Itoa(10+len(s.addrs)) + ":40000"
	s.addrs[email] = a
	return a
}

func (s *signer) valid(email string, c *http.Cookie) bool {
	req := httptest.NewRequest("GET", "https://"+s.host+"/api/me", nil)
	req.RemoteAddr = s.addr(email)
	req.AddCookie(c)
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	return rec.Code == http.StatusOK
}

func (s *signer) cookie(email string) *http.Cookie {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.cookies[email]; ok && s.valid(email, c) {
		return c
	}
	req := httptest.NewRequest("POST", "https://"+s.host+"/api/login",
		strings.NewReader(`{"email":"`+email+`","password":"`+s.password+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.RemoteAddr = s.addr(email)
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	require.Equal(s.t, http.StatusOK, rec.Code, "probe login of %s: %s", email, rec.Body)
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge >= 0 && c.Value != "" && !strings.HasSuffix(c.Name, "lr-device") { // the session, not the login limit's device cookie
			s.cookies[email] = c
			return c
		}
	}
	s.t.Fatalf("probe login of %s set no session cookie", email)
	return nil
}

func (s *signer) as(email string) func(*http.Request) {
	return func(r *http.Request) { r.AddCookie(s.cookie(email)) }
}

// authProbe probes every route as anonymous, as a client user of each
// tenant (with the other tenant's objects as foreign) and as a support
// agent (who must not reach admin routes).
func authProbe(t *testing.T, p *portalapp.Portal, password string) *readiness.AuthProbe {
	s := newSigner(t, p, password)
	ticketOf := func(client string) string {
		ts, err := p.Store.Tickets(t.Context(), client)
		require.NoError(t, err)
		require.NotEmpty(t, ts)
		return strconv.FormatInt(ts[0].ID, 10)
	}
	a, b := ticketOf("client-a"), ticketOf("client-b")
	return &readiness.AuthProbe{
		Values: map[string]string{"id": "client-a", "/api/tickets/{id}": a},
		Bodies: map[string]string{
			"POST /api/clients/{id}/tickets": `{"subject":"probe ticket"}`,
			"PATCH /api/tickets/{id}":        `{"note":"probe note"}`,
			"POST /api/login":                `{"email":"nobody@acme.test","password":"not-the-password"}`,
		},
		Identities: []readiness.Identity{
			{Name: "client user of client-a", Authenticate: s.as("alice@client-a.test"),
				Principal: authz.Principal{ID: "u-alice", Roles: []string{portalapp.RoleClient}, Tenant: "client-a"},
				Foreign:   map[string]string{"id": "client-b", "/api/tickets/{id}": b}},
			{Name: "client user of client-b", Authenticate: s.as("bob@client-b.test"),
				Principal: authz.Principal{ID: "u-bob", Roles: []string{portalapp.RoleClient}, Tenant: "client-b"},
				Foreign:   map[string]string{"id": "client-a", "/api/tickets/{id}": a}},
			{Name: "support agent", Authenticate: s.as("agent@acme.test"),
				Principal: authz.Principal{ID: "u-agent", Roles: []string{portalapp.RoleSupport}}},
		},
	}
}
