package cors

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	rscors "github.com/rs/cors"
)

// DefaultMaxAge is how long browsers may cache a preflight when
// Config.MaxAge is zero. MaxLimit is the longest accepted: Chromium caps
// preflight caching at two hours anyway, and a long cache delays revoking
// an origin.
const (
	DefaultMaxAge = 10 * time.Minute
	MaxMaxAge     = 2 * time.Hour
)

// MaxRequestHeadersBytes caps the Access-Control-Request-Headers of a
// preflight; a longer one gets no grant.
const MaxRequestHeadersBytes = 1024

// Config is a CORS and cross-origin protection policy. The zero Config is
// valid and trusts no other origin: no CORS grants, and every cross-origin
// state-changing browser request is refused.
type Config struct {
	// AllowedOrigins are the trusted origins, exactly as browsers send them:
	// lowercase "https://host[:port]", no path, no trailing slash, no default
	// port. They receive CORS grants and may send state-changing requests.
	// Empty means none (unlike rs/cors, where empty means all). "*" is
	// accepted only alone and without AllowCredentials, for public read APIs,
	// and then trusts no origin for state-changing requests.
	AllowedOrigins []string

	// AllowOriginFunc decides origins dynamically (e.g. from a tenant table)
	// instead of AllowedOrigins; setting both is refused. Origins it accepts
	// get CORS grants and may send state-changing requests.
	AllowOriginFunc func(origin string) bool

	// AllowedMethods are the methods granted to cross-origin requests, in
	// upper case. Default: GET, HEAD, POST.
	AllowedMethods []string

	// AllowedHeaders are the request headers granted to cross-origin
	// requests. Default: Accept, Content-Type. "*" is refused with
	// AllowCredentials.
	AllowedHeaders []string

	// ExposedHeaders are response headers scripts of trusted origins may read.
	ExposedHeaders []string

	// AllowCredentials lets trusted origins send cookies and read the
	// responses. Default false.
	AllowCredentials bool

	// MaxAge is how long a preflight may be cached. Zero means DefaultMaxAge;
	// more than MaxMaxAge is refused.
	MaxAge time.Duration

	// PublicOrigin is the origin browsers use to reach this app
	// ("https://portal.example.com"). Set it when a proxy rewrites the Host
	// header: browsers that send Origin but not Sec-Fetch-Site are checked by
	// comparing Origin with Host, which then misfires (golang/go#77946).
	PublicOrigin string

	// InsecureAllowHTTP accepts plain-http origins, for local development.
	// The readiness check CORS004 reports them in production.
	InsecureAllowHTTP bool

	// InsecureAllowWildcardSubdomains accepts "https://*.example.com",
	// trusting every subdomain, including any taken over. Reported as CORS005.
	InsecureAllowWildcardSubdomains bool

	// DenyHandler answers refused cross-origin requests. Default: 403 with a
	// problem+json body.
	DenyHandler http.Handler
}

// Policy is a validated Config. It is safe for concurrent use.
type Policy struct {
	origins      []origin
	anyOrigin    bool
	originFunc   func(string) bool
	methods      []string
	headers      []string
	exposed      []string
	credentials  bool
	maxAge       time.Duration
	publicOrigin string
	insecureHTTP bool
	wildcards    bool

	cors *rscors.Cors
	cop  *http.CrossOriginProtection
	deny http.Handler

	mu       sync.Mutex
	bypasses []string
}

