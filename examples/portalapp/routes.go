package portalapp

import (
	"errors"
	"net/http"

	"github.com/launchready/launchready/authz"
)

// routes registers the portal's routes on the kit's route inventory
// (authz.Mux): every route with a policy, every {id} route with an
// object-level (tenant) check. The rules are written once, here.
type routes struct {
	mux *authz.Mux
}

// staffRoles work across tenants.
var staffRoles = []string{RoleAdmin, RoleSupport}

// tenantRule: a client user reaches only their own tenant's objects, staff
// every tenant.
var tenantRule = authz.SameTenant.OrRole(staffRoles...)

func policyFor(rl rule, own owner) authz.Policy {
	var p authz.Policy
	switch rl {
	case signed:
		p = authz.Authenticated()
	case staff:
		p = authz.Role(staffRoles...)
	case admin:
		// A stolen admin password alone opens nothing (AUTH013).
		p = authz.Role(RoleAdmin).RequireMFA()
	default:
		panic("portal: route rule " + rl.String() + " has no policy")
	}
	if own != nil {
		p = p.Object(loader(own), tenantRule)
	}
	return p
}

// loader turns an owner lookup into the authz object loader.
func loader(own owner) authz.Loader {
	return func(r *http.Request) (authz.Object, error) {
		tenant, err := own(r)
		if errors.Is(err, errNoObject) {
			return authz.Object{}, authz.ErrNotFound
		}
		if err != nil {
			return authz.Object{}, err
		}
		return authz.Object{Tenant: tenant}, nil
	}
}

func (rs *routes) handle(pattern string, rl rule, own owner, h http.Handler) {
	rs.mux.Handle(pattern, policyFor(rl, own), h)
}

func (rs *routes) public(pattern, reason string, h http.Handler) {
	rs.mux.Handle(pattern, authz.Public(reason), h)
}

// principal turns the authz principal of a request into the handlers' Me.
func principal(r *http.Request) (Me, bool) {
	p, ok := authz.PrincipalFrom(r.Context())
	if !ok {
		return Me{}, false
	}
	role := ""
	if len(p.Roles) > 0 {
		role = p.Roles[0]
	}
	return Me{ID: p.ID, Role: role, Tenant: p.Tenant, MFA: p.MultiFactor()}, true
}
