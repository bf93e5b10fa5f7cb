package portalapp_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/examples/portalapp"
	"github.com/launchready/launchready/readiness"
)

// syncBuffer collects the portal's log lines from concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type harness struct {
	t       *testing.T
	portal  *portalapp.Portal
	srv     *httptest.Server
	log     *syncBuffer
	clients atomic.Int32
	codes   codeSource // the demo admin's second factor
}

// routers are the routers every portal test runs on: the same routes,
// policies and middleware on authz.Mux and on go-chi/chi (chiauthz).
var routers = []string{portalapp.RouterServeMux, portalapp.RouterChi}

// startPortal serves a development portal on a loopback port, on the named
// router (default authz.Mux).
func startPortal(t *testing.T, router ...string) *harness {
	t.Helper()
	name := portalapp.RouterServeMux
	if len(router) > 0 {
		name = router[0]
	}
	return startPortalWith(t, func(o *portalapp.Options) { o.Router = name })
}

// startPortalWith serves a development portal whose options edit adjusts.
func startPortalWith(t *testing.T, edit func(*portalapp.Options)) *harness {
	t.Helper()
	log := &syncBuffer{}
	srv := httptest.NewUnstartedServer(nil)
	opts := portalapp.Options{
		Env: readiness.Development, Addr: srv.Listener.Addr().String(),
		Log: log, OutboxDir: t.TempDir(), AuditFile: filepath.Join(t.TempDir(), "audit.jsonl"),
	}
	if edit != nil {
		edit(&opts)
	}
	p, err := portalapp.Build(opts)
	require.NoError(t, err)
	p.Health.SetBoot(nil)
	srv.Config = p.Server
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		assert.NoError(t, p.Close())
	})
	return &harness{t: t, portal: p, srv: srv, log: log}
}

// client is one browser-like user agent with its own cookie jar.
type client struct {
	h *harness
	c *http.Client
}