// New validates c and returns the policy, or an error naming every field
// that is wrong and how to fix it.
func New(c Config) (*Policy, error) {
	p := &Policy{
		originFunc:   c.AllowOriginFunc,
		credentials:  c.AllowCredentials,
		insecureHTTP: c.InsecureAllowHTTP,
		deny:         c.DenyHandler,
		cop:          http.NewCrossOriginProtection(),
	}
	var errs []error
	if c.AllowOriginFunc != nil && len(c.AllowedOrigins) > 0 {
		errs = append(errs, errors.New("cors: Config.AllowOriginFunc and Config.AllowedOrigins are both set, and rs/cors would silently ignore the list; use one of them"))
	}
	for i, s := range c.AllowedOrigins {
		field := fmt.Sprintf("Config.AllowedOrigins[%d]", i)
		if s == "*" {
			switch {
			case c.AllowCredentials:
				errs = append(errs, fmt.Errorf("cors: %s is \"*\" with Config.AllowCredentials; any site could read responses with the user's cookies: list the exact trusted origins", field))
			case len(c.AllowedOrigins) > 1:
				errs = append(errs, fmt.Errorf("cors: %s is \"*\" next to other origins; use \"*\" alone (public API) or only exact origins", field))
			default:
				p.anyOrigin = true
			}
			continue
		}
		o, err := parseOrigin(field, s, c.InsecureAllowHTTP, c.InsecureAllowWildcardSubdomains)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if slices.ContainsFunc(p.origins, func(x origin) bool { return x.value == o.value }) {
			errs = append(errs, fmt.Errorf("cors: %s %q is listed twice; remove the duplicate", field, s))
			continue
		}
		p.origins = append(p.origins, o)
		p.wildcards = p.wildcards || o.wildcard
	}
	if c.PublicOrigin != "" {
		o, err := parseOrigin("Config.PublicOrigin", c.PublicOrigin, c.InsecureAllowHTTP, false)
		if err != nil {
			errs = append(errs, err)
		} else {
			p.publicOrigin = o.value
		}
	}
	p.methods = c.AllowedMethods
	if len(p.methods) == 0 {
		p.methods = []string{http.MethodGet, http.MethodHead, http.MethodPost}
	}
	for i, m := range p.methods {
		switch {
		case m == "*":
			errs = append(errs, fmt.Errorf("cors: Config.AllowedMethods[%d] is \"*\"; list the methods the API serves", i))
		case !validToken(m):
			errs = append(errs, fmt.Errorf("cors: Config.AllowedMethods[%d] is %q, not a method name; use names like \"PATCH\"", i, m))
		case m != strings.ToUpper(m):
			errs = append(errs, fmt.Errorf("cors: Config.AllowedMethods[%d] is %q; write it in upper case (%q): methods are case-sensitive and lowercase ones never match", i, m, strings.ToUpper(m)))
		}
	}
	p.headers = c.AllowedHeaders
	if len(p.headers) == 0 {
		p.headers = []string{"Accept", "Content-Type"}
	}
	for i, h := range p.headers {
		switch {
		case h == "*" && c.AllowCredentials:
			errs = append(errs, fmt.Errorf("cors: Config.AllowedHeaders[%d] is \"*\" with Config.AllowCredentials; list the request headers the API reads", i))
		case h != "*" && !validToken(h):
			errs = append(errs, fmt.Errorf("cors: Config.AllowedHeaders[%d] is %q, not a header name", i, h))
		}
	}
	for i, h := range c.ExposedHeaders {
		if !validToken(h) {
			errs = append(errs, fmt.Errorf("cors: Config.ExposedHeaders[%d] is %q, not a header name", i, h))
		}
	}
	p.exposed = c.ExposedHeaders
	switch {
	case c.MaxAge < 0:
		errs = append(errs, fmt.Errorf("cors: Config.MaxAge is %v; use zero for the default (%v) or a positive duration", c.MaxAge, DefaultMaxAge))
	case c.MaxAge > MaxMaxAge:
		errs = append(errs, fmt.Errorf("cors: Config.MaxAge is %v; at most %v (browsers cap it, and a long cache delays revoking an origin)", c.MaxAge, MaxMaxAge))
	case c.MaxAge == 0:
		p.maxAge = DefaultMaxAge
	default:
		p.maxAge = c.MaxAge
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if p.deny == nil {
		p.deny = http.HandlerFunc(denyCrossOrigin)
	}
	for _, o := range p.origins {
		if !o.wildcard {
			if err := p.cop.AddTrustedOrigin(o.value); err != nil {
				return nil, fmt.Errorf("cors: trusting %q: %w", o.value, err)
			}
		}
	}
	if p.publicOrigin != "" {
		if err := p.cop.AddTrustedOrigin(p.publicOrigin); err != nil {
			return nil, fmt.Errorf("cors: trusting Config.PublicOrigin: %w", err)
		}
	}
	opts := rscors.Options{
		AllowedMethods:   p.methods,
		AllowedHeaders:   p.headers,
		ExposedHeaders:   p.exposed,
		AllowCredentials: p.credentials,
		MaxAge:           int(p.maxAge / time.Second),
	}
	switch {
	case p.originFunc != nil:
		opts.AllowOriginFunc = p.originFunc
	case p.anyOrigin:
		opts.AllowedOrigins = []string{"*"}
	case len(p.origins) == 0:
		opts.AllowOriginFunc = func(string) bool { return false } // rs/cors treats an empty list as "all"
	case p.wildcards:
		opts.AllowOriginFunc = p.trusted
	default:
		for _, o := range p.origins {
			opts.AllowedOrigins = append(opts.AllowedOrigins, o.value)
		}
	}
	p.cors = rscors.New(opts)
	return p, nil
}

// trusted reports whether origin is one of the policy's trusted origins
// (not counting "*" and PublicOrigin).
func (p *Policy) trusted(origin string) bool {
	if p.originFunc != nil {
		return p.originFunc(origin)
	}
	for _, o := range p.origins {
		if o.matches(origin) {
			return true
		}
	}
	return false
}

// Check reports whether r is a state-changing cross-origin browser request
// from an origin the policy does not trust (CSRF); it returns nil for safe
// methods, same-origin and non-browser requests, and trusted origins.
func (p *Policy) Check(r *http.Request) error {
	err := p.cop.Check(r)
	if err == nil {
		return nil
	}
	if o := r.Header.Get("Origin"); o != "" && (p.wildcards || p.originFunc != nil) && p.trusted(o) {
		return nil
	}
	return ErrCrossOrigin
}

// ErrCrossOrigin is returned by Check for a refused cross-origin request.
var ErrCrossOrigin = errors.New("cors: cross-origin request refused")

// InsecureBypassPattern exempts requests matching a ServeMux pattern
// ("POST /webhooks/{provider}") from cross-origin protection, for endpoints
// that must accept cross-site posts (payment callbacks, SAML). The pattern is
// listed by BypassPatterns and in the readiness report. It may be called
// while requests are served.
func (p *Policy) InsecureBypassPattern(pattern string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cors: InsecureBypassPattern(%q): not a valid ServeMux pattern: %v", pattern, r)
		}
	}()
	p.cop.AddInsecureBypassPattern(pattern)
	p.mu.Lock()
	p.bypasses = append(p.bypasses, pattern)
	p.mu.Unlock()
	return nil
}

