package attack_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// pathTricks returns request targets that mean the same resource as path to
// some parser: dot segments, doubled and encoded slashes, encoded letters,
// case, trailing slash, ';' parameters, NUL, backslashes, absolute form.
func pathTricks(p *portal, path string) []string {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	last := len(segs) - 1
	first := segs[0]
	rest := strings.Join(segs[1:], "/")
	enc := func(s string) string { return fmt.Sprintf("%%%02x", s[0]) + s[1:] }
	encU := func(s string) string { return fmt.Sprintf("%%%02X", s[0]) + s[1:] }
	out := []string{
		"/" + path,
		path + "/",
		path + "//",
		path + "/.",
		path + "/./",
		strings.Replace(path, "/", "//", 2),
		"/" + first + "/./" + rest,
		"/" + first + "/x/../" + rest,
		"/x/../" + strings.TrimPrefix(path, "/"),
		"/" + first + "/x/%2e%2e/" + rest,
		"/" + first + "/x/%2E%2E/" + rest,
		"/" + first + "/x/.%2e/" + rest,
		"/" + first + "%2F" + rest,
		"/" + first + "%2f" + rest,
		"/x%2F..%2F" + strings.TrimPrefix(path, "/"),
		"/" + enc(first) + "/" + rest,
		"/" + encU(first) + "/" + rest,
		"/" + first + "/" + enc(rest),
		strings.ToUpper(path),
		"/" + strings.ToUpper(first[:1]) + first[1:] + "/" + rest,
		path + ";",
		path + ";x=1",
		"/" + first + ";x/" + rest,
		path + "%00",
		path + "%20",
		path + "%09",
		path + "\\",
		strings.ReplaceAll(path, "/", "\\"),
		path + "%5c",
		path + "?",
		path + "#frag",
		path + "/%2e",
		"http://" + p.addr + path,
		"http://localhost" + path,
	}
	if last > 0 {
		segs2 := append([]string(nil), segs...)
		segs2[last] = strings.ToUpper(segs2[last])
		out = append(out, "/"+strings.Join(segs2, "/"))
	}
	return out
}

// deniedTarget checks one raw response: never 2xx, never 5xx; a redirect
// (ServeMux path cleaning) is followed once with the same identity and must
// itself be denied.
func deniedTarget(t *testing.T, g *tally, anonymous, c *client, res *response, what string) {
	t.Helper()
	if res.status >= 300 && res.status < 400 {
		loc := res.header.Get("Location")
		g.check(loc != "", "%s: redirect without Location", what)
		if loc == "" {
			return
		}
		if strings.HasPrefix(loc, "http") {
			if i := strings.Index(loc[8:], "/"); i >= 0 {
				loc = loc[8+i:]
			}
		}
		if c == nil {
			c = anonymous
		}
		f := c.must(t, http.MethodGet, loc, nil)
		g.check(f.status >= 400 && f.status < 500, "%s: redirect to %q answered %s", what, loc, f)
		return
	}
	g.check(res.status >= 400 && res.status < 500, "%s: answered %s, want a 4xx denial", what, res)
}

// TestPathTricksDoNotBypassAuthorization (AUTH009): a client user and an
// anonymous caller try every path and method trick against the admin,
// staff and another tenant's object routes; none is ever answered 2xx (or
// 5xx), whatever the router makes of the path.
func TestPathTricksDoNotBypassAuthorization(t *testing.T) {
	onEachRouter(t, testPathTricksDoNotBypassAuthorization)
}

