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

// NewAccessLog wraps next and logs one record per request through
// cfg.Logger. It returns a walkable handler (Unwrap, accessors).
func NewAccessLog(next http.Handler, cfg AccessLogConfig) *AccessLog {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &AccessLog{next: next, cfg: defaults(cfg)}
}

func defaults(cfg AccessLogConfig) AccessLogConfig {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Message == "" {
		cfg.Message = "http request"
	}
	return cfg
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
	rw := &accessWriter{ResponseWriter: w}
	defer a.log(rw, r, a.cfg.Now())
	a.next.ServeHTTP(rw, r)
}

// log writes the record of a finished (or panicking: status 500, then the
// panic goes on) request. It is deferred, so recover sees the panic.
func (a *AccessLog) log(rw *accessWriter, r *http.Request, start time.Time) {
	p := recover()
	end := a.cfg.Now()
	e := entry{
		method:   r.Method,
		status:   rw.status,
		duration: end.Sub(start),
		bytes:    rw.bytes,
		clientIP: a.clientIP(r),
	}
	if e.status == 0 {
		e.status = http.StatusOK
		if p != nil {
			e.status = http.StatusInternalServerError
		}
	}
	rw.mu.Lock()
	e.route, e.principal, e.tenant = rw.route, rw.principal, rw.tenant
	rw.mu.Unlock()
	if e.route == "" {
		e.route = "(unmatched)"
	}
	if a.cfg.RequestID != nil {
		e.requestID, e.hasRequestID = a.cfg.RequestID(r), true
	}
	a.logRecord(r, &e)
	if p != nil {
		panic(p)
	}
}

// entry is one request's fields.
type entry struct {
	method, route               string
	status                      int
	duration                    time.Duration
	bytes                       int64
	clientIP, principal, tenant string
	requestID                   string
	hasRequestID                bool
}

// logRecord logs e through the Logger. The attributes live in an array on
// the stack: no slice to allocate beyond the record's own.
func (a *AccessLog) logRecord(r *http.Request, e *entry) {
	ctx := r.Context()
	if !a.cfg.Logger.Enabled(ctx, slog.LevelInfo) {
		return
	}
	var attrs [9]slog.Attr
	attrs[0] = slog.String("method", e.method)
	attrs[1] = slog.String("route", e.route)
	attrs[2] = slog.Int("status", e.status)
	attrs[3] = slog.Duration("duration", e.duration)
	attrs[4] = slog.Int64("bytes", e.bytes)
	attrs[5] = slog.String("client_ip", e.clientIP)
	n := 6
	if e.principal != "" {
		attrs[n], attrs[n+1] = slog.String("principal", e.principal), slog.String("tenant", e.tenant)
		n += 2
	}
	if e.hasRequestID {
		attrs[n] = slog.String("request_id", e.requestID)
		n++
	}
	a.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, a.cfg.Message, attrs[:n]...)
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
