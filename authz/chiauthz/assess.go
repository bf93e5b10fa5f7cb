package chiauthz

import (
	"net/http"
	"reflect"

	"github.com/go-chi/chi/v5"

	"github.com/launchready/launchready/readiness"
)

// Importing chiauthz lets readiness list a plain chi router for its
// assessment: core readiness does not import chi, so the adapter registers
// the enumerator.
func init() {
	readiness.RegisterEnumerator(func(h http.Handler) (readiness.Inventory, bool) {
		rs, ok := h.(chi.Routes)
		if !ok {
			return nil, false
		}
		if _, isOurs := h.(*Router); isOurs {
			return nil, false
		}
		return Assess(h, rs), true
	})
}

// Assessment is a plain chi router listed for readiness' assessment mode:
// every route with its full pattern (mounted sub-routers included) and its
// handler wrapped in the chi middleware that applies to it. It carries no
// policies, so readiness reports AUTH001 and one AUTH015 per sensitive
// route, with the step that moves it to a Router.
type Assessment struct {
	h      http.Handler
	routes []assessed
}

type assessed struct {
	pattern string
	h       http.Handler
}

// Assess lists the routes of a plain chi router (h is usually the
// *chi.Mux, rs the same value). readiness.Run does this by itself once
// chiauthz is imported; call Assess to hand the inventory to a check.
//
// To show readiness which middleware protects each route, Assess composes
// every chi middleware that applies to it around the route's handler once,
// as chi does when it builds its own chain; the composed chain is only
// walked, never served.
func Assess(h http.Handler, rs chi.Routes) *Assessment {
	a := &Assessment{h: h}
	a.walk("", rs, nil, 0)
	return a
}

func (a *Assessment) walk(prefix string, rs chi.Routes, mws chi.Middlewares, depth int) {
	if rs == nil || depth > 32 {
		return
	}
	mws = append(mws[:len(mws):len(mws)], rs.Middlewares()...)
	for _, rt := range rs.Routes() {
		if rt.SubRoutes != nil {
			a.walk(prefix+trimWildcard(rt.Pattern), rt.SubRoutes, mws, depth+1)
			continue
		}
		path := prefix + rt.Pattern
		if prefix != "" && rt.Pattern == "/" {
			path = prefix // a mounted "/" answers "/x" and "/x/": listed as "/x", as chiauthz does
		}
		if all, ok := rt.Handlers["*"]; ok {
			a.add("", path, mws, all)
			for _, m := range sortedMethods(rt.Handlers) {
				if h := rt.Handlers[m]; !sameHandler(h, all) {
					a.add(m, path, mws, h)
				}
			}
			continue
		}
		for _, m := range sortedMethods(rt.Handlers) {
			a.add(m, path, mws, rt.Handlers[m])
		}
	}
}

func (a *Assessment) add(method, path string, mws chi.Middlewares, h http.Handler) {
	if ch, ok := h.(*chi.ChainHandler); ok { // With(...): inline middleware
		mws = append(mws[:len(mws):len(mws)], ch.Middlewares...)
		h = ch.Endpoint
	}
	a.routes = append(a.routes, assessed{pattern: InventoryPattern(method, path), h: chainOf(mws, h)})
}

func trimWildcard(p string) string {
	if len(p) >= 2 && p[len(p)-2:] == "/*" {
		return p[:len(p)-2]
	}
	return p
}

var methodOrder = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"}

func sortedMethods(hs map[string]http.Handler) []string {
	var out []string
	for _, m := range methodOrder {
		if _, ok := hs[m]; ok {
			out = append(out, m)
		}
	}
	return out
}

// sameHandler compares handlers without panicking on func values.
func sameHandler(a, b http.Handler) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	if !va.IsValid() || !vb.IsValid() || va.Type() != vb.Type() {
		return false
	}
	switch va.Kind() {
	case reflect.Func, reflect.Pointer, reflect.Map, reflect.Chan, reflect.UnsafePointer:
		return va.Pointer() == vb.Pointer()
	}
	return va.Comparable() && va.Equal(vb)
}

// ServeHTTP serves the chi router.
func (a *Assessment) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.h.ServeHTTP(w, r) }

// EachRoute lists the routes; it makes Assessment a readiness.Inventory.
func (a *Assessment) EachRoute(fn func(pattern string, h http.Handler)) {
	for _, r := range a.routes {
		fn(r.pattern, r.h)
	}
}

// RouterKind names the router in the migration steps.
func (a *Assessment) RouterKind() string { return "chi router" }