func testPathTricksDoNotBypassAuthorization(t *testing.T, p *portal) {
	g := newTally(t, "path-tricks")
	alice := p.signedIn(t, aliceEmail)
	admin := p.signedIn(t, adminEmail)
	bob := p.signedIn(t, bobEmail)
	bobTicket := discoverTickets(t, bob, "client-b")[0]
	anon := p.client()

	// Controls: the routes exist and serve their rightful users.
	for _, path := range []string{"/admin/readiness", "/api/admin/audit", "/api/clients", "/api/clients/client-b/export"} {
		res := admin.must(t, http.MethodGet, path, nil)
		g.check(res.status == http.StatusOK, "control: admin GET %s answered %s", path, res)
	}

	targets := []string{
		"/admin/readiness", "/api/admin/audit", "/api/clients", "/api/clients/client-a/export",
		"/api/clients/client-b", "/api/clients/client-b/tickets", "/api/clients/client-b/invoices",
		fmt.Sprintf("/api/tickets/%d", bobTicket),
	}
	type who struct {
		name string
		c    *client
	}
	for _, w := range []who{{"alice", alice}, {"anonymous", nil}} {
		cookie := ""
		if w.c != nil {
			cookie = "Cookie: " + w.c.cookieHeader()
		}
		hdrs := func(extra ...string) []string {
			if cookie != "" {
				return append(extra, cookie)
			}
			return extra
		}
		for _, path := range targets {
			// The plain request is denied: the baseline.
			deniedTarget(t, g, anon, w.c, p.raw(t, p.rawLine("GET", path, hdrs()...)), w.name+" GET "+path)
			for _, target := range pathTricks(p, path) {
				res := p.raw(t, p.rawLine("GET", target, hdrs()...))
				deniedTarget(t, g, anon, w.c, res, w.name+" GET "+target)
			}
			for _, m := range []string{"HEAD", "head", "get", "OPTIONS", "TRACE", "PROPFIND"} {
				res := p.raw(t, p.rawLine(m, path, hdrs()...))
				if m == "HEAD" {
					// HEAD is GET without a body: same decision.
					g.check(!is2xx(res.status) && res.status < 500, "%s HEAD %s answered %d", w.name, path, res.status)
					continue
				}
				deniedTarget(t, g, anon, w.c, res, w.name+" "+m+" "+path)
			}
			for _, h := range []string{"X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"} {
				for _, m := range []string{"POST", "PUT", "DELETE"} {
					res := p.raw(t, p.rawLine(m, path, hdrs(h+": GET", "Content-Length: 0")...))
					deniedTarget(t, g, anon, w.c, res, fmt.Sprintf("%s %s %s with %s: GET", w.name, m, path, h))
				}
			}
			res := p.raw(t, p.rawLine("CONNECT", path, hdrs()...))
			deniedTarget(t, g, anon, w.c, res, w.name+" CONNECT "+path)
		}
		res := p.raw(t, p.rawLine("CONNECT", p.addr, hdrs()...))
		deniedTarget(t, g, anon, w.c, res, w.name+" CONNECT authority-form")
	}
	// The controls still hold after the barrage (nothing was cached or changed).
	res := alice.must(t, http.MethodGet, "/api/clients/client-a", nil)
	g.check(res.status == http.StatusOK, "alice reads her own client: %s", res)
}

// multipartFile builds a multipart/form-data body with one text file.
func multipartFile(t *testing.T, name, content string) ([]byte, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, err := mw.CreateFormFile("file", name)
	require.NoError(t, err)
	_, err = fw.Write([]byte(content))
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	return b.Bytes(), mw.FormDataContentType()
}

// TestBOLAAcrossTenants (AUTH007): a client user of one tenant tries every
// {id} route and method on the other tenant's client and tickets; each is
// answered exactly like a missing object (404, same body), and nothing of
// the other tenant changes. Symmetric for both demo tenants.
func TestBOLAAcrossTenants(t *testing.T) { onEachRouter(t, testBOLAAcrossTenants) }

