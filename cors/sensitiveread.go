package cors

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// Cross-site reads of sensitive data. Cross-origin protection (Check)
// lets safe methods through, as it must: a link from another site is a
// plain GET navigation. But the browser attaches the SameSite=Lax session
// cookie to that top-level navigation, so a link on any site to
// GET /api/clients/{id}/export runs the export in the victim's name: it
// writes an audit record as them, spends their export budget, and drops a
// file of client data into their downloads. SensitiveRead is a route-level
// marker for such reads (exports, downloads, reports) that refuses them
// unless the request came from the portal itself.

// ErrCrossSiteRead is returned by CheckSensitiveRead for a refused read.
var ErrCrossSiteRead = errors.New("cors: cross-site request for a sensitive read refused")

// CheckSensitiveRead reports whether r may read sensitive data: it refuses
// a request whose Sec-Fetch-Site is "cross-site" or "same-site" (another
// subdomain), and, from browsers that do not send Sec-Fetch-Site, one whose
// Origin or Referer is neither a trusted origin nor the portal's own. A
// request with none of these headers (curl, scripts, a typed URL in an old
// browser) and Sec-Fetch-Site "same-origin" or "none" (bookmark, address
// bar) pass. Every method is checked, GET included.
func (p *Policy) CheckSensitiveRead(r *http.Request) error {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return nil
	case "":
	default: // cross-site, same-site, or a value we do not know
		if o := r.Header.Get("Origin"); o != "" && p.trusted(o) {
			return nil // a trusted origin's fetch, as for CORS grants
		}
		return ErrCrossSiteRead
	}
	if o := r.Header.Get("Origin"); o != "" {
		if p.own(o, r) || p.trusted(o) {
			return nil
		}
		return ErrCrossSiteRead
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		u, err := url.Parse(ref)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return ErrCrossSiteRead
		}
		o := strings.ToLower(u.Scheme + "://" + u.Host)
		if p.own(o, r) || p.trusted(o) {
			return nil
		}
		return ErrCrossSiteRead
	}
	return nil
}

// own reports whether origin is the portal's own: Config.PublicOrigin
// when set (behind a proxy that rewrites Host), else the request's Host.
func (p *Policy) own(origin string, r *http.Request) bool {
	if p.publicOrigin != "" {
		return strings.EqualFold(origin, p.publicOrigin)
	}
	_, host, ok := strings.Cut(origin, "://")
	return ok && r.Host != "" && strings.EqualFold(host, r.Host)
}

// SensitiveRead wraps a route's handler (an export or a download) so that
// cross-site requests are refused with the policy's deny handler (403
// problem+json by default) before next runs; see CheckSensitiveRead.
// Readiness reports export and download routes without it (CORS009).
func (p *Policy) SensitiveRead(next http.Handler) *SensitiveReadHandler {
	if next == nil {
		panic("cors: SensitiveRead called with a nil handler")
	}
	return &SensitiveReadHandler{p: p, next: next}
}

// SensitiveReadHandler is the middleware SensitiveRead returns. It is
// walkable: Unwrap, Policy and CrossSiteReadsRefused.
type SensitiveReadHandler struct {
	p    *Policy
	next http.Handler
}

func (h *SensitiveReadHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := h.p.CheckSensitiveRead(r); err != nil {
		h.p.deny.ServeHTTP(w, r)
		return
	}
	h.next.ServeHTTP(w, r)
}

// Unwrap returns the wrapped handler.
func (h *SensitiveReadHandler) Unwrap() http.Handler { return h.next }

// Policy returns the policy whose origins are trusted.
func (h *SensitiveReadHandler) Policy() *Policy { return h.p }

// CrossSiteReadsRefused reports that this handler refuses cross-site reads
// (readiness CORS009 looks for it).
func (h *SensitiveReadHandler) CrossSiteReadsRefused() bool { return true }
