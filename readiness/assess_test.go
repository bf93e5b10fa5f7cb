package readiness_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/authz"
	"github.com/launchready/launchready/ratelimit"
	"github.com/launchready/launchready/readiness"
)

// plainPortal is an existing app on a plain http.ServeMux: no kit
// router, one kit limit on login.
func plainPortal(t *testing.T) *http.ServeMux {
	limits, err := ratelimit.New(ratelimit.Config{})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("POST /api/login", limits.Login(denyLogin, ratelimit.ByIP()))
	mux.Handle("GET /healthz", noop)
	mux.Handle("GET /{$}", noop)
	mux.Handle("GET /api/clients", noop)
	mux.Handle("GET /api/clients/{id}", noop)
	mux.Handle("GET /api/clients/{id}/export", limits.Export(noop, ratelimit.ByIP()))
	mux.Handle("PATCH /api/tickets/{ticketID}", noop)
	mux.Handle("GET /admin/", noop)
	mux.Handle("example.com/static/", noop)
	return mux
}

func TestAssessPlainServeMux(t *testing.T) {
	mux := plainPortal(t)
	r := runAuth(t, mux)
	require.Len(t, r.ByID("AUTH001"), 1, "one line about the router")
	assert.Contains(t, r.ByID("AUTH001")[0].Seen, "plain http.ServeMux (9 routes)")
	got := map[string]readiness.Finding{}
	for _, f := range r.ByID("AUTH015") {
		got[f.Route] = f
	}
	assert.ElementsMatch(t, []string{"GET /api/clients", "GET /api/clients/{id}", "GET /api/clients/{id}/export",
		"PATCH /api/tickets/{ticketID}", "GET /admin/"}, keys(got), "sign-in, health, the page and static files are not findings")
	assert.Contains(t, got["GET /admin/"].Fix, `mux.Handle("GET /admin/", authz.Role("admin"), h) on an authz.Mux`)
	assert.Contains(t, got["PATCH /api/tickets/{ticketID}"].Fix, `.Object(loadTicket, authz.SameTenant`)
	assert.Contains(t, got["GET /api/clients/{id}/export"].Seen, "group /api/clients (3 of 3 routes to migrate)")
	assert.Contains(t, got["GET /api/clients/{id}/export"].Seen, "protection seen: rate limit (export)")

	// The table lists every route, protected or not.
	rows := readiness.Routes(mux)
	require.Len(t, rows, 9)
	var table bytes.Buffer
	require.NoError(t, readiness.WriteRoutes(&table, rows))
	for _, p := range []string{"POST /api/login", "GET /{$}", "example.com/static/", "GET /api/clients/{id}/export"} {
		assert.Contains(t, table.String(), p)
	}
	assert.Regexp(t, `POST /api/login +none +- +login `, table.String())

	// Accepting a group while it moves keeps it visible and unblocking.
	target := readiness.Target{Server: serverFor(mux), Accepted: []readiness.Acceptance{
		readiness.AcceptRoute("AUTH015", "GET /admin/", "admin section moves next sprint; behind the VPN until then")}}
	r2, err := readiness.Run(t.Context(), target)
	require.NoError(t, err)
	for _, f := range r2.ByID("AUTH015") {
		assert.Equal(t, f.Route == "GET /admin/", f.Accepted, f.Route)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// A kit inventory is not assessed: its routes carry policies.
func TestAssessmentQuietOnPolicyInventory(t *testing.T) {
	m := newMux(t)
	m.Handle("GET /api/clients", authz.Role("admin"), noop)
	r := runAuth(t, m)
	assert.Empty(t, r.ByID("AUTH015"))
	require.Len(t, r.Routes, 1)
	assert.Equal(t, readiness.RouteInfo{Pattern: "GET /api/clients", Policy: "role(admin)", Protected: true,
		Findings: []string{"AUTH013"}}, r.Routes[0], "an admin route without MFA")
}

func TestRouteTableInJSONAndHTML(t *testing.T) {
	m := newMux(t)
	m.Handle("GET /healthz", authz.Public("uptime monitor"), noop)
	m.Handle("GET /api/invoices/{id}", authz.Authenticated(), noop) // AUTH003
	m.Handle("GET /api/clients/{id}", authz.Authenticated().Object(anyObject, authz.SameTenant), noop)
	r := runAuth(t, m)

	var js bytes.Buffer
	require.NoError(t, r.WriteJSON(&js))
	var doc struct {
		Routes []readiness.RouteInfo `json:"routes"`
	}
	require.NoError(t, json.Unmarshal(js.Bytes(), &doc))
	require.Len(t, doc.Routes, 3)
	assert.Equal(t, "same tenant", doc.Routes[2].Object)
	assert.Contains(t, doc.Routes[1].Findings, "AUTH003")

	var page bytes.Buffer
	require.NoError(t, r.WriteHTML(&page))
	html := page.String()
	assert.Contains(t, html, `<tr id="route-2"><td class="p">GET /api/invoices/{id}</td><td class="s">authenticated</td>`)
	// The row links to its finding and the finding back to its row.
	row := regexp.MustCompile(`(?s)<tr id="route-2">.*?</tr>`).FindString(html)
	link := regexp.MustCompile(`href="#(finding-\d+)">AUTH003<`).FindStringSubmatch(row)
	require.Len(t, link, 2, row)
	assert.Regexp(t, `id="`+link[1]+`"><span class="sev blocker">blocker</span><span class="id">AUTH003</span><a class="where" href="#route-2">`, html)
	assert.True(t, strings.Count(html, "<tr id=") == 3)
}
