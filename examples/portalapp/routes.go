package portalapp

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/launchready/launchready/authz"
	"github.com/launchready/launchready/authz/chiauthz"
)

// routes registers the portal's routes on the kit's route inventory
// (authz.Mux, or chiauthz.Router with Options.Router "chi"): every route
// with a policy, every {id} route with an object-level (tenant) check. The
// rules are written once, here.
type routes struct {
	mux router
}

// router is what the portal needs of its router: authz.Mux as it is, or
// the chi adapter through chiRouter.
type router interface {
	http.Handler
	Handle(pattern string, p authz.Policy, h http.Handler)
}

// Routers the portal can run on (Options.Router).
const (
	RouterServeMux = "servemux"
	RouterChi      = "chi"
)

// newRouter builds the named router.
func newRouter(name string, c authz.Config) (router, error) {
	switch name {
	case "", RouterServeMux:
		return authz.NewMux(c)
	case RouterChi:
		r, err := chiauthz.New(c)
		if err != nil {
			return nil, err
		}
		return chiRouter{r}, nil
	}
	return nil, fmt.Errorf("portal: Options.Router is %q; use %q (the default) or %q", name, RouterServeMux, RouterChi)
}

// chiRouter registers the portal's ServeMux-style patterns on chi:
// "GET /api/clients/{id}" becomes r.Method("GET", "/api/clients/{id}"), and
// ServeMux's exact-match "/{$}" is chi's "/". The inventory then lists the
// same patterns as on authz.Mux.
type chiRouter struct{ *chiauthz.Router }

func (c chiRouter) Handle(pattern string, p authz.Policy, h http.Handler) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok || !strings.HasPrefix(path, "/") {
		panic("portal: route pattern " + pattern + " needs a method")
	}
	c.Method(method, strings.TrimSuffix(path, "{$}"), p, h)
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
