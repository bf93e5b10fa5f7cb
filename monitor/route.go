package monitor

import (
	"io"
	"net/http"
	"sync"
	"sync/atomic"
)

// statusWriter records the status code and the route pattern announced by
// the route inventory through SetRoute. It keeps Unwrap so
// http.ResponseController (Flush, Hijack, deadlines) works through it.
//
// The recovery and counting middlewares share one statusWriter when one
// sits directly inside the other (see wrapStatus), saving an allocation and
// a hop on every Write and Header call.
type statusWriter struct {
	http.ResponseWriter
	status  int
	written bool
	// counted is set once a CountingHandler uses this writer; only then
	// does CrossOriginDenied leave the count to it through crossOrigin.
	counted     bool
	crossOrigin atomic.Bool
	// route is guarded by mu rather than held in an atomic pointer, which
	// would allocate on every request.
	mu       sync.Mutex
	route    string
	hasRoute bool
}

// wrapStatus returns w itself when it is already a monitor statusWriter,
// else a new one around it.
func wrapStatus(w http.ResponseWriter) *statusWriter {
	if sw, ok := w.(*statusWriter); ok {
		return sw
	}
	return &statusWriter{ResponseWriter: w}
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.written {
		// 1xx informational responses are not the final status.
		if code >= 100 && code < 200 {
			w.ResponseWriter.WriteHeader(code)
			return
		}
		w.status, w.written = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.written {
		w.status, w.written = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

// WriteString is Write for a string (io.StringWriter), so a handler's
// io.WriteString reaches the server's writer without a copy to bytes.
func (w *statusWriter) WriteString(s string) (int, error) {
	if !w.written {
		w.status, w.written = http.StatusOK, true
	}
	return io.WriteString(w.ResponseWriter, s)
}

// Unwrap returns the wrapped writer, for http.ResponseController and for the
// route inventory's SetRoute walk.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// SetRoute records the matched route pattern. The route inventory calls it.
func (w *statusWriter) SetRoute(pattern string) {
	w.mu.Lock()
	w.route, w.hasRoute = pattern, true
	w.mu.Unlock()
}

// Route returns the pattern announced through SetRoute, or r.Pattern when
// the middleware sits inside the mux, or "".
func (w *statusWriter) routeOf(r *http.Request) string {
	w.mu.Lock()
	route, ok := w.route, w.hasRoute
	w.mu.Unlock()
	if ok {
		return route
	}
	return r.Pattern
}

func (w *statusWriter) statusCode() int {
	if !w.written {
		return http.StatusOK
	}
	return w.status
}
