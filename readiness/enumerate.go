package readiness

import (
	"net/http"
	"reflect"
	"sort"
	"sync"
	"unsafe"
)

// An Enumerator lists the routes of a router that carries no policies (a
// plain http.ServeMux, a plain chi router), so a readiness run on an app
// that uses none of the kit can assess every route instead of stopping at
// AUTH001. It returns false when h is not a router it knows.
//
// The inventory it returns should also implement RouterKind, which names
// the router in the migration steps.
type Enumerator func(h http.Handler) (Inventory, bool)

// RouterKind is implemented by assessment inventories: "http.ServeMux",
// "chi".
type RouterKind interface {
	RouterKind() string
}

var (
	enumMu      sync.RWMutex
	enumerators = []Enumerator{enumerateServeMux}
)

// RegisterEnumerator adds an Enumerator for the assessment of apps that route
// with a router readiness does not know. The chi adapter
// (authz/chiauthz) registers one for plain chi routers when it is imported:
// core readiness does not import chi.
func RegisterEnumerator(e Enumerator) {
	if e == nil {
		panic("readiness: RegisterEnumerator(nil)")
	}
	enumMu.Lock()
	defer enumMu.Unlock()
	enumerators = append(enumerators, e)
}

func enumerate(h http.Handler) (Inventory, bool) {
	enumMu.RLock()
	list := enumerators
	enumMu.RUnlock()
	for i := len(list) - 1; i >= 0; i-- { // later registrations win
		if inv, ok := list[i](h); ok {
			return inv, true
		}
	}
	return nil, false
}

// serveMuxRoutes is an http.ServeMux listed for assessment.
type serveMuxRoutes struct {
	*http.ServeMux
	routes []muxRoute
}

type muxRoute struct {
	pattern string
	h       http.Handler
}

func (s *serveMuxRoutes) EachRoute(fn func(string, http.Handler)) {
	for _, r := range s.routes {
		fn(r.pattern, r.h)
	}
}

func (s *serveMuxRoutes) RouterKind() string { return "http.ServeMux" }

// Unwrap returns the ServeMux, so the chain still shows it (AUTH001,
// AUTH008 look for http.DefaultServeMux).
func (s *serveMuxRoutes) Unwrap() http.Handler { return s.ServeMux }

// enumerateServeMux lists a ServeMux's patterns. net/http has no API for
// that, so it reads the mux's routing tree (Go 1.22+ layout) through
// reflection, without locking: call it while no routes are being
// registered. A layout it does not recognise gives false (AUTH016), never a
// wrong list.
func enumerateServeMux(h http.Handler) (Inventory, bool) {
	mux, ok := h.(*http.ServeMux)
	if !ok || mux == nil {
		return nil, false
	}
	tree := reflect.ValueOf(mux).Elem().FieldByName("tree")
	if !tree.IsValid() || tree.Kind() != reflect.Struct {
		return nil, false
	}
	out := &serveMuxRoutes{ServeMux: mux}
	if !walkRoutingNode(tree, &out.routes, 0) {
		return nil, false
	}
	sort.Slice(out.routes, func(i, j int) bool { return out.routes[i].pattern < out.routes[j].pattern })
	return out, true
}

var handlerType = reflect.TypeFor[http.Handler]()

func walkRoutingNode(n reflect.Value, out *[]muxRoute, depth int) bool {
	if depth > 512 {
		return false
	}
	pat, h := n.FieldByName("pattern"), n.FieldByName("handler")
	children, multi, empty := n.FieldByName("children"), n.FieldByName("multiChild"), n.FieldByName("emptyChild")
	if !pat.IsValid() || pat.Kind() != reflect.Pointer || !h.IsValid() || h.Type() != handlerType ||
		!children.IsValid() || !multi.IsValid() || !empty.IsValid() {
		return false
	}
	if !pat.IsNil() {
		str := pat.Elem().FieldByName("str")
		if !str.IsValid() || str.Kind() != reflect.String || !h.CanAddr() {
			return false
		}
		handler, _ := reflect.NewAt(h.Type(), unsafe.Pointer(h.UnsafeAddr())).Elem().Interface().(http.Handler)
		*out = append(*out, muxRoute{pattern: str.String(), h: handler})
	}
	visit := func(c reflect.Value) bool {
		if c.Kind() != reflect.Pointer {
			return false
		}
		if c.IsNil() {
			return true
		}
		return walkRoutingNode(c.Elem(), out, depth+1)
	}
	// children is a mapping: a slice of entries for few, a map for many.
	s, m := children.FieldByName("s"), children.FieldByName("m")
	if !s.IsValid() || s.Kind() != reflect.Slice || !m.IsValid() || m.Kind() != reflect.Map {
		return false
	}
	for i := 0; i < s.Len(); i++ {
		v := s.Index(i).FieldByName("value")
		if !v.IsValid() || !visit(v) {
			return false
		}
	}
	iter := m.MapRange()
	for iter.Next() {
		if !visit(iter.Value()) {
			return false
		}
	}
	// The "" child (an empty host or method, a single wildcard) and the
	// multi-wildcard child are kept outside children.
	return visit(empty) && visit(multi)
}
