// Package sentry reports the portal's panics and 5xx responses to Sentry
// (or any Sentry-protocol tracker: GlitchTip, self-hosted Sentry) without
// leaking what Sentry's SDK attaches by default: request headers, cookies,
// bodies and query strings may carry session tokens, passwords and personal
// data. It serves scorecard item 10 ("panic recovery reported to an error
// tracker"); readiness recognises it for MON002.
//
// Use it in three lines:
//
//	rep, err := sentry.New(sentry.Config{DSN: os.Getenv("SENTRY_DSN"), Environment: "production"})
//	h = rep.Handler(h)                              // 5xx responses
//	h = monitor.Recover(rep).Handler(h)             // panics
//
// Events are built from an allowlist, never from the *http.Request: the
// method, the matched route pattern (never the raw path, which holds object
// IDs), the request ID, the release (VCS revision of the running binary)
// and the environment, plus the allowlisted headers (User-Agent and
// Content-Type by default). Every string of the event (panic value, header
// values, tags, stack frame variables are never sent) passes through the
// redact detectors, and a BeforeSend hook strips cookies, bodies, query
// strings and non-allowlisted headers from any event that reaches the
// client some other way.
package sentry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	sentrygo "github.com/getsentry/sentry-go"

	"github.com/launchready/launchready/monitor"
	"github.com/launchready/launchready/redact"
)

// Config configures a Reporter.
type Config struct {
	// DSN is the project's Sentry DSN. Required.
	DSN string
	// Environment names the deployment ("production", "staging"). Required:
	// events without it mix staging noise into production alerts.
	Environment string
	// Release names the running build. Empty means the VCS revision of the
	// running binary (monitor.CurrentRelease); a binary without one is
	// refused unless Release is set.
	Release string
	// RequestID returns the request's ID for 5xx events (Recovery passes
	// its own for panics). Nil means none.
	RequestID func(*http.Request) string
	// AllowHeaders are the request headers sent with 5xx events, after
	// redaction. Nil means User-Agent and Content-Type. Authorization,
	// Cookie, Proxy-Authorization and Set-Cookie are refused.
	AllowHeaders []string
	// Redactor masks detected secrets and personal data in every string.
	// Nil means redact.NewRedactor(nil).
	Redactor *redact.Redactor
	// Transport sends the events to Sentry. Nil means the SDK's default
	// HTTP transport (asynchronous, buffered).
	Transport http.RoundTripper
}

// Reporter sends panics (as a monitor.Reporter) and 5xx responses (through
// Handler) to Sentry.
type Reporter struct {
	client  *sentrygo.Client
	cfg     Config
	red     *redact.Redactor
	allowed map[string]bool
}

var _ monitor.Reporter = (*Reporter)(nil)

var forbiddenHeaders = map[string]bool{"Authorization": true, "Cookie": true, "Proxy-Authorization": true, "Set-Cookie": true}

// New validates cfg and builds the Sentry client.
func New(cfg Config) (*Reporter, error) {
	if cfg.DSN == "" {
		return nil, errors.New("sentry: Config.DSN is empty; set it from the environment (SENTRY_DSN), never in code")
	}
	if cfg.Environment == "" {
		return nil, errors.New("sentry: Config.Environment is empty; name the deployment (\"production\", \"staging\")")
	}
	if cfg.Release == "" {
		cfg.Release = monitor.CurrentRelease().Revision
		if cfg.Release == "" {
			return nil, errors.New("sentry: Config.Release is empty and the binary carries no VCS revision; build from a git checkout or set Release")
		}
	}
	allow := cfg.AllowHeaders
	if allow == nil {
		allow = []string{"User-Agent", "Content-Type"}
	}
	r := &Reporter{cfg: cfg, red: cfg.Redactor, allowed: map[string]bool{}}
	if r.red == nil {
		r.red = redact.NewRedactor(nil)
	}
	for _, h := range allow {
		k := http.CanonicalHeaderKey(h)
		if forbiddenHeaders[k] || r.red.SensitiveKey(k) {
			return nil, fmt.Errorf("sentry: Config.AllowHeaders lists %s, which carries credentials; remove it", k)
		}
		r.allowed[k] = true
	}
	c, err := sentrygo.NewClient(sentrygo.ClientOptions{
		Dsn:            cfg.DSN,
		Environment:    cfg.Environment,
		Release:        cfg.Release,
		SendDefaultPII: false,
		HTTPTransport:  cfg.Transport,
		// No integrations: they would add source lines of every frame, the
		// module list and the process environment's details.
		Integrations: func([]sentrygo.Integration) []sentrygo.Integration { return nil },
		BeforeSend:   r.scrub,
		// Breadcrumbs are not used: they tend to collect URLs and messages.
		MaxBreadcrumbs: -1,
	})
	if err != nil {
		return nil, fmt.Errorf("sentry: Config.DSN: %w", err)
	}
	r.client = c
	return r, nil
}

// ErrorTracker names the tracker; readiness (MON002) recognises reporters
// that send panics beyond the process log this way.
func (r *Reporter) ErrorTracker() string { return "sentry" }

// Client returns the underlying Sentry client (for Flush at shutdown).
func (r *Reporter) Client() *sentrygo.Client { return r.client }

// Flush waits up to timeout for queued events to be sent; call it before
// the process exits.
func (r *Reporter) Flush(timeout time.Duration) bool { return r.client.Flush(timeout) }

