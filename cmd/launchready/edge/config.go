package edge

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Defaults used when the Config fields are zero.
const (
	DefaultMaxRequests = 200
	DefaultTimeout     = 10 * time.Second
	DefaultSequential  = 20
	DefaultConcurrent  = 20
	DefaultParallelism = 4
	// LatencyBudget is the p95 above which EDGE011 blocks: the launch
	// checklist's 500 ms for support flows.
	LatencyBudget = 500 * time.Millisecond
	// SlowHealth is the health-endpoint answer time above which EDGE008
	// warns: load balancers time out health checks in a few seconds.
	SlowHealth = time.Second
	// ExpiryWarning is how close to expiry a certificate gets a warning.
	ExpiryWarning = 14 * 24 * time.Hour
)

// Credentials sign the checker in through the portal's JSON login route,
// to see the session cookie and time an authenticated path. The command
// reads them from environment variables, never from flags (which end up in
// shell history and process lists).
type Credentials struct {
	Email, Password string
}

// Config says what to check and how.
type Config struct {
	// URL is the portal's HTTPS address, e.g. https://portal.example.com.
	// Required; plain http is refused (its redirect is checked from here).
	// Only the scheme, host and port are used: the paths below are
	// absolute.
	URL string

	// HTTPURL is the plain-http address whose redirect is checked. Empty
	// means http://<host>/ (port 80). SkipHTTP skips the redirect check.
	HTTPURL  string
	SkipHTTP bool

	// RootCAs verify the certificate chain. Nil means the system roots.
	RootCAs *x509.CertPool

	// APIPath is an API route whose headers and CORS answers are graded.
	// Default "/api/me".
	APIPath string
	// HealthPaths are the liveness/readiness routes. Default /healthz and
	// /readyz.
	HealthPaths []string
	// LoginPage is the HTML page with the login form. Default "/".
	LoginPage string
	// LoginPath is the JSON login route ({"email","password"}), used only
	// with Credentials. Default "/api/login".
	LoginPath string
	// Credentials are optional; see Credentials.
	Credentials *Credentials
	// AuthPath is an authenticated GET route timed with the signed-in
	// session (with Credentials). Default APIPath.
	AuthPath string

	// DNS is the resolver address (host:port) for every lookup, the
	// HTTP connections' included. Empty means the system resolver.
	DNS string

	// Mail checks the sending domain's SPF/DKIM/DMARC through
	// readiness/email when MailDomain is set.
	MailDomain    string
	DKIMSelectors []string
	SPFInclude    string
	SendingIPs    []netip.Addr

	// Sequential and Concurrent are how many GETs the latency check sends
	// one after another and Parallelism at a time, to the first health path
	// (and to AuthPath when signed in). Zero means the defaults; negative
	// skips.
	Sequential, Concurrent, Parallelism int

	// MaxRequests bounds the HTTP requests of one Run. Default 200.
	MaxRequests int
	// Timeout bounds each request and handshake. Default 10 s.
	Timeout time.Duration
	// Now is the clock for certificate expiry, security.txt and latency.
	// Nil means time.Now.
	Now func() time.Time
	// UserAgent overrides the default "launchready-check/<version>".
	UserAgent string
}

// ErrUnreachable is returned by Run when the target cannot be reached at
// all; the command exits 2.
var ErrUnreachable = errors.New("edge: target unreachable")

// Checker runs the outside-in checks of one Config. Create it with New.
type Checker struct {
	cfg    Config
	base   *url.URL
	host   string // host name without port
	port   string
	dialer *net.Dialer
	res    *net.Resolver
}