// AllowedOrigins returns the trusted origins as configured ("*" for a
// public API, patterns for wildcard subdomains).
func (p *Policy) AllowedOrigins() []string {
	if p.anyOrigin {
		return []string{"*"}
	}
	out := make([]string, len(p.origins))
	for i, o := range p.origins {
		out[i] = o.value
	}
	return out
}

// HasOriginFunc reports whether origins are decided by Config.AllowOriginFunc.
func (p *Policy) HasOriginFunc() bool { return p.originFunc != nil }

// AllowCredentials reports whether trusted origins may send cookies.
func (p *Policy) AllowCredentials() bool { return p.credentials }

// AllowedMethods returns the granted methods.
func (p *Policy) AllowedMethods() []string { return slices.Clone(p.methods) }

// AllowedHeaders returns the granted request headers.
func (p *Policy) AllowedHeaders() []string { return slices.Clone(p.headers) }

// MaxAge returns the preflight cache duration.
func (p *Policy) MaxAge() time.Duration { return p.maxAge }

// PublicOrigin returns Config.PublicOrigin.
func (p *Policy) PublicOrigin() string { return p.publicOrigin }

// InsecureHTTP reports whether plain-http origins were allowed.
func (p *Policy) InsecureHTTP() bool { return p.insecureHTTP }

