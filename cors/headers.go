package cors

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Preset selects the Content-Security-Policy of the headers middleware.
type Preset int

const (
	// PresetAPI is for JSON APIs: nothing may load from a response and
	// nothing may frame it. The zero value.
	PresetAPI Preset = iota
	// PresetPage is for HTML pages served by the app: scripts, styles and
	// images from the app's own origin only, no plugins, no framing, forms
	// post only to the app.
	PresetPage
)

// The presets' Content-Security-Policy values.
const (
	CSPAPI  = "default-src 'none'; frame-ancestors 'none'"
	CSPPage = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

// MinHSTSMaxAge is the shortest HSTS max-age accepted: one year.
const MinHSTSMaxAge = 365 * 24 * time.Hour

// HeadersConfig configures the security-headers middleware. The zero value
// is the hardened API preset with HSTS for two years.
type HeadersConfig struct {
	// Preset selects the CSP: PresetAPI (default) or PresetPage.
	Preset Preset
	// CSP replaces the preset's Content-Security-Policy. It must keep a
	// frame-ancestors directive.
	CSP string
	// HSTSMaxAge is Strict-Transport-Security's max-age. Zero means two
	// years; less than MinHSTSMaxAge is refused.
	HSTSMaxAge time.Duration
	// HSTSPreload adds "preload" (only once the domain is ready for the
	// browsers' preload lists).
	HSTSPreload bool
	// InsecureNoHSTS omits Strict-Transport-Security, for plain-http local
	// development. Readiness CORS007 reports it in production.
	InsecureNoHSTS bool
	// ReferrerPolicy defaults to "no-referrer".
	ReferrerPolicy string
	// Authenticated reports whether a request carries credentials; its
	// responses get "Cache-Control: no-store" unless the handler sets its
	// own Cache-Control. Default: the request has a Cookie or an
	// Authorization header.
	Authenticated func(*http.Request) bool
}

// Headers is a validated HeadersConfig.
type Headers struct {
	set           http.Header // canonical keys, one-element values shared read-only
	keys          []string
	vals          [][]string
	authenticated func(*http.Request) bool
}

var noStore = []string{"no-store"}

// NewHeaders validates c.
func NewHeaders(c HeadersConfig) (*Headers, error) {
	csp := CSPAPI
	switch c.Preset {
	case PresetAPI:
	case PresetPage:
		csp = CSPPage
	default:
		return nil, fmt.Errorf("cors: HeadersConfig.Preset is %d; use cors.PresetAPI or cors.PresetPage", int(c.Preset))
	}
	if c.CSP != "" {
		if !strings.Contains(c.CSP, "frame-ancestors") {
			return nil, fmt.Errorf("cors: HeadersConfig.CSP has no frame-ancestors directive; add \"frame-ancestors 'none'\" (or the origins allowed to frame the app) against clickjacking")
		}
		if strings.ContainsAny(c.CSP, "\r\n") {
			return nil, fmt.Errorf("cors: HeadersConfig.CSP contains a line break; write it on one line")
		}
		csp = c.CSP
	}
	maxAge := c.HSTSMaxAge
	switch {
	case maxAge == 0:
		maxAge = 2 * MinHSTSMaxAge
	case maxAge < MinHSTSMaxAge:
		return nil, fmt.Errorf("cors: HeadersConfig.HSTSMaxAge is %v; use at least one year (%v), or zero for two years", c.HSTSMaxAge, MinHSTSMaxAge)
	}
	ref := c.ReferrerPolicy
	switch ref {
	case "":
		ref = "no-referrer"
	case "no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin":
	default:
		return nil, fmt.Errorf("cors: HeadersConfig.ReferrerPolicy is %q; use no-referrer, same-origin, strict-origin or strict-origin-when-cross-origin (the others leak URLs to other sites)", ref)
	}
	h := &Headers{set: http.Header{}, authenticated: c.Authenticated}
	if h.authenticated == nil {
		h.authenticated = hasCredentials
	}
	add := func(k, v string) { h.set[http.CanonicalHeaderKey(k)] = []string{v} }
	if !c.InsecureNoHSTS {
		v := "max-age=" + strconv.FormatInt(int64(maxAge/time.Second), 10) + "; includeSubDomains"
		if c.HSTSPreload {
			v += "; preload"
		}
		add("Strict-Transport-Security", v)
	}
	add("X-Content-Type-Options", "nosniff")
	add("Content-Security-Policy", csp)
	add("Referrer-Policy", ref)
	add("Cross-Origin-Opener-Policy", "same-origin")
	add("Cross-Origin-Resource-Policy", "same-origin")
	add("X-Frame-Options", "DENY")
	add("X-XSS-Protection", "0") // the old XSS auditor leaked data; "1" is never sent
	for k, v := range h.set {
		h.keys = append(h.keys, k)
		h.vals = append(h.vals, v[:1:1]) // cap 1: a handler's Add copies instead of writing into the shared array
	}
	return h, nil
}

func hasCredentials(r *http.Request) bool {
	if _, c := r.Header["Cookie"]; c {
		return true
	}
	_, a := r.Header["Authorization"]
	return a
}

// Header returns a copy of the headers set on every response.
func (h *Headers) Header() http.Header { return h.set.Clone() }

// Handler returns the middleware. It sets the headers before calling next,
// so they are on every response, errors included; next may override any of
// them with Header().Set. Requests with credentials also get
// "Cache-Control: no-store", which next replaces with Header().Set when a
// response may be cached.
func (h *Headers) Handler(next http.Handler) *HeadersHandler {
	return &HeadersHandler{h: h, next: next}
}

// HeadersHandler is the middleware returned by Headers.Handler; walkable.
type HeadersHandler struct {
	h    *Headers
	next http.Handler
}

func (s *HeadersHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	dst := w.Header()
	for i, k := range s.h.keys {
		dst[k] = s.h.vals[i]
	}
	if _, ok := dst["Cache-Control"]; !ok && s.h.authenticated(r) {
		dst["Cache-Control"] = noStore
	}
	s.next.ServeHTTP(w, r)
}

// Unwrap returns the wrapped handler.
func (s *HeadersHandler) Unwrap() http.Handler { return s.next }

// SecurityHeaders returns a copy of the headers set on every response.
func (s *HeadersHandler) SecurityHeaders() http.Header { return s.h.Header() }

// NoStoreWhenAuthenticated reports that responses to requests with
// credentials get "Cache-Control: no-store".
func (s *HeadersHandler) NoStoreWhenAuthenticated() bool { return true }
