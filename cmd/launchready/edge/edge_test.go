package edge_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/cmd/launchready/edge"
	"github.com/launchready/launchready/readiness"
)

// fast keeps the latency check small in tests that are about something else.
func fast(cfg edge.Config) edge.Config {
	if cfg.Sequential == 0 {
		cfg.Sequential, cfg.Concurrent, cfg.Parallelism = 3, 3, 2
	}
	cfg.Timeout = 5 * time.Second
	return cfg
}

func runCheck(t *testing.T, cfg edge.Config) *readiness.Report {
	t.Helper()
	return runCheckEnv(t, readiness.Production, cfg)
}

func runCheckEnv(t *testing.T, env readiness.Env, cfg edge.Config) *readiness.Report {
	t.Helper()
	c, err := edge.New(fast(cfg))
	require.NoError(t, err)
	findings, err := c.Run(t.Context())
	require.NoError(t, err)
	return readiness.NewReport(env, findings)
}

// blockerIDs returns the distinct IDs of the report's blockers, sorted.
func blockerIDs(r *readiness.Report) []string {
	var out []string
	for _, f := range r.Blockers() {
		if !slices.Contains(out, f.ID) {
			out = append(out, f.ID)
		}
	}
	slices.Sort(out)
	return out
}

func withSeverity(r *readiness.Report, id string, sev readiness.Severity) []readiness.Finding {
	var out []readiness.Finding
	for _, f := range r.ByID(id) {
		if f.Severity == sev {
			out = append(out, f)
		}
	}
	return out
}

// TestGoodPortal: a front with a CA-issued certificate, the intermediate
// TLS profile, a 301 redirect, the kit's headers, no CORS grants, a
// __Host- cookie and a security.txt has no blocker in production.
func TestGoodPortal(t *testing.T) {
	ca := newCA(t)
	password := randomText(t)
	srv := startTLS(t, goodHandler(t, password), secureTLS(ca.leaf(t, leafOpts{})))
	plain := startRedirect(t, srv.URL)
	r := runCheck(t, edge.Config{URL: srv.URL, HTTPURL: plain.URL + "/", RootCAs: ca.pool(),
		Credentials: &edge.Credentials{Email: "agent@portal.test", Password: password}})
	assert.False(t, r.Blocked(), "%s", r)
	assert.Empty(t, blockerIDs(r))
	for _, id := range []string{"EDGE001", "EDGE002", "DEPLOY005", "EDGE004", "EDGE005", "EDGE006", "EDGE007", "EDGE009", "EDGE012", "CORS008", "SESS001", "SESS002", "SESS003", "SESS004", "MON001", "MON004"} {
		assert.Empty(t, r.ByID(id), "%s: %v", id, r.ByID(id))
	}
	info := r.ByID("EDGE003")
	require.Len(t, info, 1)
	assert.Contains(t, info[0].Seen, "TLS 1.3")
	lat := r.ByID("EDGE011")
	require.Len(t, lat, 2, "the health path and, signed in, the API path are timed")
	var routes []string
	for _, f := range lat {
		routes = append(routes, f.Route)
		assert.Contains(t, f.Seen, "6 requests")
	}
	assert.ElementsMatch(t, []string{"GET /healthz", "GET /api/me"}, routes)
}

