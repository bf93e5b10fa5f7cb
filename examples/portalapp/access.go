package portalapp

import (
	"errors"
	"github.com/launchready/launchready/validate"
	"net/http"
	"strconv"
)

// Who may use a route. The wiring turns each rule into the route
// inventory's own rule (authz), so the rules are written once, here.
type rule int

const (
	public rule = iota // anyone; the route states why
	signed             // any signed-in user
	staff              // admin or support
	admin              // admin only
)

func (r rule) String() string {
	switch r {
	case public:
		return "public"
	case signed:
		return "signed-in"
	case staff:
		return "staff"
	case admin:
		return "admin"
	}
	return "unknown"
}

// errNoObject means the object of the route does not exist. The answer is
// the same 404 as for another tenant's object.
var errNoObject = errors.New("portal: no such object")

// owner finds the tenant (client ID) that owns the object a request names
// in its path. It is the object-level check: staff see every tenant, a
// client user only their own.
type owner func(r *http.Request) (tenant string, err error)

// ValidClientID reports whether s is a well-formed client ID: a short
// lowercase slug. The owner lookups check it before touching the store.
func ValidClientID(s string) bool { return clientIDRule.Match(s) }

// ValidTicketID reports whether s is a well-formed ticket ID: a positive
// decimal integer.
func ValidTicketID(s string) bool { return ticketIDRule.Match(s) }

// clientOwner: a client is its own tenant.
func clientOwner(store Store) owner {
	return func(r *http.Request) (string, error) {
		id := r.PathValue("id")
		if !ValidClientID(id) {
			return "", errNoObject
		}
		c, err := store.Client(r.Context(), id)
		if err != nil {
			return "", errNoObject
		}
		return c.ID, nil
	}
}

// ticketOwner looks the ticket up to find its client.
func ticketOwner(store Store) owner {
	return func(r *http.Request) (string, error) {
		raw := r.PathValue("id")
		if !ValidTicketID(raw) {
			return "", errNoObject
		}
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil {
			return "", errNoObject
		}
		t, err := store.Ticket(r.Context(), id)
		if err != nil {
			return "", errNoObject
		}
		return t.ClientID, nil
	}
}

// mayAccessTenant is the object-level decision: staff may access every
// tenant, a client user only their own.
func mayAccessTenant(me Me, tenant string) bool {
	return me.Staff() || (me.Tenant != "" && me.Tenant == tenant)
}

// bodyLimits bound every JSON body of the API: 16 KiB is ten times the
// largest legitimate ticket note.
var bodyLimits = &validate.Options{MaxBytes: 16 << 10, MaxDepth: 8}

// Path rules, checked by the validate layer next to each route (INPUT004).
var (
	clientIDRule = validate.Pattern("client-id", `^[a-z0-9][a-z0-9-]{0,62}$`, "client-a")
	ticketIDRule = validate.Pattern("ticket-id", `^[1-9][0-9]{0,17}$`, "1001")
)

func clientPath(h http.Handler) http.Handler {
	return validate.Path(validate.Rules{"id": clientIDRule}, h)
}

func ticketPath(h http.Handler) http.Handler {
	return validate.Path(validate.Rules{"id": ticketIDRule}, h)
}

// uploadLimits: size, count and sniffed type of uploads (INPUT006).
func uploadLimits(h http.Handler) http.Handler {
	return validate.MustUpload(validate.UploadLimits{
		MaxBytes: MaxUploadBytes, MaxFileBytes: MaxUploadBytes, MaxFiles: MaxUploadFiles, MaxParts: MaxUploadFiles,
		AllowedTypes: []string{"application/pdf", "image/png", "image/jpeg", "text/plain"},
	}, h)
}

// withBody adapts a handler taking a decoded body to the validate.Body
// chain, where the value travels in the request context.
func withBody[T any](fn func(http.ResponseWriter, *http.Request, *T)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		in := validate.Value[T](r)
		if in == nil { // unreachable behind validate.Body; fail closed
			writeProblem(w, http.StatusBadRequest, "Bad Request", "the body was not validated")
			return
		}
		fn(w, r, in)
	})
}

// ContractRoutes is the portal's outside contract (DESIGN.md, "The example
// portal's contract"): tools and tests are written against these routes.
// The readiness suite compares the route inventory with it (AUTH011).
var ContractRoutes = []string{
	"POST /api/login", "POST /api/logout", "GET /api/me",
	"POST /api/password-reset", "POST /api/password-reset/confirm",
	"GET /api/clients", "GET /api/clients/{id}",
	"GET /api/clients/{id}/tickets", "POST /api/clients/{id}/tickets",
	"GET /api/tickets/{id}", "PATCH /api/tickets/{id}",
	"GET /api/clients/{id}/invoices", "GET /api/clients/{id}/export",
	"POST /api/clients/{id}/uploads", "GET /api/admin/audit", "GET /admin/readiness",
	"GET /healthz", "GET /readyz", "GET /{$}",
	"POST /api/login/mfa", "POST /api/mfa/enroll", "POST /api/mfa/confirm", "POST /api/mfa/step-up",
	"GET /version", // the running release, for admins and the deploy pipeline's release token
}