// New validates cfg and fills in the defaults.
func New(cfg Config) (*Checker, error) {
	if cfg.URL == "" {
		return nil, errors.New("edge: Config.URL is empty; give the portal's https:// address")
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("edge: Config.URL %q is not an absolute URL; give the portal's address as https://host[:port]", cfg.URL)
	}
	if u.Scheme != "https" {
		return nil, fmt.Errorf("edge: Config.URL %q is not https; give the https:// address (the plain-http redirect is checked from it, see Config.HTTPURL)", cfg.URL)
	}
	if u.User != nil {
		return nil, fmt.Errorf("edge: Config.URL carries credentials; drop them (credentials come from the environment)")
	}
	c := &Checker{cfg: cfg, base: &url.URL{Scheme: "https", Host: u.Host}, host: u.Hostname(), port: u.Port()}
	if c.port == "" {
		c.port = "443"
	}
	if !c.cfg.SkipHTTP {
		if c.cfg.HTTPURL == "" {
			c.cfg.HTTPURL = "http://" + hostPort(c.host, "") + "/"
		}
		hu, err := url.Parse(c.cfg.HTTPURL)
		if err != nil || hu.Scheme != "http" || hu.Host == "" {
			return nil, fmt.Errorf("edge: Config.HTTPURL %q is not an http:// URL; give the plain-http address or set SkipHTTP", cfg.HTTPURL)
		}
	}
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&c.cfg.APIPath, "/api/me")
	def(&c.cfg.LoginPage, "/")
	def(&c.cfg.LoginPath, "/api/login")
	def(&c.cfg.AuthPath, c.cfg.APIPath)
	def(&c.cfg.UserAgent, "launchready-check (+https://github.com/launchready/launchready)")
	if c.cfg.HealthPaths == nil {
		c.cfg.HealthPaths = []string{"/healthz", "/readyz"}
	}
	for _, p := range []struct{ name, val string }{{"APIPath", c.cfg.APIPath}, {"LoginPage", c.cfg.LoginPage}, {"LoginPath", c.cfg.LoginPath}, {"AuthPath", c.cfg.AuthPath}} {
		if !strings.HasPrefix(p.val, "/") {
			return nil, fmt.Errorf("edge: Config.%s %q is not a path; start it with /", p.name, p.val)
		}
	}
	for _, p := range c.cfg.HealthPaths {
		if !strings.HasPrefix(p, "/") {
			return nil, fmt.Errorf("edge: Config.HealthPaths has %q, which is not a path; start it with /", p)
		}
	}
	if cr := c.cfg.Credentials; cr != nil && (cr.Email == "" || cr.Password == "") {
		return nil, errors.New("edge: Config.Credentials has an empty email or password; set both or leave Credentials nil")
	}
	for _, p := range []struct {
		name string
		val  int
	}{{"Sequential", c.cfg.Sequential}, {"Concurrent", c.cfg.Concurrent}, {"Parallelism", c.cfg.Parallelism}} {
		if p.val > 1000 {
			return nil, fmt.Errorf("edge: Config.%s is %d; keep it at 1000 or less (the check must stay non-intrusive)", p.name, p.val)
		}
	}
	if c.cfg.Sequential == 0 {
		c.cfg.Sequential = DefaultSequential
	}
	if c.cfg.Concurrent == 0 {
		c.cfg.Concurrent = DefaultConcurrent
	}
	if c.cfg.Parallelism <= 0 {
		c.cfg.Parallelism = DefaultParallelism
	}
	if c.cfg.MaxRequests < 0 {
		return nil, errors.New("edge: Config.MaxRequests is negative; set a positive bound or zero for the default")
	}
	if c.cfg.MaxRequests == 0 {
		c.cfg.MaxRequests = DefaultMaxRequests
	}
	if c.cfg.Timeout < 0 {
		return nil, errors.New("edge: Config.Timeout is negative; set a positive duration or zero for the default")
	}
	if c.cfg.Timeout == 0 {
		c.cfg.Timeout = DefaultTimeout
	}
	if c.cfg.Now == nil {
		c.cfg.Now = time.Now
	}
	if c.cfg.MailDomain != "" && len(c.cfg.DKIMSelectors) == 0 {
		return nil, errors.New("edge: Config.MailDomain is set but DKIMSelectors is empty; name the DKIM selector(s) the sending service signs with")
	}
	c.res = net.DefaultResolver
	if c.cfg.DNS != "" {
		if _, _, err := net.SplitHostPort(c.cfg.DNS); err != nil {
			return nil, fmt.Errorf("edge: Config.DNS %q is not host:port; give the resolver as e.g. 127.0.0.1:53", c.cfg.DNS)
		}
		addr := c.cfg.DNS
		c.res = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}}
	}
	c.dialer = &net.Dialer{Timeout: c.cfg.Timeout, Resolver: c.res}
	if c.cfg.MailDomain != "" {
		if _, err := c.mailCheck(); err != nil {
			return nil, fmt.Errorf("edge: mail settings: %w", err)
		}
	}
	return c, nil
}

func hostPort(host, port string) string {
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port == "" {
		return host
	}
	return host + ":" + port
}

// url returns the absolute https URL of path.
func (c *Checker) url(path string) string { return c.base.String() + path }