// TestMisconfiguredServer: every blocker of a careless front is reported
// by its ID — default (CBC) TLS suites, plain HTTP serving content, no
// headers (HSTS included), a reflecting CORS layer, a flagless cookie,
// mixed content, a leaked /.env and /.git/HEAD.
func TestMisconfiguredServer(t *testing.T) {
	ca := newCA(t)
	srv := startTLS(t, badHandler(t), defaultTLS(ca.leaf(t, leafOpts{})))
	plain := startPlain(t, badHandler(t))
	r := runCheck(t, edge.Config{URL: srv.URL, HTTPURL: plain.URL + "/", RootCAs: ca.pool()})
	assert.Equal(t, []string{"CORS007", "CORS008", "DEPLOY005", "EDGE004", "EDGE005", "EDGE006", "SESS001", "SESS002", "SESS003"}, blockerIDs(r), "%s", r)

	assert.Contains(t, r.ByID("DEPLOY005")[0].Seen, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA")
	hsts := false
	for _, f := range r.ByID("CORS007") {
		hsts = hsts || strings.Contains(f.Seen, "Strict-Transport-Security")
	}
	assert.True(t, hsts, "missing HSTS is reported")
	var seen []string
	for _, f := range r.ByID("EDGE004") {
		seen = append(seen, f.Seen)
	}
	assert.Contains(t, strings.Join(seen, "\n"), "serves content")
	assert.Contains(t, strings.Join(seen, "\n"), `sets the cookie "sid"`)
	var leaked []string
	for _, f := range r.ByID("EDGE006") {
		leaked = append(leaked, f.Route)
	}
	assert.ElementsMatch(t, []string{"GET /.env", "GET /.git/HEAD"}, leaked)
	mixed := r.ByID("EDGE005")
	require.Len(t, mixed, 2)
	for _, f := range mixed {
		if strings.Contains(f.Seen, "<script") {
			assert.Equal(t, readiness.Blocker, f.Severity, "a script is active content")
		} else {
			assert.Contains(t, f.Seen, "<img")
			assert.Equal(t, readiness.Warning, f.Severity, "an image is passive content")
		}
	}
	origins := map[string]bool{}
	preflight := false
	for _, f := range r.ByID("CORS008") {
		preflight = preflight || f.Route == "OPTIONS /"
		for _, o := range []string{`"null"`, `"https://evil.test"`, `"https://127.0.0.1.evil.test:`, `"https://evil127.0.0.1:`, `"http://127.0.0.1:`} {
			if strings.Contains(f.Seen, o) {
				origins[o] = true
			}
		}
	}
	assert.Len(t, origins, 5, "each untrusted origin is reported: %v", r.ByID("CORS008"))
	assert.True(t, preflight, "the preflight grant is reported too")
	for _, f := range r.Findings {
		assert.NotContains(t, f.Seen, "DATABASE_PASSWORD=", "a finding never quotes the leaked secret")
	}
}

// TestSPAFallbackIsNotAnExposure: a front that answers 200 with its index
// for every path does not leak /.env, /.git or backups.
func TestSPAFallbackIsNotAnExposure(t *testing.T) {
	ca := newCA(t)
	srv := startTLS(t, spaHandler(t), secureTLS(ca.leaf(t, leafOpts{})))
	r := runCheck(t, edge.Config{URL: srv.URL, SkipHTTP: true, RootCAs: ca.pool()})
	for _, id := range []string{"EDGE006", "EDGE007", "AUTH008"} {
		assert.Empty(t, r.ByID(id), "%s", r)
	}
}

// TestCertificates: expired, wrong-host, self-signed and soon-expiring
// certificates, and an unknown CA without -ca.
func TestCertificates(t *testing.T) {
	ca := newCA(t)
	now := time.Now()
	for _, tc := range []struct {
		name   string
		leaf   leafOpts
		noCA   bool
		id     string
		sev    readiness.Severity
		detail string
	}{
		{"expired", leafOpts{notBefore: now.Add(-60 * 24 * time.Hour), notAfter: now.Add(-24 * time.Hour)}, false, "EDGE002", readiness.Blocker, "expired on"},
		{"expiring in 10 days", leafOpts{notAfter: now.Add(10 * 24 * time.Hour)}, false, "EDGE002", readiness.Warning, "expires in"},
		{"wrong host", leafOpts{names: []string{"other.test"}, noIP: true}, false, "EDGE001", readiness.Blocker, "not valid for 127.0.0.1"},
		{"self-signed", leafOpts{selfSigned: true}, false, "EDGE001", readiness.Blocker, "self-signed"},
		{"unknown CA", leafOpts{}, true, "EDGE001", readiness.Blocker, "not trusted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startTLS(t, goodHandler(t, "x"), secureTLS(ca.leaf(t, tc.leaf)))
			cfg := edge.Config{URL: srv.URL, SkipHTTP: true, RootCAs: ca.pool(), Sequential: -1, Concurrent: -1}
			if tc.noCA {
				cfg.RootCAs = nil
			}
			r := runCheck(t, cfg)
			got := withSeverity(r, tc.id, tc.sev)
			require.Len(t, got, 1, "%s", r)
			assert.Contains(t, got[0].Seen, tc.detail)
			other := map[string]string{"EDGE001": "EDGE002", "EDGE002": "EDGE001"}[tc.id]
			assert.Empty(t, r.ByID(other), "only the certificate's real problem is reported")
			assert.NotEmpty(t, r.ByID("EDGE003"), "the rest of the checks still ran")
		})
	}
}

