package authz

import (
	"errors"
	"net/http"
	"slices"
	"strings"
)

// An Object is what an object-level rule decides on: who owns the addressed
// record and which tenant it belongs to.
type Object struct {
	// Owner is the ID of the principal who owns the object, if any.
	Owner string
	// Tenant is the tenant the object belongs to.
	Tenant string
}

// A Loader resolves the object a request addresses, usually from
// r.PathValue("id"). It returns ErrNotFound when there is no such object;
// the Mux then answers 404 exactly as for a forbidden object. Any other
// error answers 500 and is logged, never shown.
type Loader func(r *http.Request) (Object, error)

// ErrNotFound is returned by a Loader for a missing object.
var ErrNotFound = errors.New("authz: object not found")

// A Rule decides whether a principal may use an object.
type Rule struct {
	name  string
	allow func(Principal, Object) bool
}

// NewRule makes a Rule from a name (shown in reports) and a function.
func NewRule(name string, allow func(Principal, Object) bool) Rule {
	return Rule{name: name, allow: allow}
}

// Name is the rule's name as shown in reports.
func (r Rule) Name() string { return r.name }

// The built-in rules. Empty tenants and owners never match: an object
// without a tenant is nobody's, not everybody's.
var (
	// SameTenant allows principals of the object's tenant.
	SameTenant = NewRule("same tenant", func(p Principal, o Object) bool {
		return o.Tenant != "" && p.Tenant == o.Tenant
	})
	// Owner allows the principal who owns the object.
	Owner = NewRule("owner", func(p Principal, o Object) bool {
		return o.Owner != "" && p.ID == o.Owner
	})
)

// OrRole returns a rule that also allows principals with one of roles, for
// staff who work across tenants: authz.SameTenant.OrRole("admin", "support").
func (r Rule) OrRole(roles ...string) Rule {
	roles = slices.Clone(roles)
	inner := r.allow
	return Rule{
		name: r.name + " or role " + strings.Join(roles, "|"),
		allow: func(p Principal, o Object) bool {
			for _, role := range roles {
				if p.HasRole(role) {
					return true
				}
			}
			return inner != nil && inner(p, o)
		},
	}
}
