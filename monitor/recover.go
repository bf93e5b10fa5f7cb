package monitor

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"
)

// Panic is what a Reporter receives for one recovered panic. It carries the
// request's method, matched route pattern and request ID, and nothing else
// from the request: no headers, cookies, query string or body, which may
// hold secrets or personal data.
type Panic struct {
	// Value is the value passed to panic.
	Value any
	// Stack is the goroutine's stack at the panic (runtime/debug.Stack).
	Stack []byte
	// Method is the request method.
	Method string
	// Route is the matched route pattern ("GET /api/clients/{id}"), or ""
	// when no route matched or the inventory did not announce it.
	Route string
	// RequestID is Recovery.RequestID's answer, or "".
	RequestID string
	// Time is when the panic was recovered.
	Time time.Time
}

// A Reporter receives recovered panics: an error tracker (Sentry, Rollbar,
// Honeybadger…) or a log. Report is called synchronously on the request's
// goroutine after the 500 response has been written; it should hand off
// slow network work. ctx is the request's context, detached from its
// cancellation. A Reporter that panics is itself recovered and ignored.
type Reporter interface {
	Report(ctx context.Context, p Panic)
}

// SlogReporter is the default Reporter: it logs each panic at Error level
// with the route, method, request ID, value and stack. A nil Logger logs to
// slog.Default().
type SlogReporter struct {
	Logger *slog.Logger
}

// Report logs p.
func (s SlogReporter) Report(ctx context.Context, p Panic) {
	l := s.Logger
	if l == nil {
		l = slog.Default()
	}
	l.LogAttrs(ctx, slog.LevelError, "monitor: panic recovered",
		slog.String("method", p.Method),
		slog.String("route", p.Route),
		slog.String("request_id", p.RequestID),
		slog.String("panic", fmt.Sprint(p.Value)),
		slog.String("stack", string(p.Stack)),
	)
}

// Recovery is the panic-recovery middleware. Its zero value is ready to use
// and reports to SlogReporter{} (slog.Default()).
//
// A panicking handler gets a problem+json 500 ("Internal Server Error", no
// panic text, no stack) and the panic goes to the Reporter; the server keeps
// serving. If the handler had already started its response, the 500 cannot
// be sent: the panic is reported and the connection aborted
// (http.ErrAbortHandler) so the client sees a broken response rather than a
// truncated success. A panic with http.ErrAbortHandler itself is re-raised
// unreported, as net/http expects.
type Recovery struct {
	// Reporter receives each recovered panic. Nil means SlogReporter{}.
	Reporter Reporter
	// RequestID returns the request's ID for the report (for example from
	// the app's request-ID middleware). Nil means no ID.
	RequestID func(*http.Request) string
	// Problem writes the 500 response. Nil means a problem+json document.
	// It must not include details of the panic.
	Problem http.Handler
	// Now is the clock for Panic.Time. Nil means time.Now.
	Now func() time.Time
}

// Recover returns a Recovery that reports to rep (nil: SlogReporter{}).
func Recover(rep Reporter) *Recovery { return &Recovery{Reporter: rep} }

// Handler wraps next with panic recovery.
func (rc *Recovery) Handler(next http.Handler) http.Handler {
	if next == nil {
		panic("monitor: Recovery.Handler called with a nil handler")
	}
	cp := *rc
	return &RecoveryHandler{rc: &cp, next: next}
}

// RecoveryHandler is the handler Recovery.Handler returns. readiness finds
// it by walking the server's middleware chain (MON002).
type RecoveryHandler struct {
	rc   *Recovery
	next http.Handler
}

// Unwrap returns the wrapped handler.
func (h *RecoveryHandler) Unwrap() http.Handler { return h.next }

// Reporter returns the effective reporter.
func (h *RecoveryHandler) Reporter() Reporter {
	if h.rc.Reporter == nil {
		return SlogReporter{}
	}
	return h.rc.Reporter
}

func (h *RecoveryHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	sw := wrapStatus(w)
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		if p == http.ErrAbortHandler {
			panic(p)
		}
		stack := debug.Stack()
		started := sw.written
		if !started {
			if h.rc.Problem != nil {
				h.rc.Problem.ServeHTTP(sw, r)
			} else {
				writeProblem(sw, http.StatusInternalServerError, "")
			}
		}
		h.report(r, sw.routeOf(r), p, stack)
		if started {
			panic(http.ErrAbortHandler)
		}
	}()
	h.next.ServeHTTP(sw, r)
}

func (h *RecoveryHandler) report(r *http.Request, route string, value any, stack []byte) {
	defer func() { _ = recover() }() // a broken reporter must not take the server down
	now := time.Now
	if h.rc.Now != nil {
		now = h.rc.Now
	}
	var id string
	if h.rc.RequestID != nil {
		id = h.rc.RequestID(r)
	}
	h.Reporter().Report(context.WithoutCancel(r.Context()), Panic{
		Value: value, Stack: stack, Method: r.Method, Route: route, RequestID: id, Time: now(),
	})
}
