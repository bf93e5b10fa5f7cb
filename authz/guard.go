package authz

import (
	"errors"
	"net/http"
)

// ErrNoDecision is the Denial error of a request Guard stopped.
var ErrNoDecision = errors.New("authz: request reached a guarded handler without an authorization decision")

// Guard wraps h so that it answers 500 instead of running when the request
// did not get an allow decision from a Mux. It is defence in depth against
// wiring mistakes, such as mounting a handler on a second, plain ServeMux or
// calling it from another handler: wrap the sensitive handlers you register,
// and a request that bypassed the Mux fails closed.
func Guard(h http.Handler) http.Handler { return &guard{next: h} }

type guard struct{ next http.Handler }

func (g *guard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, ok := Decided(r.Context()); !ok {
		DefaultDeny(w, r, Denial{Status: http.StatusInternalServerError, Err: ErrNoDecision})
		return
	}
	g.next.ServeHTTP(w, r)
}

// Unwrap returns the guarded handler.
func (g *guard) Unwrap() http.Handler { return g.next }
