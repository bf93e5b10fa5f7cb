package authz_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/authz"
)

// oneRoute is the smallest router an adapter could be: it matches a single
// path by hand and leaves the decision to the Enforcer.
type oneRoute struct {
	e      *authz.Enforcer
	policy authz.Policy
	next   http.Handler
}

func (o *oneRoute) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !o.e.Firewall(w, r) {
		return
	}
	id, found := strings.CutPrefix(r.URL.Path, "/tickets/")
	if !found {
		http.NotFound(w, r)
		return
	}
	r.SetPathValue("id", id)
	o.e.Enforce(w, r, "GET /tickets/{id}", &o.policy, o.next)
}

func TestEnforcerDecidesLikeMux(t *testing.T) {
	_, err := authz.NewEnforcer(authz.Config{})
	require.ErrorContains(t, err, "Config.Authenticate is nil")
	e, err := authz.NewEnforcer(authz.Config{Authenticate: authenticate})
	require.NoError(t, err)
	pol := authz.Role("client").Object(loadTicket, authz.Owner)
	require.NoError(t, pol.Validate())
	h := &oneRoute{e: e, policy: pol, next: authz.Guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pattern, decided := authz.Decided(r.Context())
		p, _ := authz.PrincipalFrom(r.Context())
		assert.True(t, decided)
		_, _ = w.Write([]byte(pattern + " " + p.ID))
	}))}
	for _, tc := range []struct {
		name, target, user string
		want               int
	}{
		{"owner", "/tickets/t1", "alice", 200},
		{"anonymous", "/tickets/t1", "", 401},
		{"staff without the role", "/tickets/t1", "agent", 403},
		{"another tenant's ticket looks missing", "/tickets/t1", "bob", 404},
		{"encoded separator refused before routing", "/tickets/..%2Ft1", "alice", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := serve(h, "GET", tc.target, tc.user)
			assert.Equal(t, tc.want, w.Code)
			if tc.want == 200 {
				assert.Equal(t, "GET /tickets/{id} u-alice", w.Body.String())
			} else {
				assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
			}
		})
	}
	w := httptest.NewRecorder()
	e.Firewall(w, httptest.NewRequest(http.MethodTrace, "/tickets/t1", nil))
	assert.Equal(t, http.StatusMethodNotAllowed, w.Code)
}

func TestPolicyValidate(t *testing.T) {
	assert.ErrorContains(t, authz.Policy{}.Validate(), "zero Policy")
	assert.ErrorContains(t, authz.Public(" ").Validate(), "reason")
	assert.ErrorContains(t, authz.Role().Validate(), "at least one role")
	assert.NoError(t, authz.Public("login form").Validate())
}
