package portalapp

import (
	"net"
	"net/http"
	"slices"
	"strings"
)

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
