package portalapp_test

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/authz"
	"github.com/launchready/launchready/examples/portalapp"
	"github.com/launchready/launchready/readiness/probe"
)

// probeClient is the portal's probe setup: every probe signs in through
// the portal's own login route with these accounts, and addresses objects
// that exist. Host, client addresses and trusted proxies come from the walk.
func probeClient(t *testing.T, p *portalapp.Portal, password string) *probe.Client {
	as := func(email string) probe.Account { return probe.Account{Username: email, Password: password} }
	return &probe.Client{
		Login:    probe.Login{Path: "/api/login"},
		Accounts: map[string]probe.Account{"alice": as("alice@client-a.test"), "bob": as("bob@client-b.test"), "agent": as("agent@acme.test")},
		Values:   map[string]string{"id": "client-a", "/api/tickets/{id}": ticketOf(t, p, "client-a")},
	}
}

func ticketOf(t *testing.T, p *portalapp.Portal, client string) string {
	ts, err := p.Store.Tickets(t.Context(), client)
	require.NoError(t, err)
	require.NotEmpty(t, ts)
	return strconv.FormatInt(ts[0].ID, 10)
}

// authProbe probes every route as anonymous, as a client user of each
// tenant (with the other tenant's objects as foreign) and as a support
// agent (who must not reach admin routes).
func authProbe(t *testing.T, p *portalapp.Portal, c *probe.Client) *probe.AuthProbe {
	client := func(id, tenant string) authz.Principal {
		return authz.Principal{ID: id, Roles: []string{portalapp.RoleClient}, Tenant: tenant}
	}
	return &probe.AuthProbe{
		Client: c,
		Bodies: map[string]string{
			"POST /api/clients/{id}/tickets": `{"subject":"probe ticket"}`,
			"PATCH /api/tickets/{id}":        `{"note":"probe note"}`,
			"POST /api/login":                `{"email":"nobody@acme.test","password":"not-the-password"}`,
		},
		Identities: []probe.Identity{
			{Name: "client user of client-a", Account: "alice", Principal: client("u-alice", "client-a"),
				Foreign: map[string]string{"id": "client-b", "/api/tickets/{id}": ticketOf(t, p, "client-b")}},
			{Name: "client user of client-b", Account: "bob", Principal: client("u-bob", "client-b"),
				Foreign: map[string]string{"id": "client-a", "/api/tickets/{id}": ticketOf(t, p, "client-a")}},
			{Name: "support agent", Account: "agent", Principal: authz.Principal{ID: "u-agent", Roles: []string{portalapp.RoleSupport}}},
		},
	}
}
