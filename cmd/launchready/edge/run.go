package edge

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"sync/atomic"

	"github.com/launchready/launchready/readiness"
)

// scan is one Run's state.
type scan struct {
	c         *Checker
	client    *http.Client
	used      atomic.Int64
	out       []readiness.Finding
	root      *response      // GET /
	loginPage *response      // GET LoginPage when it is not /
	session   []*http.Cookie // cookies of a successful sign-in
}

func (s *scan) add(fs ...readiness.Finding) { s.out = append(s.out, fs...) }

// unverified records that a check could not run: never a pass.
func (s *scan) unverified(what string, err error) {
	f := finding("EDGE012", readiness.Blocker, fmt.Sprintf("%s could not be checked: %v", what, err),
		"make the portal reachable from where the check runs (and raise -max-requests if the budget ran out), then re-run; until then the result is unknown, not a pass")
	f.ProductionOnly = true
	s.add(f)
}

// Run checks the deployed portal from outside and returns the findings, in
// the order the checks ran. The error is non-nil only when the portal
// could not be checked at all (ErrUnreachable); everything else is a
// finding, a check that could not run included (EDGE012).
func (c *Checker) Run(ctx context.Context) ([]readiness.Finding, error) {
	s := &scan{c: c}
	tr, err := c.checkTLS(ctx)
	if err != nil {
		return nil, err
	}
	s.add(tr.findings...)
	tc := &tls.Config{RootCAs: c.cfg.RootCAs, MinVersion: tls.VersionTLS10} //nolint:gosec // TLS 1.0 servers are reported (DEPLOY005) and still checked
	if !tr.trusted {
		// EDGE001 blocks already; look at the rest as a browser would after
		// the user clicked through, so the report is complete.
		tc.InsecureSkipVerify = true //nolint:gosec // see above
	}
	s.client = c.newClient(tc, &s.used)

	root, err := c.do(ctx, s.client, http.MethodGet, c.url("/"), nil, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnreachable, err)
	}
	s.root = root

	s.checkRedirect(ctx)
	s.checkHeaders(ctx)
	s.checkCORS(ctx)
	s.checkCookies(ctx)
	s.checkMixedContent(ctx)
	s.checkExposures(ctx)
	s.checkHealth(ctx)
	s.checkSecurityTxt(ctx)
	s.checkDNS(ctx)
	s.checkMail(ctx)
	s.checkLatency(ctx)
	return s.out, nil
}