// WildcardSubdomains reports whether any origin is a wildcard subdomain.
func (p *Policy) WildcardSubdomains() bool { return p.wildcards }

// BypassPatterns returns the patterns exempted from cross-origin protection.
func (p *Policy) BypassPatterns() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.bypasses)
}

// Handler returns middleware that answers CORS preflights, adds CORS grants
// for trusted origins, and refuses untrusted cross-origin state-changing
// requests before they reach next.
func (p *Policy) Handler(next http.Handler) *Handler {
	h := &Handler{p: p, next: next}
	h.inner = p.cors.Handler(http.HandlerFunc(h.protect))
	return h
}

// Handler is the middleware returned by Policy.Handler. It is walkable by
// readiness: Unwrap returns the next handler, Policy the effective settings.
type Handler struct {
	p     *Policy
	next  http.Handler
	inner http.Handler
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodOptions {
		// The key is canonical: index the map directly, as Header.Values
		// would after canonicalizing it (a scan per preflight).
		if acrh := r.Header["Access-Control-Request-Headers"]; len(acrh) > 0 {
			n := 0
			for _, v := range acrh {
				n += len(v)
			}
			if n > MaxRequestHeadersBytes {
				w.Header().Add("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
				w.WriteHeader(http.StatusNoContent) // no grant
				return
			}
		}
	}
	if o := r.Header["Origin"]; r.Method != http.MethodOptions && (len(o) == 0 || o[0] == "") {
		// No Origin, not a preflight: rs/cors would only add Vary: Origin
		// (for caches, the response differing by origin) and grant
		// nothing; do that without the trip through it.
		// TestNoOriginAsRSCors holds the two paths to the same headers.
		hdr := w.Header()
		if vary := hdr["Vary"]; vary == nil {
			hdr["Vary"] = varyOrigin[:1:1]
		} else {
			hdr["Vary"] = append(vary, "Origin")
		}
		h.protect(w, r)
		return
	}
	if r.Method != http.MethodOptions {
		// An actual request with an Origin: rs/cors's HandlerFunc sets
		// the same headers its Handler would before calling next, without
		// the Handler's closure and our HandlerFunc between them.
		h.p.cors.HandlerFunc(w, r)
		h.protect(w, r)
		return
	}
	h.inner.ServeHTTP(w, r)
}

// varyOrigin is the shared Vary value of a response to a request without
// Origin, as rs/cors sets it; never written (Header.Add copies it).
var varyOrigin = []string{"Origin"}

func (h *Handler) protect(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		// Safe methods: http.CrossOriginProtection.Check allows them
		// first thing, so Check would return nil.
		h.next.ServeHTTP(w, r)
		return
	}
	if err := h.p.Check(r); err != nil {
		h.p.deny.ServeHTTP(w, r)
		return
	}
	h.next.ServeHTTP(w, r)
}

// Unwrap returns the wrapped handler.
func (h *Handler) Unwrap() http.Handler { return h.next }

// Policy returns the effective policy.
func (h *Handler) Policy() *Policy { return h.p }

// CrossOriginProtected reports that this handler refuses untrusted
// cross-origin state-changing requests (readiness CORS006 looks for it).
func (h *Handler) CrossOriginProtected() bool { return true }

func denyCrossOrigin(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusForbidden)
	_, _ = w.Write([]byte(`{"type":"about:blank","title":"Forbidden","status":403,"detail":"cross-origin request refused"}`))
}
