package redact

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// AccessLogConfig configures the access-log middleware.
type AccessLogConfig struct {
	// Logger receives one Info record per request (NewAccessLog). Nil
	// discards. Wrap its handler with NewHandler so even the logged fields
	// are redacted. NewAccessLogWriter writes its own lines and refuses a
	// config with a Logger.
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
//
// It logs either through a *slog.Logger (NewAccessLog) or by writing one
// JSON line per request itself (NewAccessLogWriter), which is several
// times cheaper and redacts every field with the same detectors.
type AccessLog struct {
	next http.Handler
	cfg  AccessLogConfig
	line *lineFormat // set by NewAccessLogWriter: write lines, not records
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
	if cfg.Message == "" {
		cfg.Message = "http request"
	}
	return cfg
}

// NewAccessLogWriter wraps next and writes one JSON object per request, on
// one line, to w: the keys and values of NewAccessLog's record through
// slog.JSONHandler, in the same order and encoding (duration in
// nanoseconds), except that time is when the request finished by cfg.Now
// (slog stamps records with time.Now), in UTC to the millisecond:
//
//	{"time":"2026-01-01T09:30:00.125Z","level":"INFO","msg":"http request",
//	 "method":"GET","route":"GET /api/clients/{id}","status":200,
//	 "duration":1250000,"bytes":512,"client_ip":"203.0.113.9",
//	 "principal":"u-7","tenant":"client-a","request_id":"req-1"}
//
// It builds the line in a pooled buffer without slog's record and attribute
// walk: well under a microsecond per request and no allocation beyond the
// response-writer wrapper, a fraction of the slog path's cost.
//
// Every string field passes r before it is written, just as the fields of
// NewAccessLog pass a redact.Handler: detected secrets and personal data are
// masked span by span, and a field whose name is sensitive to r (Options.Keys)
// is replaced whole. Nil r is NewRedactor(nil); give the app logger's
// Handler.Redactor() so both logs mask alike (same Keys, same HashKey).
// Strings are escaped as encoding/json does: control characters, quotes,
// backslashes, '<', '>', '&', U+2028 and U+2029 are escaped and invalid
// UTF-8 becomes \ufffd, so a value can neither forge a line nor reach a
// terminal raw. (slog's JSON handler leaves '<', '>' and '&' as they are;
// both decode to the same strings.)
//
// Each line is one w.Write call. w must be safe for concurrent use, since
// requests finish concurrently: *os.File (os.Stdout, os.Stderr) is; wrap a
// bytes.Buffer or similar in a mutex. Write errors are ignored, as
// slog.Logger ignores its handler's.
//
// It refuses a nil w (pass io.Discard to log nothing) and a cfg with a
// Logger: one access log writes to one place.
func NewAccessLogWriter(next http.Handler, w io.Writer, r *Redactor, cfg AccessLogConfig) (*AccessLog, error) {
	if w == nil {
		return nil, errors.New("redact: NewAccessLogWriter: the writer is nil; pass io.Discard to log nothing")
	}
	if cfg.Logger != nil {
		return nil, errors.New("redact: NewAccessLogWriter: AccessLogConfig.Logger is set, but this access log writes its own lines to the writer; leave Logger nil, or use NewAccessLog to log through the Logger")
	}
	if r == nil {
		r = NewRedactor(nil)
	}
	cfg = defaults(cfg)
	return &AccessLog{next: next, cfg: cfg, line: newLineFormat(w, r, cfg.Message)}, nil
}

// Unwrap returns the wrapped handler.
func (a *AccessLog) Unwrap() http.Handler { return a.next }

// Logger returns the logger records go to; nil when the access log writes
// its own lines (NewAccessLogWriter).
func (a *AccessLog) Logger() *slog.Logger { return a.cfg.Logger }

// Writer returns the writer lines go to (NewAccessLogWriter); nil when
// records go to a Logger.
func (a *AccessLog) Writer() io.Writer {
	if a.line == nil {
		return nil
	}
	return a.line.w
}

// Redactor returns the redactor every field of a line passes
// (NewAccessLogWriter); nil when records go to a Logger, whose handler
// redacts.
func (a *AccessLog) Redactor() *Redactor {
	if a.line == nil {
		return nil
	}
	return a.line.r
}

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
	defer a.log(rw, r, a.now())
	a.next.ServeHTTP(rw, r)
}

// log writes the record of a finished (or panicking: status 500, then the
// panic goes on) request. It is deferred, so recover sees the panic.
func (a *AccessLog) log(rw *accessWriter, r *http.Request, start time.Time) {
	p := recover()
	var end time.Time
	if a.cfg.Now != nil {
		end = a.cfg.Now()
	} else {
		// The real clock: one monotonic read gives the duration, and the
		// end's wall time follows from the start's.
		end = start.Add(time.Since(start))
	}
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
	if a.line != nil {
		a.line.write(end, &e)
	} else {
		a.logRecord(r, &e)
	}
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

func (a *AccessLog) now() time.Time {
	if a.cfg.Now != nil {
		return a.cfg.Now()
	}
	return time.Now()
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

// WriteString is Write for a string (io.StringWriter), so a handler's
// io.WriteString reaches the server's writer without a copy to bytes.
func (w *accessWriter) WriteString(s string) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := io.WriteString(w.ResponseWriter, s)
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
