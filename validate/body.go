package validate

import (
	"context"
	"net/http"
	"reflect"
)

type bodyKey[T any] struct{}

// BodyHandler decodes and validates a T, then calls an ordinary
// http.Handler with the value in the request context (read it with Value).
// Build it with Body; use it where the route's handler is an http.Handler
// (or more middleware follows), and JSON where a typed function suffices.
type BodyHandler[T any] struct {
	next    http.Handler
	opts    Options
	byValue bool
}

var _ BodyPolicy = (*BodyHandler[struct{}])(nil)

// Body returns a handler that decodes the body into a T as JSON does (opts
// nil means the hardened defaults) and calls next with the value stored in
// the request's context. It panics on invalid options, like JSON.
func Body[T any](opts *Options, next http.Handler) *BodyHandler[T] {
	if next == nil {
		panic("validate: Body called with a nil handler")
	}
	o, err := opts.resolve()
	if err != nil {
		panic(err)
	}
	return &BodyHandler[T]{next: next, opts: o, byValue: byValue(reflect.TypeFor[T](), o.Validator)}
}

func (h *BodyHandler[T]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v := new(T)
	if e := decodeInto(w, r, v, &h.opts, h.byValue); e != nil {
		writeRefusal(w, r, e, h.opts.ErrorWriter)
		return
	}
	h.next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), bodyKey[T]{}, v)))
}

// Value returns the body decoded by a Body[T] handler up the chain, or nil
// when there was none.
func Value[T any](r *http.Request) *T {
	v, _ := r.Context().Value(bodyKey[T]{}).(*T)
	return v
}

// Unwrap returns the wrapped handler.
func (h *BodyHandler[T]) Unwrap() http.Handler { return h.next }

// Schema names T.
func (h *BodyHandler[T]) Schema() string { return reflect.TypeFor[T]().String() }

// MaxBytes is the body cap.
func (h *BodyHandler[T]) MaxBytes() int64 { return h.opts.MaxBytes }

// MaxDepth is the nesting cap.
func (h *BodyHandler[T]) MaxDepth() int { return h.opts.MaxDepth }

// AllowsUnknownFields reports whether unknown fields are accepted.
func (h *BodyHandler[T]) AllowsUnknownFields() bool { return h.opts.InsecureAllowUnknownFields }
