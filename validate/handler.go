package validate

import (
	"net/http"
	"reflect"
)

// BodyPolicy is what readiness reads from a route's body handler.
type BodyPolicy interface {
	// Schema names the decoded type: "portal.LoginRequest".
	Schema() string
	// MaxBytes is the effective body cap.
	MaxBytes() int64
	// MaxDepth is the effective nesting cap.
	MaxDepth() int
	// AllowsUnknownFields reports Options.InsecureAllowUnknownFields.
	AllowsUnknownFields() bool
}

// Handler decodes and validates a T, then calls the route's function with
// it. Build it with JSON.
type Handler[T any] struct {
	next    func(http.ResponseWriter, *http.Request, *T)
	opts    Options
	byValue bool
}

var _ BodyPolicy = (*Handler[struct{}])(nil)

// JSON returns a handler that decodes the request body into a T (see
// Options; nil means the hardened defaults), validates it, and calls next
// with it. Rejections are written with the ErrorWriter and next is not
// called. JSON panics if opts is invalid (a programming error: options are
// literals at the route).
func JSON[T any](next func(w http.ResponseWriter, r *http.Request, in *T), opts *Options) *Handler[T] {
	if next == nil {
		panic("validate: JSON called with a nil handler function")
	}
	o, err := opts.resolve()
	if err != nil {
		panic(err)
	}
	return &Handler[T]{next: next, opts: o, byValue: byValue(reflect.TypeFor[T](), o.Validator)}
}

func (h *Handler[T]) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var v T
	if e := decodeInto(w, r, &v, &h.opts, h.byValue); e != nil {
		writeRefusal(w, r, e, h.opts.ErrorWriter)
		return
	}
	h.next(w, r, &v)
}

// Unwrap returns nil: the handler ends the route's chain.
func (h *Handler[T]) Unwrap() http.Handler { return nil }

// Schema names T.
func (h *Handler[T]) Schema() string { return reflect.TypeFor[T]().String() }

// MaxBytes is the body cap.
func (h *Handler[T]) MaxBytes() int64 { return h.opts.MaxBytes }

// MaxDepth is the nesting cap.
func (h *Handler[T]) MaxDepth() int { return h.opts.MaxDepth }

// AllowsUnknownFields reports whether unknown fields are accepted.
func (h *Handler[T]) AllowsUnknownFields() bool { return h.opts.InsecureAllowUnknownFields }

// LimitHandler caps the body of a route that reads a non-JSON body. Build it
// with Limit.
type LimitHandler struct {
	n    int64
	next http.Handler
	ew   ErrorWriter
}

// Limit caps r.Body at n bytes (0 means DefaultMaxBytes) for routes whose
// body is not JSON. A declared Content-Length over n is refused with 413
// before next runs; a longer streamed body makes next's read fail.
func Limit(n int64, next http.Handler) *LimitHandler {
	if n < 0 {
		panic("validate: Limit called with a negative size; use a positive cap or 0 for 1 MB")
	}
	if n == 0 {
		n = DefaultMaxBytes
	}
	return &LimitHandler{n: n, next: next, ew: WriteProblem}
}

func (h *LimitHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > h.n {
		h.ew(w, r, tooLarge(h.n))
		return
	}
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, h.n)
	}
	h.next.ServeHTTP(w, r)
}

// Unwrap returns the wrapped handler.
func (h *LimitHandler) Unwrap() http.Handler { return h.next }

// MaxBytes is the body cap.
func (h *LimitHandler) MaxBytes() int64 { return h.n }

// NoBodyHandler refuses any request body, for mutating routes that take
// none (logout, "mark as read"). Build it with NoBody.
type NoBodyHandler struct {
	next http.Handler
	ew   ErrorWriter
}

// NoBody returns a handler that answers 413 to a request carrying a body
// and otherwise calls next with an empty body. It declares to readiness that
// the route has no body schema on purpose.
func NoBody(next http.Handler) *NoBodyHandler {
	return &NoBodyHandler{next: next, ew: WriteProblem}
}

func (h *NoBodyHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength > 0 {
		h.ew(w, r, newError(ErrTooLarge, "this route takes no body"))
		return
	}
	if r.Body != nil && r.Body != http.NoBody {
		var b [1]byte
		if n, _ := r.Body.Read(b[:]); n > 0 {
			h.ew(w, r, newError(ErrTooLarge, "this route takes no body"))
			return
		}
	}
	r.Body = http.NoBody
	h.next.ServeHTTP(w, r)
}

// Unwrap returns the wrapped handler.
func (h *NoBodyHandler) Unwrap() http.Handler { return h.next }

// RefusesBody reports true: the route accepts no body at all.
func (h *NoBodyHandler) RefusesBody() bool { return true }