// Report sends a recovered panic: the panic value (redacted), the stack of
// the panicking goroutine, the method, route pattern and request ID.
func (r *Reporter) Report(_ context.Context, p monitor.Panic) {
	ev := r.event(sentrygo.LevelFatal, p.Method, p.Route, p.RequestID, p.Time)
	st := sentrygo.NewStacktrace() // Report runs on the panicking goroutine, under the deferred recover
	if st != nil {
		for i := range st.Frames {
			st.Frames[i].Vars = nil
		}
	}
	ev.Exception = []sentrygo.Exception{{
		Type:       "panic",
		Value:      r.red.String(fmt.Sprint(p.Value)),
		Stacktrace: st,
		Mechanism:  &sentrygo.Mechanism{Type: "monitor.Recovery", Handled: boolPtr(true)},
	}}
	r.client.CaptureEvent(ev, nil, nil)
}

// ServerError sends one 5xx response as an event.
func (r *Reporter) ServerError(req *http.Request, status int, route string) {
	id := ""
	if r.cfg.RequestID != nil {
		id = r.cfg.RequestID(req)
	}
	ev := r.event(sentrygo.LevelError, req.Method, route, id, time.Now())
	ev.Message = fmt.Sprintf("%d %s on %s", status, http.StatusText(status), routeName(route))
	ev.Tags["status"] = fmt.Sprint(status)
	hdr := map[string]string{}
	for k := range r.allowed {
		if v := req.Header.Get(k); v != "" {
			hdr[k] = r.red.String(v)
		}
	}
	ev.Request = &sentrygo.Request{Method: req.Method, URL: route, Headers: hdr}
	r.client.CaptureEvent(ev, nil, nil)
}

func routeName(route string) string {
	if route == "" {
		return "(no route)"
	}
	return route
}

func (r *Reporter) event(level sentrygo.Level, method, route, requestID string, at time.Time) *sentrygo.Event {
	ev := sentrygo.NewEvent()
	ev.Level = level
	ev.Timestamp = at
	ev.Transaction = r.red.String(routeName(route))
	ev.Tags = map[string]string{"route": r.red.String(routeName(route)), "method": r.red.String(method)}
	if requestID != "" {
		ev.Tags["request_id"] = r.red.String(requestID)
	}
	return ev
}

// scrub is the BeforeSend hook: whatever built the event, only the
// allowlist leaves the process.
func (r *Reporter) scrub(ev *sentrygo.Event, _ *sentrygo.EventHint) *sentrygo.Event {
	if ev.Request != nil {
		ev.Request.Cookies, ev.Request.Data, ev.Request.QueryString = "", "", ""
		ev.Request.Env = nil
		if i := strings.IndexAny(ev.Request.URL, "?#"); i >= 0 {
			ev.Request.URL = ev.Request.URL[:i]
		}
		for k, v := range ev.Request.Headers {
			if !r.allowed[http.CanonicalHeaderKey(k)] {
				delete(ev.Request.Headers, k)
				continue
			}
			ev.Request.Headers[k] = r.red.String(v)
		}
	}
	ev.User = sentrygo.User{}
	ev.Breadcrumbs = nil
	ev.Message = r.red.String(ev.Message)
	for k, v := range ev.Tags {
		ev.Tags[k] = r.red.String(v)
	}
	for i := range ev.Exception {
		ev.Exception[i].Value = r.red.String(ev.Exception[i].Value)
		if st := ev.Exception[i].Stacktrace; st != nil {
			for j := range st.Frames {
				st.Frames[j].Vars = nil
				st.Frames[j].PreContext, st.Frames[j].ContextLine, st.Frames[j].PostContext = nil, "", nil
			}
		}
	}
	return ev
}

func boolPtr(b bool) *bool { return &b }

// Handler reports every 5xx response of next (a recovered panic's 500 is
// reported by monitor.Recovery, so put Handler inside Recover). Its
// response writer learns the route pattern from the route inventory
// (SetRoute) and keeps Unwrap for http.ResponseController.
func (r *Reporter) Handler(next http.Handler) http.Handler {
	if next == nil {
		panic("sentry: Reporter.Handler called with a nil handler")
	}
	return &ErrorHandler{rep: r, next: next}
}

// ErrorHandler is the handler Reporter.Handler returns; readiness finds it
// by walking the middleware chain.
type ErrorHandler struct {
	rep  *Reporter
	next http.Handler
}

// Unwrap returns the wrapped handler.
func (h *ErrorHandler) Unwrap() http.Handler { return h.next }

// Reporter returns the reporter the handler sends to.
func (h *ErrorHandler) Reporter() *Reporter { return h.rep }

func (h *ErrorHandler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	sw := &statusWriter{ResponseWriter: w}
	panicking := true
	defer func() {
		if panicking {
			return // Recovery reports the panic
		}
		if sw.status >= 500 {
			h.rep.ServerError(req, sw.status, sw.route)
		}
	}()
	h.next.ServeHTTP(sw, req)
	panicking = false
}

type statusWriter struct {
	http.ResponseWriter
	status int
	route  string
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// WriteString is Write for a string (io.StringWriter), so a handler's
// io.WriteString reaches the server's writer without a copy to bytes.
func (w *statusWriter) WriteString(s string) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return io.WriteString(w.ResponseWriter, s)
}

// SetRoute records the matched route pattern (called by authz.Mux).
func (w *statusWriter) SetRoute(pattern string) { w.route = pattern }

// Unwrap returns the wrapped writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