// TestTLS10Listener: Go's crypto/tls still serves TLS 1.0 when a server
// asks for it explicitly; the check reports it under DEPLOY005.
func TestTLS10Listener(t *testing.T) {
	ca := newCA(t)
	cfg := &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10, Certificates: []tls.Certificate{ca.leaf(t, leafOpts{})}} //nolint:gosec // the listener under test
	srv := startTLS(t, goodHandler(t, "x"), cfg)
	r := runCheck(t, edge.Config{URL: srv.URL, SkipHTTP: true, RootCAs: ca.pool(), Sequential: -1, Concurrent: -1})
	f := r.ByID("DEPLOY005")
	require.Len(t, f, 1, "%s", r)
	assert.Equal(t, readiness.Blocker, f[0].Severity)
	assert.Contains(t, f[0].Seen, "accepts TLS 1.0")
	assert.NotContains(t, f[0].Seen, "TLS 1.1", "TLS 1.1 is refused by this listener")
	assert.Contains(t, r.ByID("EDGE003")[0].Seen, "TLS 1.0")
}

// TestRedirects: a redirect to another host, a temporary redirect, and no
// listener on plain HTTP.
func TestRedirects(t *testing.T) {
	ca := newCA(t)
	srv := startTLS(t, goodHandler(t, "x"), secureTLS(ca.leaf(t, leafOpts{})))
	check := func(httpURL string) *readiness.Report {
		return runCheck(t, edge.Config{URL: srv.URL, HTTPURL: httpURL, RootCAs: ca.pool(), Sequential: -1, Concurrent: -1})
	}
	other := startRedirect(t, "https://evil.example")
	f := check(other.URL + "/").ByID("EDGE004")
	require.Len(t, f, 1)
	assert.Equal(t, readiness.Blocker, f[0].Severity)
	assert.Contains(t, f[0].Seen, "not to https://127.0.0.1")

	temp := startPlain(t, http.RedirectHandler(srv.URL+"/", http.StatusFound))
	f = check(temp.URL + "/").ByID("EDGE004")
	require.Len(t, f, 1)
	assert.Equal(t, readiness.Warning, f[0].Severity)
	assert.Contains(t, f[0].Seen, "temporary")

	closed := startPlain(t, http.NotFoundHandler())
	closed.Close()
	f = check(closed.URL + "/").ByID("EDGE004")
	require.Len(t, f, 1)
	assert.Equal(t, readiness.Warning, f[0].Severity)
	assert.Contains(t, f[0].Seen, "nothing answers plain HTTP")
}

