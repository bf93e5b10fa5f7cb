package portalapp

import (
	"crypto/subtle"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/launchready/launchready/authz"
)

// RoleRelease is the role of the deploy pipeline's release token: it may
// read GET /version and nothing else.
const RoleRelease = "release"

// releasePrincipal is who a request with the release token acts as.
const releasePrincipal = "release-verifier"

// VersionPath is where admins and the release token read the running
// release (monitor.Release as JSON).
const VersionPath = "/version"

// MinReleaseTokenLen is the shortest release token Build accepts.
const MinReleaseTokenLen = 32

// releaseToken recognises "Authorization: Bearer <token>" on GET /version
// only: the token is a credential for the release identity, never a
// session for the rest of the API. The route requires a second factor of
// people (admins); the pipeline's token — a random secret of at least 32
// characters, good for this one read-only route — is recorded as its own
// factor, "release-token", so it meets that requirement without a password.
func releaseToken(token string, now func() time.Time) func(r *http.Request) (authz.Principal, bool) {
	if token == "" {
		return func(*http.Request) (authz.Principal, bool) { return authz.Principal{}, false }
	}
	want := []byte(token)
	return func(r *http.Request) (authz.Principal, bool) {
		if r.URL.Path != VersionPath {
			return authz.Principal{}, false
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), want) != 1 {
			return authz.Principal{}, false
		}
		return authz.Principal{ID: releasePrincipal, Roles: []string{RoleRelease},
			Factors: []authz.Factor{{Method: "release-token", At: now()}}}, true
	}
}

func checkReleaseToken(token string) error {
	if token != "" && len(token) < MinReleaseTokenLen {
		return fmt.Errorf("portal: Options.ReleaseToken is %d characters; use at least %d random characters (e.g. openssl rand -hex 32) or leave it empty so only admins read %s", len(token), MinReleaseTokenLen, VersionPath)
	}
	return nil
}

// Faults break parts of the portal on purpose, for the tests of the
// synthetic monitor, verify and the rollback path: a broken login or
// ticket creation answers 500, exactly what a bad release looks like from
// outside. The zero value breaks nothing; faults can change while the
// portal serves.
type Faults struct {
	Login   atomic.Bool // POST /api/login answers 500
	Tickets atomic.Bool // POST /api/clients/{id}/tickets answers 500
}

// Set switches a fault on by name ("login", "tickets"); "" switches none.
func (f *Faults) Set(name string) error {
	switch name {
	case "":
	case "login":
		f.Login.Store(true)
	case "tickets":
		f.Tickets.Store(true)
	default:
		return fmt.Errorf("portal: unknown fault %q (want login or tickets)", name)
	}
	return nil
}

// fault answers 500 while on reports true, else serves next. It unwraps
// to next, so readiness still sees the route's chain.
func fault(on func() bool, next http.Handler) http.Handler { return &faultHandler{on: on, next: next} }

type faultHandler struct {
	on   func() bool
	next http.Handler
}

func (f *faultHandler) Unwrap() http.Handler { return f.next }

func (f *faultHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if f.on() {
		writeProblem(w, http.StatusInternalServerError, "Internal Server Error", "the request could not be completed")
		return
	}
	f.next.ServeHTTP(w, r)
}
