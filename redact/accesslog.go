package redact

import (
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// AccessLogConfig configures the access-log middleware.
type AccessLogConfig struct {
	// Logger receives one Info record per request. Nil discards. Wrap its
	// handler with NewHandler so even the logged fields are redacted.
	Logger *slog.Logger
	// ClientIP returns the client IP for a request. Supply the ratelimit
	// package's resolver (trusted-proxy aware) through a one-line func; nil
	// logs the peer address (RemoteAddr host), never forwarding headers.
	ClientIP func(*http.Request) string
	// RequestID returns the request ID (from the app's request-ID middleware
	// or header). Nil omits it.
	RequestID func(*http.Request) string
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Message is the record message; empty is "http request".
	Message string
}

// AccessLog is an access-log middleware. Each record carries the method,
// the matched route pattern (learned through SetRoute on the response
// writer, never the raw path), status, duration, bytes written, client IP,
// principal and tenant (through SetPrincipal), and request ID. It never
// records headers, cookies, bodies or query strings.
type AccessLog struct {
	next http.Handler
	cfg  AccessLogConfig
}

// NewAccessLog wraps next. It returns a walkable handler (Unwrap, accessors).
func NewAccessLog(next http.Handler, cfg AccessLogConfig) *AccessLog {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Message == "" {
		cfg.Message = "http request"
	}
	return &AccessLog{next: next, cfg: cfg}
}

// Unwrap returns the wrapped handler.
func (a *AccessLog) Unwrap() http.Handler { return a.next }

// Logger returns the logger records go to.
func (a *AccessLog) Logger() *slog.Logger { return a.cfg.Logger }

// LogsQuery reports whether raw query strings are logged: never.
func (a *AccessLog) LogsQuery() bool { return false }

// LogsHeaders reports whether request headers or cookies are logged: never.
func (a *AccessLog) LogsHeaders() bool { return false }

// LogsRawPath reports whether the raw request path (which may carry tokens
// such as reset links) is logged instead of the route pattern: never.
func (a *AccessLog) LogsRawPath() bool { return false }

// Fields lists the attribute keys each record carries.
func (a *AccessLog) Fields() []string {
	f := []string{"method", "route", "status", "duration", "bytes", "client_ip", "principal", "tenant"}
	if a.cfg.RequestID != nil {
		f = append(f, "request_id")
	}
	return f
}

// ServeHTTP serves the request and writes one record.
func (a *AccessLog) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := a.cfg.Now()
	rw := &accessWriter{ResponseWriter: w}
	defer func() {
		p := recover()
		status := rw.status
		if status == 0 {
			status = http.StatusOK
			if p != nil {
				status = http.StatusInternalServerError
			}
		}
		rw.mu.Lock()
		route, principal, tenant := rw.route, rw.principal, rw.tenant
		rw.mu.Unlock()
		if route == "" {
			route = "(unmatched)"
		}
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Duration("duration", a.cfg.Now().Sub(start)),
			slog.Int64("bytes", rw.bytes),
			slog.String("client_ip", a.clientIP(r)),
		}
		if principal != "" {
			attrs = append(attrs, slog.String("principal", principal), slog.String("tenant", tenant))
		}
		if a.cfg.RequestID != nil {
			attrs = append(attrs, slog.String("request_id", a.cfg.RequestID(r)))
		}
		a.cfg.Logger.LogAttrs(r.Context(), slog.LevelInfo, a.cfg.Message, attrs...)
		if p != nil {
			panic(p)
		}
	}()
	a.next.ServeHTTP(rw, r)
}

func (a *AccessLog) clientIP(r *http.Request) string {
	if a.cfg.ClientIP != nil {
		return a.cfg.ClientIP(r)
	}
	host := r.RemoteAddr
	for i := len(host) - 1; i >= 0; i-- {
		if host[i] == ':' {
			host = host[:i]
			break
		}
		if host[i] == ']' {
			break
		}
	}
	if len(host) > 1 && host[0] == '[' && host[len(host)-1] == ']' {
		host = host[1 : len(host)-1]
	}
	return host
}

// accessWriter records status and size and receives the route and
// principal annotations.
type accessWriter struct {
	http.ResponseWriter
	status int
	bytes  int64

	mu                       sync.Mutex
	route, principal, tenant string
}

func (w *accessWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *accessWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// SetRoute receives the matched route pattern from the route inventory.
func (w *accessWriter) SetRoute(pattern string) {
	w.mu.Lock()
	w.route = pattern
	w.mu.Unlock()
}

// SetPrincipal receives the authenticated principal from the inventory.
func (w *accessWriter) SetPrincipal(id, tenant string) {
	w.mu.Lock()
	w.principal, w.tenant = id, tenant
	w.mu.Unlock()
}

// Unwrap returns the underlying writer for http.ResponseController.
func (w *accessWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