func testBOLAAcrossTenants(t *testing.T, p *portal) {
	g := newTally(t, "bola")
	alice := p.signedIn(t, aliceEmail)
	bob := p.signedIn(t, bobEmail)
	agent := p.signedIn(t, agentEmail)

	pairs := []struct {
		name          string
		attacker      *client
		victim        *client
		own, otherTen string
	}{
		{"alice→client-b", alice, bob, "client-a", "client-b"},
		{"bob→client-a", bob, alice, "client-b", "client-a"},
	}
	for _, pr := range pairs {
		victimTickets := discoverTickets(t, pr.victim, pr.otherTen)
		before := agent.must(t, http.MethodGet, "/api/clients/"+pr.otherTen+"/tickets", nil)
		require.Equal(t, http.StatusOK, before.status)

		// Controls: the attacker reaches their own tenant.
		for _, path := range []string{"/api/clients/" + pr.own, "/api/clients/" + pr.own + "/tickets", "/api/clients/" + pr.own + "/invoices"} {
			res := pr.attacker.must(t, http.MethodGet, path, nil)
			g.check(res.status == http.StatusOK, "%s control GET %s: %s", pr.name, path, res)
		}

		missing := pr.attacker.must(t, http.MethodGet, "/api/clients/no-such-client", nil)
		missingTicket := pr.attacker.must(t, http.MethodGet, "/api/tickets/987654321", nil)
		g.check(missing.status == http.StatusNotFound, "missing client answers 404: %s", missing)

		type attempt struct {
			method, path string
			body         any
			ctype        string
			like         *response // must look like this missing-object answer
		}
		up, upType := multipartFile(t, "note.txt", "hello from the wrong tenant\n")
		var attempts []attempt
		for _, m := range []string{http.MethodGet, http.MethodHead} {
			attempts = append(attempts,
				attempt{m, "/api/clients/" + pr.otherTen, nil, "", missing},
				attempt{m, "/api/clients/" + pr.otherTen + "/tickets", nil, "", missing},
				attempt{m, "/api/clients/" + pr.otherTen + "/invoices", nil, "", missing},
				attempt{m, "/api/clients/" + pr.otherTen + "/export", nil, "", nil},
			)
			for _, id := range victimTickets {
				attempts = append(attempts, attempt{m, fmt.Sprintf("/api/tickets/%d", id), nil, "", missingTicket})
			}
		}
		attempts = append(attempts,
			attempt{http.MethodPost, "/api/clients/" + pr.otherTen + "/tickets", map[string]string{"subject": "planted by another tenant"}, "", missing},
			attempt{http.MethodPost, "/api/clients/" + pr.otherTen + "/uploads", up, upType, missing},
		)
		for _, id := range victimTickets {
			attempts = append(attempts,
				attempt{http.MethodPatch, fmt.Sprintf("/api/tickets/%d", id), map[string]string{"note": "planted by another tenant"}, "", missingTicket},
				attempt{http.MethodPatch, fmt.Sprintf("/api/tickets/%d", id), map[string]string{"status": "closed"}, "", nil},
			)
		}
		// Method override on another tenant's ticket: never honoured.
		for _, id := range victimTickets {
			for _, h := range []string{"X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"} {
				for _, m := range []string{"PATCH", "DELETE", "PUT"} {
					res := pr.attacker.must(t, http.MethodPost, fmt.Sprintf("/api/tickets/%d", id), map[string]string{"note": "planted by override"}, h, m)
					g.check(res.status >= 400 && res.status < 500, "%s POST /api/tickets/%d with %s: %s: %s", pr.name, id, h, m, res)
				}
			}
		}
		for _, a := range attempts {
			var hdr []string
			if a.ctype != "" {
				hdr = []string{"Content-Type", a.ctype}
			}
			res := pr.attacker.must(t, a.method, a.path, a.body, hdr...)
			what := pr.name + " " + a.method + " " + a.path
			if !g.check(res.status == http.StatusNotFound || res.status == http.StatusForbidden, "%s: answered %s, want 404 (or 403 for staff-only)", what, res) {
				continue
			}
			if a.like != nil && a.method != http.MethodHead && res.status == http.StatusNotFound {
				g.check(bytes.Equal(res.body, a.like.body), "%s: 404 body %q differs from a missing object's %q", what, res.body, a.like.body)
			}
			g.check(!bytes.Contains(res.body, []byte(pr.otherTen)) || !is2xx(res.status), "%s leaked the tenant", what)
		}
		after := agent.must(t, http.MethodGet, "/api/clients/"+pr.otherTen+"/tickets", nil)
		g.check(jsonEqual(before.body, after.body), "%s: the other tenant's tickets changed:\nbefore %s\nafter  %s", pr.name, before.body, after.body)
	}
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

// TestFunctionLevelAccess (AUTH006): client users never reach staff or
// admin functions, support staff never reach admin ones, anonymous callers
// get 401 everywhere but the public routes.
func TestFunctionLevelAccess(t *testing.T) { onEachRouter(t, testFunctionLevelAccess) }

func testFunctionLevelAccess(t *testing.T, p *portal) {
	g := newTally(t, "function-level")
	users := map[string]*client{
		"admin": p.signedIn(t, adminEmail), "agent": p.signedIn(t, agentEmail),
		"alice": p.signedIn(t, aliceEmail), "bob": p.signedIn(t, bobEmail),
		"anonymous": p.client(),
	}
	aliceTicket := discoverTickets(t, users["alice"], "client-a")[0]
	cases := []struct {
		method, path string
		body         any
		want         map[string]int
	}{
		{"GET", "/api/clients", nil, map[string]int{"admin": 200, "agent": 200, "alice": 403, "bob": 403, "anonymous": 401}},
		{"GET", "/api/clients/client-a/export", nil, map[string]int{"admin": 200, "agent": 200, "alice": 403, "bob": 403, "anonymous": 401}},
		{"GET", "/api/clients/client-b/export", nil, map[string]int{"admin": 200, "agent": 200, "alice": 403, "bob": 403, "anonymous": 401}},
		{"GET", "/api/admin/audit", nil, map[string]int{"admin": 200, "agent": 403, "alice": 403, "bob": 403, "anonymous": 401}},
		{"GET", "/admin/readiness", nil, map[string]int{"admin": 200, "agent": 403, "alice": 403, "bob": 403, "anonymous": 401}},
		{"GET", "/api/me", nil, map[string]int{"admin": 200, "agent": 200, "alice": 200, "bob": 200, "anonymous": 401}},
		{"GET", "/api/clients/client-a", nil, map[string]int{"admin": 200, "agent": 200, "alice": 200, "anonymous": 401}},
		// A client user may add a note to their own ticket, never change its status.
		{"PATCH", fmt.Sprintf("/api/tickets/%d", aliceTicket), map[string]string{"status": "closed"}, map[string]int{"alice": 403, "anonymous": 401}},
		{"PATCH", fmt.Sprintf("/api/tickets/%d", aliceTicket), map[string]string{"priority": "urgent"}, map[string]int{"alice": 403}},
	}
	for _, c := range cases {
		for name, want := range c.want {
			for _, m := range []string{c.method, "HEAD"} {
				if m == "HEAD" && c.method != "GET" {
					continue
				}
				res := users[name].must(t, m, c.path, c.body)
				g.check(res.status == want, "%s %s %s: got %d, want %d (%s)", name, m, c.path, res.status, want, res)
			}
		}
	}
}
