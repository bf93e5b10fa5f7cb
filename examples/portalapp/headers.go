package portalapp

import (
	"net"
	"net/http"
	"slices"
	"strings"
)

// pageCSP is the page's policy: its own script and style, the API, nothing
// else (the page has no inline script).
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// apiCSP is the API's policy: responses are data, never documents.
const apiCSP = "default-src 'none'; frame-ancestors 'none'"

type headersHandler struct {
	hsts bool
	next http.Handler
}

// securityHeaders sets the security headers: the page preset on the page,
// the API preset everywhere else.
func securityHeaders(hsts bool, next http.Handler) http.Handler {
	return &headersHandler{hsts: hsts, next: next}
}

func (h *headersHandler) Unwrap() http.Handler { return h.next }

func (h *headersHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	if h.hsts {
		hd.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
	}
	switch r.URL.Path {
	case "/", "/app.js", "/app.css":
		hd.Set("Content-Security-Policy", pageCSP)
	default:
		hd.Set("Content-Security-Policy", apiCSP)
		hd.Set("Cache-Control", "no-store")
	}
	h.next.ServeHTTP(w, r)
}

type crossOriginHandler struct {
	protected http.Handler
	next      http.Handler
}

// crossOrigin refuses cross-origin state-changing requests (CSRF) from any
// origin but the portal's own.
func crossOrigin(publicURL string, next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	_ = cop.AddTrustedOrigin(publicURL)
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusForbidden, "Forbidden", "cross-origin request refused")
	}))
	return &crossOriginHandler{protected: cop.Handler(next), next: next}
}

func (h *crossOriginHandler) Unwrap() http.Handler { return h.next }

func (h *crossOriginHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.protected.ServeHTTP(w, r)
}

// hostAllowlist answers only requests for the portal's own host names
// (DNS rebinding, poisoned absolute links).
type hostAllowlist struct {
	hosts []string
	next  http.Handler
}

func hostCheck(hosts []string, next http.Handler) http.Handler {
	return &hostAllowlist{hosts: hosts, next: next}
}

func (h *hostAllowlist) Unwrap() http.Handler { return h.next }

// AllowedHosts is read by readiness (DEPLOY007).
func (h *hostAllowlist) AllowedHosts() []string { return slices.Clone(h.hosts) }

func (h *hostAllowlist) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if hn, _, err := net.SplitHostPort(host); err == nil {
		host = hn
	}
	if !slices.Contains(h.hosts, strings.ToLower(host)) {
		writeProblem(w, http.StatusMisdirectedRequest, "Misdirected Request", "this server does not answer for that host")
		return
	}
	h.next.ServeHTTP(w, r)
}