// client returns a new user agent on its own loopback address (127.0.0.2,
// 127.0.0.3, …), as each user of the portal has their own: the per-IP
// login limits then apply per user, as in production.
func (h *harness) client() *client {
	jar, err := cookiejar.New(nil)
	require.NoError(h.t, err)
	n := h.clients.Add(1)
	local := &net.TCPAddr{IP: net.IPv4(127, 0, byte(n/250), byte(2+n%250))}
	tr := &http.Transport{DialContext: (&net.Dialer{LocalAddr: local, Timeout: 5 * time.Second}).DialContext}
	h.t.Cleanup(tr.CloseIdleConnections)
	return &client{h: h, c: &http.Client{Jar: jar, Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *client) do(method, path string, body any, hdr ...string) (*http.Response, []byte) {
	c.h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(c.h.t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.h.srv.URL+path, rd)
	require.NoError(c.h.t, err)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := c.c.Do(req)
	require.NoError(c.h.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(c.h.t, err)
	return res, raw
}

func (c *client) login(email, password string) int {
	res, _ := c.do("POST", "/api/login", map[string]string{"email": email, "password": password})
	return res.StatusCode
}

// signedIn signs email in, completing the second factor for the demo
// admin.
func (h *harness) signedIn(email string) *client {
	c := h.client()
	res, body := c.do("POST", "/api/login", map[string]string{"email": email, "password": portalapp.DemoPassword})
	require.Equal(h.t, http.StatusOK, res.StatusCode, "login of %s", email)
	if strings.Contains(string(body), `"mfa_required":true`) {
		res, body = c.do("POST", "/api/login/mfa", map[string]string{"code": h.codes.next(h.t, h.portal)})
		require.Equal(h.t, http.StatusOK, res.StatusCode, "second factor of %s: %s", email, body)
	}
	return c
}

func decode[T any](t *testing.T, raw []byte) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(raw, &v), string(raw))
	return v
}

func TestSupportFlows(t *testing.T) {
	for _, router := range routers {
		t.Run(router, func(t *testing.T) { testSupportFlows(t, startPortal(t, router)) })
	}
}

func testSupportFlows(t *testing.T, h *harness) {

	t.Run("anonymous", func(t *testing.T) {
		c := h.client()
		res, _ := c.do("GET", "/api/me", nil)
		assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
		res, _ = c.do("GET", "/api/clients/client-a/tickets", nil)
		assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
		res, _ = c.do("GET", "/healthz", nil)
		assert.Equal(t, http.StatusOK, res.StatusCode)
		res, body := c.do("GET", "/", nil)
		assert.Equal(t, http.StatusOK, res.StatusCode)
		assert.Contains(t, string(body), "Acme Support Portal")
		assert.Contains(t, res.Header.Get("Content-Security-Policy"), "script-src 'self'")
		assert.Equal(t, http.StatusUnauthorized, c.login("alice@client-a.test", "wrong-password"))
		assert.Equal(t, http.StatusUnauthorized, c.login("nobody@client-a.test", "wrong-password"))
	})

	t.Run("client user sees only their tenant", func(t *testing.T) {
		alice := h.signedIn("alice@client-a.test")
		res, body := alice.do("GET", "/api/me", nil)
		require.Equal(t, http.StatusOK, res.StatusCode)
		assert.Equal(t, "client-a", decode[map[string]string](t, body)["tenant"])

		res, body = alice.do("GET", "/api/clients/client-a/tickets", nil)
		require.Equal(t, http.StatusOK, res.StatusCode)
		tickets := decode[[]portalapp.Ticket](t, body)
		require.NotEmpty(t, tickets)
		for _, tk := range tickets {
			assert.Equal(t, "client-a", tk.ClientID)
		}
		// Another tenant's objects look exactly like missing ones.
		for _, path := range []string{"/api/clients/client-b", "/api/clients/client-b/tickets", "/api/clients/client-b/invoices", "/api/clients/nope"} {
			res, _ = alice.do("GET", path, nil)
			assert.Equal(t, http.StatusNotFound, res.StatusCode, path)
		}
		res, body = h.signedIn("bob@client-b.test").do("GET", "/api/clients/client-b/tickets", nil)
		require.Equal(t, http.StatusOK, res.StatusCode)
		bobTicket := decode[[]portalapp.Ticket](t, body)[0]
		res, _ = alice.do("GET", "/api/tickets/"+itoa(bobTicket.ID), nil)
		assert.Equal(t, http.StatusNotFound, res.StatusCode)
		res, _ = alice.do("PATCH", "/api/tickets/"+itoa(bobTicket.ID), map[string]string{"note": "mine now"})
		assert.Equal(t, http.StatusNotFound, res.StatusCode)
		// Staff-only routes.
		res, _ = alice.do("GET", "/api/clients", nil)
		assert.Equal(t, http.StatusForbidden, res.StatusCode)
		res, _ = alice.do("GET", "/api/clients/client-a/export", nil)
		assert.Equal(t, http.StatusForbidden, res.StatusCode)
		res, _ = alice.do("GET", "/admin/readiness", nil)
		assert.Equal(t, http.StatusForbidden, res.StatusCode)

		// Create a ticket and add a note; status changes are staff-only.
		res, body = alice.do("POST", "/api/clients/client-a/tickets", map[string]string{"subject": "Printer on fire", "priority": "high", "note": "smoke"})
		require.Equal(t, http.StatusCreated, res.StatusCode, string(body))
		created := decode[portalapp.Ticket](t, body)
		assert.Equal(t, "client-a", created.ClientID)
		res, _ = alice.do("PATCH", "/api/tickets/"+itoa(created.ID), map[string]string{"note": "still burning"})
		assert.Equal(t, http.StatusOK, res.StatusCode)
		res, _ = alice.do("PATCH", "/api/tickets/"+itoa(created.ID), map[string]string{"status": "closed"})
		assert.Equal(t, http.StatusForbidden, res.StatusCode)

		// Logout ends the session server-side.
		res, _ = alice.do("POST", "/api/logout", nil)
		assert.Equal(t, http.StatusNoContent, res.StatusCode)
		res, _ = alice.do("GET", "/api/me", nil)
		assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	})

	t.Run("support agent", func(t *testing.T) {
		agent := h.signedIn("agent@acme.test")
		res, body := agent.do("GET", "/api/clients", nil)
		require.Equal(t, http.StatusOK, res.StatusCode)
		assert.Len(t, decode[[]portalapp.Client](t, body), 2)
		res, body = agent.do("GET", "/api/clients/client-b/tickets", nil)
		require.Equal(t, http.StatusOK, res.StatusCode)
		tk := decode[[]portalapp.Ticket](t, body)[0]
		res, body = agent.do("PATCH", "/api/tickets/"+itoa(tk.ID), map[string]string{"status": "pending"})
		require.Equal(t, http.StatusOK, res.StatusCode, string(body))
		assert.Equal(t, "pending", decode[portalapp.Ticket](t, body).Status)
		res, body = agent.do("GET", "/api/clients/client-b/export", nil)
		require.Equal(t, http.StatusOK, res.StatusCode)
		assert.Contains(t, res.Header.Get("Content-Type"), "text/csv")
		assert.Contains(t, string(body), "INV-B-2026-11")
		res, _ = agent.do("GET", "/api/admin/audit", nil)
		assert.Equal(t, http.StatusForbidden, res.StatusCode)

		// Upload: a text file is accepted, an executable is not.
		res, body = agent.upload("/api/clients/client-b/uploads", "notes.txt", []byte("call back on Monday\n"))
		assert.Equal(t, http.StatusCreated, res.StatusCode, string(body))
		res, _ = agent.upload("/api/clients/client-b/uploads", "tool.exe", append([]byte("MZ\x90\x00"), make([]byte, 64)...))
		assert.Equal(t, http.StatusUnsupportedMediaType, res.StatusCode)
	})

	t.Run("admin", func(t *testing.T) {
		adm := h.signedIn("admin@acme.test")
		res, body := adm.do("GET", "/admin/readiness", nil)
		require.Equal(t, http.StatusOK, res.StatusCode)
		assert.Contains(t, string(body), "Launch readiness scorecard")
		assert.Equal(t, readiness.HTMLContentSecurityPolicy, res.Header.Get("Content-Security-Policy"))
		res, body = adm.do("GET", "/admin/readiness", nil, "Accept", "application/json")
		require.Equal(t, http.StatusOK, res.StatusCode)
		assert.Contains(t, res.Header.Get("Content-Type"), "application/json")
		assert.True(t, json.Valid(body))
		// The scorecard carries the route table: every route with what
		// protects it, the same on both routers.
		var doc struct {
			Routes []readiness.RouteInfo `json:"routes"`
		}
		require.NoError(t, json.Unmarshal(body, &doc))
		rows := map[string]readiness.RouteInfo{}
		for _, r := range doc.Routes {
			rows[r.Pattern] = r
			assert.True(t, r.Protected, "%s has a policy", r.Pattern)
		}
		assert.Len(t, doc.Routes, len(portalapp.ContractRoutes)+2, "the contract's routes plus app.js and app.css")
		export := rows["GET /api/clients/{id}/export"]
		assert.Equal(t, "role(admin|support) object(same tenant or role admin|support)", export.Policy)
		assert.Equal(t, []string{"export"}, export.Limits)
		assert.True(t, rows["POST /api/clients/{id}/tickets"].CrossOrigin)
		assert.True(t, rows["POST /api/clients/{id}/tickets"].Audited)
		assert.Equal(t, "portalapp.TicketInput", rows["POST /api/clients/{id}/tickets"].Body)
		_, body = adm.do("GET", "/admin/readiness", nil)
		assert.Contains(t, string(body), `<td class="p">GET /api/clients/{id}/export</td>`)
		res, _ = adm.do("GET", "/api/admin/audit", nil)
		assert.Equal(t, http.StatusOK, res.StatusCode)
	})

	t.Run("password reset", func(t *testing.T) {
		c := h.client()
		res, _ := c.do("POST", "/api/password-reset", map[string]string{"email": "nobody@nowhere.test"})
		assert.Equal(t, http.StatusAccepted, res.StatusCode)
		res, _ = c.do("POST", "/api/password-reset", map[string]string{"email": "bob@client-b.test"})
		require.Equal(t, http.StatusAccepted, res.StatusCode)
		h.portal.Mail.Wait() // mail goes out after the response
		mails, err := filepath.Glob(filepath.Join(h.portal.Outbox, "*.eml"))
		require.NoError(t, err)
		require.Len(t, mails, 1, "one mail for the known account, none for the unknown one")
		raw, err := os.ReadFile(mails[0])
		require.NoError(t, err)
		token := regexp.MustCompile(`#reset=([A-Z2-7]+)`).FindStringSubmatch(string(raw))
		require.Len(t, token, 2)
		assert.NotContains(t, h.log.String(), token[1], "the reset token never reaches the log")

		res, _ = c.do("POST", "/api/password-reset/confirm", map[string]string{"token": token[1], "password": "a-new-long-password"})
		require.Equal(t, http.StatusNoContent, res.StatusCode)
		res, _ = h.client().do("POST", "/api/password-reset/confirm", map[string]string{"token": token[1], "password": "a-new-long-password"})
		assert.Equal(t, http.StatusBadRequest, res.StatusCode, "a token works once")

		// The reset routes are limited per address: mail flooding stops.
		flood := h.client()
		codes := map[int]int{}
		for range 5 {
			res, _ := flood.do("POST", "/api/password-reset", map[string]string{"email": "alice@client-a.test"})
			codes[res.StatusCode]++
		}
		assert.Positive(t, codes[http.StatusTooManyRequests], "reset flood: %v", codes)
		assert.Equal(t, http.StatusOK, c.login("bob@client-b.test", "a-new-long-password"))
	})

	t.Run("bodies", func(t *testing.T) {
		agent := h.signedIn("agent@acme.test")
		for name, tc := range map[string]struct {
			body, ctype string
			want        int
		}{
			"unknown field":  {`{"subject":"abc","admin":true}`, "application/json", http.StatusUnprocessableEntity},
			"two values":     {`{"subject":"abc"}{"subject":"def"}`, "application/json", http.StatusBadRequest},
			"wrong type":     {`{"subject":42}`, "application/json", http.StatusUnprocessableEntity},
			"duplicate key":  {`{"subject":"abc","subject":"def"}`, "application/json", http.StatusBadRequest},
			"rule":           {`{"subject":"ab"}`, "application/json", http.StatusUnprocessableEntity},
			"not json":       {`subject=abc`, "application/x-www-form-urlencoded", http.StatusUnsupportedMediaType},
			"oversized body": {`{"subject":"` + strings.Repeat("a", 64<<10) + `"}`, "application/json", http.StatusRequestEntityTooLarge},
		} {
			res, body := agent.do("POST", "/api/clients/client-a/tickets", tc.body, "Content-Type", tc.ctype)
			assert.Equal(t, tc.want, res.StatusCode, "%s: %s", name, body)
			assert.Equal(t, "application/problem+json", res.Header.Get("Content-Type"), name)
			assert.NotContains(t, string(body), "aaaa", "%s: never echo the submitted value", name)
		}
	})

	t.Run("cross-origin", func(t *testing.T) {
		agent := h.signedIn("agent@acme.test")
		res, _ := agent.do("POST", "/api/clients/client-a/tickets", map[string]string{"subject": "forged"},
			"Origin", "http://evil.test", "Sec-Fetch-Site", "cross-site")
		assert.Equal(t, http.StatusForbidden, res.StatusCode)
		res, _ = agent.do("GET", "/api/clients", nil, "Origin", "http://evil.test")
		assert.Empty(t, res.Header.Get("Access-Control-Allow-Origin"))
	})

	t.Run("unknown host", func(t *testing.T) {
		req, err := http.NewRequest("GET", h.srv.URL+"/healthz", nil)
		require.NoError(t, err)
		req.Host = "rebind.evil.test"
		res, err := http.DefaultTransport.RoundTrip(req)
		require.NoError(t, err)
		res.Body.Close()
		assert.Equal(t, http.StatusMisdirectedRequest, res.StatusCode)
	})
}

func (c *client) upload(path, name string, data []byte) (*http.Response, []byte) {
	c.h.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("file", name)
	require.NoError(c.h.t, err)
	_, _ = fw.Write(data)
	require.NoError(c.h.t, mw.Close())
	req, err := http.NewRequest("POST", c.h.srv.URL+path, &buf)
	require.NoError(c.h.t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := c.c.Do(req)
	require.NoError(c.h.t, err)
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res, raw
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
