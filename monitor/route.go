package monitor

import (
	"net/http"
	"sync/atomic"
)

// statusWriter records the status code and the route pattern announced by
// the route inventory through SetRoute. It keeps Unwrap so
// http.ResponseController (Flush, Hijack, deadlines) works through it.
type statusWriter struct {
	http.ResponseWriter
	status  int
	written bool
	route   atomic.Pointer[string]
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

// Unwrap returns the wrapped writer, for http.ResponseController and for the
// route inventory's SetRoute walk.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// SetRoute records the matched route pattern. The route inventory calls it.
func (w *statusWriter) SetRoute(pattern string) { w.route.Store(&pattern) }

// Route returns the pattern announced through SetRoute, or r.Pattern when
// the middleware sits inside the mux, or "".
func (w *statusWriter) routeOf(r *http.Request) string {
	if p := w.route.Load(); p != nil {
		return *p
	}
	return r.Pattern
}

func (w *statusWriter) statusCode() int {
	if !w.written {
		return http.StatusOK
	}
	return w.status
}
