package monitor

import (
	"fmt"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
)

// Kind is what a counter counts.
type Kind int

// The counted events.
const (
	// ServerError counts responses with a 5xx status, and handlers that
	// panicked before answering.
	ServerError Kind = iota + 1
	// AuthFailure counts 401 responses: the caller could not be authenticated.
	AuthFailure
	// Denied counts 403 responses other than cross-origin rejections: an
	// authenticated caller was not allowed.
	Denied
	// RateLimited counts 429 responses.
	RateLimited
	// CrossOrigin counts cross-origin (CSRF/CORS) rejections reported
	// through Counters.CrossOriginDenied.
	CrossOrigin
	// LogDropped counts access-log lines lost because the log's queue was
	// full (a writer too slow for the traffic), under the route "". The
	// access log's writer reports them, wired by the app:
	//
	//	redact.BatchConfig{OnDrop: func() { counters.Inc("", monitor.LogDropped) }}
	LogDropped
)

// Kinds lists every Kind in order.
var Kinds = []Kind{ServerError, AuthFailure, Denied, RateLimited, CrossOrigin, LogDropped}

// String returns the kind's label: "5xx", "auth_failure", "denied",
// "rate_limited", "cross_origin", "log_dropped".
func (k Kind) String() string {
	switch k {
	case ServerError:
		return "5xx"
	case AuthFailure:
		return "auth_failure"
	case Denied:
		return "denied"
	case RateLimited:
		return "rate_limited"
	case CrossOrigin:
		return "cross_origin"
	case LogDropped:
		return "log_dropped"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// KindOf classifies a final status code; ok is false when it is not counted.
func KindOf(status int) (k Kind, ok bool) {
	switch {
	case status >= 500 && status <= 599:
		return ServerError, true
	case status == http.StatusUnauthorized:
		return AuthFailure, true
	case status == http.StatusForbidden:
		return Denied, true
	case status == http.StatusTooManyRequests:
		return RateLimited, true
	}
	return 0, false
}

type counterKey struct {
	route string
	kind  Kind
}

// Counters counts 5xx responses, authentication failures, authorization
// denials, rate-limit and cross-origin rejections by route pattern. The
// zero value is ready to use and safe for concurrent use; each (route,
// kind) pair is one atomic counter, so counts are exact under any
// concurrency and reading never blocks requests.
//
// Routes are the patterns the route inventory announces through SetRoute
// (so the number of series is bounded by the number of routes); requests
// that matched no route count under "".
type Counters struct {
	m sync.Map // counterKey → *atomic.Uint64
}

// NewCounters returns empty counters.
func NewCounters() *Counters { return &Counters{} }

func (c *Counters) counter(route string, k Kind) *atomic.Uint64 {
	key := counterKey{route, k}
	if v, ok := c.m.Load(key); ok {
		return v.(*atomic.Uint64)
	}
	v, _ := c.m.LoadOrStore(key, new(atomic.Uint64))
	return v.(*atomic.Uint64)
}

// Inc adds one to the counter of kind k on route.
func (c *Counters) Inc(route string, k Kind) { c.counter(route, k).Add(1) }

// Value returns the count of kind k on route.
func (c *Counters) Value(route string, k Kind) uint64 {
	if v, ok := c.m.Load(counterKey{route, k}); ok {
		return v.(*atomic.Uint64).Load()
	}
	return 0
}

// Total returns the count of kind k over every route.
func (c *Counters) Total(k Kind) uint64 {
	var n uint64
	c.m.Range(func(key, v any) bool {
		if key.(counterKey).kind == k {
			n += v.(*atomic.Uint64).Load()
		}
		return true
	})
	return n
}

// Sample is one counter's value.
type Sample struct {
	Route string
	Kind  Kind
	Value uint64
}

// Snapshot returns every counter, sorted by route then kind. Each value is
// read atomically; the set is not one atomic cut across counters.
func (c *Counters) Snapshot() []Sample {
	var out []Sample
	c.m.Range(func(key, v any) bool {
		k := key.(counterKey)
		out = append(out, Sample{Route: k.route, Kind: k.kind, Value: v.(*atomic.Uint64).Load()})
		return true
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].Route != out[j].Route {
			return out[i].Route < out[j].Route
		}
		return out[i].Kind < out[j].Kind
	})
	return out
}

// Handler wraps next and counts its responses by final status: 5xx,
// 401, 403 and 429. Put it outside the route inventory (and inside
// Recovery, or outside: a panic is counted once either way).
func (c *Counters) Handler(next http.Handler) http.Handler {
	if next == nil {
		panic("monitor: Counters.Handler called with a nil handler")
	}
	return &CountingHandler{c: c, next: next}
}

// CrossOriginDenied wraps the deny handler of a cross-origin protection
// (cors package, http.CrossOriginProtection.SetDenyHandler) so its
// rejections count as CrossOrigin rather than Denied. Nil deny writes a
// problem+json 403.
func (c *Counters) CrossOriginDenied(deny http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cw := findCountWriter(w); cw != nil {
			cw.crossOrigin.Store(true)
		} else {
			c.Inc(r.Pattern, CrossOrigin)
		}
		if deny == nil {
			writeProblem(w, http.StatusForbidden, "cross-origin request rejected")
			return
		}
		deny.ServeHTTP(w, r)
	})
}

func findCountWriter(w http.ResponseWriter) *statusWriter {
	for i := 0; w != nil && i < 64; i++ {
		if cw, ok := w.(*statusWriter); ok && cw.counted {
			return cw
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return nil
		}
		w = u.Unwrap()
	}
	return nil
}

// CountingHandler is the handler Counters.Handler returns. readiness finds
// it by walking the server's middleware chain (MON003).
type CountingHandler struct {
	c    *Counters
	next http.Handler
}

// Unwrap returns the wrapped handler.
func (h *CountingHandler) Unwrap() http.Handler { return h.next }

// Counters returns the counters this handler adds to.
func (h *CountingHandler) Counters() *Counters { return h.c }

func (h *CountingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cw := wrapStatus(w)
	cw.counted = true
	completed := false
	defer func() {
		route := cw.routeOf(r)
		if !completed {
			// The handler panicked: whoever recovers it answers 500 or
			// aborts the connection.
			h.c.Inc(route, ServerError)
			return
		}
		status := cw.statusCode()
		if cw.crossOrigin.Load() {
			h.c.Inc(route, CrossOrigin)
			return
		}
		if k, ok := KindOf(status); ok {
			h.c.Inc(route, k)
		}
	}()
	h.next.ServeHTTP(cw, r)
	completed = true
}
