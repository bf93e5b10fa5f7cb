package chiauthz_test

import (
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/authz"
	"github.com/launchready/launchready/readiness/probe"
)

// flaw plants one mistake in the test portal.
type flaw int

const (
	noFlaw     flaw = iota
	bola            // invoices: policy without object check, handler forgets the tenant
	frontCache      // a cache in front of the router serves the admin audit log to anyone (BFLA)
	weakTwin        // a weaker "GET /api/admin/audit/" route next to "GET /api/admin/audit"
)

// portal registers the same small portal on r.
func portal(r registrar, f flaw) {
	okf := func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }
	r.handle("GET", "/healthz", authz.Public("uptime monitor"), okf)
	r.handle("POST", "/api/login", authz.Public("login form"), okf)
	r.handle("GET", "/api/me", authz.Authenticated(), okf)
	r.handle("GET", "/api/admin/audit", authz.Role("admin"), okf)
	r.handle("GET", "/api/clients", authz.Role("admin", "support"), okf)
	r.handle("GET", "/api/clients/{id}", authz.Authenticated().Object(loadClient, tenant), okf)
	r.handle("PATCH", "/api/tickets/{id}", authz.Authenticated().Object(loadTicket, tenant), okf)
	if f == bola {
		r.handle("GET", "/api/clients/{id}/invoices", authz.Authenticated(), okf)
	} else {
		r.handle("GET", "/api/clients/{id}/invoices", authz.Authenticated().Object(loadClient, tenant), okf)
	}
	if f == weakTwin {
		r.handle("GET", "/api/admin/audit/", authz.Authenticated(), okf)
	}
}

func identities() []probe.Identity {
	return []probe.Identity{
		{Name: "alice (client-a)", Principal: users["alice"], Authenticate: signIn("alice"),
			Foreign: map[string]string{"id": "client-b", "/api/tickets/{id}": "2"}},
		{Name: "bob (client-b)", Principal: users["bob"], Authenticate: signIn("bob"),
			Foreign: map[string]string{"id": "client-a", "/api/tickets/{id}": "1"}},
		{Name: "support agent", Principal: users["agent"], Authenticate: signIn("agent")},
	}
}

// walkable lets a plain HandlerFunc in front of the router join the walk.
type walkable struct {
	http.Handler
	next http.Handler
}

func (w walkable) Unwrap() http.Handler { return w.next }

// probeFindings runs the AuthProbe, with no router-specific code, against
// the portal on one router.
func probeFindings(t *testing.T, r registrar, f flaw) []string {
	t.Helper()
	portal(r, f)
	var h http.Handler = r
	if f == frontCache {
		h = walkable{next: r, Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if req.URL.Path == "/api/admin/audit" {
				_, _ = io.WriteString(w, "cached audit log")
				return
			}
			r.ServeHTTP(w, req)
		})}
	}
	rep := run(t, h, &probe.AuthProbe{
		Client:     &probe.Client{Values: map[string]string{"id": "client-a", "/api/tickets/{id}": "1"}},
		Identities: identities(),
	})
	var out []string
	for _, fd := range rep.Findings {
		if fd.ID == "AUTH013" { // MFA on admin and staff routes: not what this portal plants
			continue
		}
		if strings.HasPrefix(fd.ID, "AUTH") || strings.HasPrefix(fd.ID, "PROBE") {
			out = append(out, fd.ID+" "+fd.Route+": "+fd.Seen)
		}
	}
	sort.Strings(out)
	return out
}

func TestProbesFindPlantedFlawsAsOnAuthzMux(t *testing.T) {
	for _, tc := range []struct {
		name string
		flaw flaw
		want []string // IDs each router must report; PROBE001 would mean a route was not exercised
	}{
		{"fixed portal", noFlaw, nil},
		{"BOLA in the invoices handler", bola, []string{"AUTH003", "AUTH007", "AUTH007"}},
		{"BFLA through a front-door cache", frontCache, []string{"AUTH005", "AUTH006", "AUTH006", "AUTH006", "PROBE001"}},
		{"weaker trailing-slash twin", weakTwin, []string{"AUTH004", "AUTH009", "AUTH009"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string][]string{}
			for name, r := range routers(t) {
				got[name] = probeFindings(t, r, tc.flaw)
				var ids []string
				for _, line := range got[name] {
					id, _, _ := strings.Cut(line, " ")
					ids = append(ids, id)
				}
				assert.Equal(t, tc.want, ids, "%s:\n%s", name, strings.Join(got[name], "\n"))
			}
			require.Len(t, got, 2)
			if tc.flaw != weakTwin { // ServeMux lists the twin as "/api/admin/audit/", chi as "/api/admin/audit/{$}"
				assert.Equal(t, got["authz.Mux"], got["chiauthz.Router"], "the chi app gets the same findings, word for word")
			}
		})
	}
}