// TestLatencyBudget: a p95 over 500 ms blocks. The server advances a fake
// clock by 600 ms per request instead of sleeping.
func TestLatencyBudget(t *testing.T) {
	ca := newCA(t)
	var offset atomic.Int64
	base := time.Now()
	now := func() time.Time { return base.Add(time.Duration(offset.Load())) }
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			offset.Add(int64(600 * time.Millisecond))
		}
		goodHandler(t, "x").ServeHTTP(w, r)
	})
	srv := startTLS(t, slow, secureTLS(ca.leaf(t, leafOpts{})))
	r := runCheck(t, edge.Config{URL: srv.URL, SkipHTTP: true, RootCAs: ca.pool(), Now: now, Sequential: 10, Concurrent: 10, Parallelism: 3})
	f := withSeverity(r, "EDGE011", readiness.Blocker)
	require.Len(t, f, 1, "%s", r)
	assert.Contains(t, f[0].Seen, "20 requests")
	assert.Contains(t, f[0].Seen, "p50 600.0 ms")
}

// TestReadOnlyAndBounded: the checker sends only GET, HEAD and OPTIONS
// (no POST without credentials), identifies itself, and stops at the
// request budget, reporting what it could not check.
func TestReadOnlyAndBounded(t *testing.T) {
	ca := newCA(t)
	var methods sync.Map
	var count atomic.Int64
	agents := make(chan string, 1000)
	h := goodHandler(t, "x")
	srv := startTLS(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		methods.Store(r.Method, true)
		count.Add(1)
		agents <- r.UserAgent()
		h.ServeHTTP(w, r)
	}), secureTLS(ca.leaf(t, leafOpts{})))
	r := runCheck(t, edge.Config{URL: srv.URL, SkipHTTP: true, RootCAs: ca.pool(), MaxRequests: 25})
	methods.Range(func(k, _ any) bool {
		assert.Contains(t, []string{"GET", "HEAD", "OPTIONS"}, k)
		return true
	})
	assert.LessOrEqual(t, count.Load(), int64(25))
	close(agents)
	for a := range agents {
		require.Contains(t, a, "launchready")
	}
	assert.NotEmpty(t, r.ByID("EDGE012"), "checks cut off by the budget say so")
	for _, f := range r.ByID("EDGE012") {
		if strings.Contains(f.Seen, "budget") {
			return
		}
	}
	t.Errorf("no EDGE012 names the budget: %v", r.ByID("EDGE012"))
}

func TestConfigRefused(t *testing.T) {
	for _, tc := range []struct {
		cfg  edge.Config
		want string
	}{
		{edge.Config{}, "Config.URL is empty"},
		{edge.Config{URL: "http://portal.example"}, "not https"},
		{edge.Config{URL: "portal.example"}, "not an absolute URL"},
		{edge.Config{URL: "https://u:p@portal.example"}, "credentials"},
		{edge.Config{URL: "https://portal.example", HTTPURL: "ftp://x"}, "Config.HTTPURL"},
		{edge.Config{URL: "https://portal.example", APIPath: "api"}, "Config.APIPath"},
		{edge.Config{URL: "https://portal.example", DNS: "127.0.0.1"}, "Config.DNS"},
		{edge.Config{URL: "https://portal.example", Sequential: 5000}, "Config.Sequential"},
		{edge.Config{URL: "https://portal.example", MailDomain: "portal.example"}, "DKIMSelectors"},
		{edge.Config{URL: "https://portal.example", MailDomain: "portal.example", DKIMSelectors: []string{"s1"}}, "SPFInclude"},
		{edge.Config{URL: "https://portal.example", Credentials: &edge.Credentials{Email: "a@b.test"}}, "Config.Credentials"},
	} {
		_, err := edge.New(tc.cfg)
		assert.ErrorContains(t, err, tc.want)
	}
}

func TestUnreachable(t *testing.T) {
	srv := startPlain(t, http.NotFoundHandler())
	srv.Close()
	c, err := edge.New(edge.Config{URL: "https://" + hostOf(srv.URL), SkipHTTP: true, Timeout: 2 * time.Second})
	require.NoError(t, err)
	_, err = c.Run(context.Background())
	assert.ErrorIs(t, err, edge.ErrUnreachable)
}
