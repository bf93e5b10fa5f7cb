package audit

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// Config configures an Auditor.
type Config struct {
	// Sink stores the records. Required: OpenFile for the default
	// append-only file, or the app's own (database table, log shipper).
	Sink Sink

	// Principal returns who is acting, when the route inventory does not
	// announce it through SetPrincipal (for example when the middleware
	// sits inside a route and can read authz's context). Nil means only
	// the annotation is used.
	Principal func(*http.Request) (id, tenant string)

	// RequestID returns the request's ID. Nil means none.
	RequestID func(*http.Request) string

	// ClientIP returns the client's address as the app determines it
	// (behind a proxy: from the trusted-proxy logic, e.g. ratelimit's
	// IPResolver), so records of anonymous events (failed logins,
	// refusals) say where they came from. Nil records none (AUDIT006).
	ClientIP func(*http.Request) string

	// AllMethods records every request, reads included, instead of only
	// mutating ones (every method but GET, HEAD and OPTIONS).
	AllMethods bool

	// InsecureFailOpen keeps serving mutating requests while the sink is
	// failing, so changes happen without an audit record. The default
	// refuses them with 503 until the sink works again.
	InsecureFailOpen bool

	// Logger receives sink failures. Nil discards them.
	Logger *slog.Logger

	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// Auditor records mutating requests and explicit events.
type Auditor struct {
	cfg      Config
	broken   atomic.Bool
	failures atomic.Uint64
}

// New validates cfg and returns an Auditor.
func New(cfg Config) (*Auditor, error) {
	if cfg.Sink == nil {
		return nil, errors.New("audit: Config.Sink is nil; pass audit.OpenFile(path, nil) or your own Sink")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Auditor{cfg: cfg}, nil
}

// Sink returns the configured sink.
func (a *Auditor) Sink() Sink { return a.cfg.Sink }

// AllMethods reports whether reads are recorded too.
func (a *Auditor) AllMethods() bool { return a.cfg.AllMethods }

// FailOpen reports whether mutating requests are served while the sink fails.
func (a *Auditor) FailOpen() bool { return a.cfg.InsecureFailOpen }

// RecordsClientIP reports whether records carry the client address
// (Config.ClientIP is set).
func (a *Auditor) RecordsClientIP() bool { return a.cfg.ClientIP != nil }

// RecordsRequestID reports whether records carry the request ID.
func (a *Auditor) RecordsRequestID() bool { return a.cfg.RequestID != nil }

// Failures returns how many records the sink failed to store.
func (a *Auditor) Failures() uint64 { return a.failures.Load() }

// Healthy reports whether the last write to the sink succeeded.
func (a *Auditor) Healthy() bool { return !a.broken.Load() }

// Mutating reports whether a request method changes state: every method but
// GET, HEAD and OPTIONS (unknown methods count as mutating).
func Mutating(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// Event is an explicit audit event from a handler.
type Event struct {
	// Action names the event: "export", "login", "password_change".
	// Required.
	Action string
	// Outcome is OutcomeSuccess when empty.
	Outcome string
	// PrincipalID and Tenant override Config.Principal (for example a login
	// event names the account that just logged in).
	PrincipalID, Tenant string
	// Objects identify what the event is about ({"client": "c-1"}). Never
	// put secrets, passwords or personal data here.
	Objects map[string]string
}

// Event records e for request r (route, method, request ID, principal from
// Config.Principal unless e names one) and returns the sink's error, so a
// handler can refuse an action it cannot record.
func (a *Auditor) Event(r *http.Request, e Event) error {
	if e.Action == "" {
		return errors.New("audit: Event.Action is empty; name the event (\"export\", \"login\")")
	}
	rec := Record{Kind: "event", Action: e.Action, Outcome: e.Outcome, Objects: e.Objects,
		PrincipalID: e.PrincipalID, Tenant: e.Tenant}
	if rec.Outcome == "" {
		rec.Outcome = OutcomeSuccess
	}
	if r != nil {
		rec.Method, rec.Route = r.Method, r.Pattern
		if rec.PrincipalID == "" && rec.Tenant == "" && a.cfg.Principal != nil {
			rec.PrincipalID, rec.Tenant = a.cfg.Principal(r)
		}
		if a.cfg.RequestID != nil {
			rec.RequestID = a.cfg.RequestID(r)
		}
		if a.cfg.ClientIP != nil {
			rec.ClientIP = a.cfg.ClientIP(r)
		}
	}
	ctx := context.Background()
	if r != nil {
		ctx = r.Context()
	}
	return a.write(ctx, rec)
}

func (a *Auditor) write(ctx context.Context, rec Record) error {
	return a.store(context.WithoutCancel(ctx), ctx, rec)
}

// store writes rec to the sink with ctx, a context that is never canceled
// (a client that hangs up must not cost the record of a change that
// happened); logCtx is the request's own, for the failure log.
func (a *Auditor) store(ctx, logCtx context.Context, rec Record) error {
	rec.Time = a.cfg.Now().UTC()
	if err := a.cfg.Sink.Write(ctx, rec); err != nil {
		a.failures.Add(1)
		a.broken.Store(true)
		a.cfg.Logger.LogAttrs(logCtx, slog.LevelError, "audit: record not stored",
			slog.String("error", err.Error()),
			slog.String("kind", rec.Kind), slog.String("action", rec.Action),
			slog.String("method", rec.Method), slog.String("route", rec.Route),
			slog.String("principal", rec.PrincipalID), slog.String("request_id", rec.RequestID))
		return err
	}
	if a.broken.Load() {
		// Only a change is written: every request storing false would
		// bounce the flag's cache line between cores.
		a.broken.Store(false)
	}
	return nil
}

// Handler wraps next so every mutating request is recorded once, after the
// handler returns (or panics: outcome "error", status 500).
func (a *Auditor) Handler(next http.Handler) http.Handler {
	if next == nil {
		panic("audit: Auditor.Handler called with a nil handler")
	}
	return &Handler{a: a, next: next}
}

// Handler is the middleware Auditor.Handler returns. readiness finds it in
// the global chain or a route's chain (AUDIT001) and reads its sink
// (AUDIT002).
type Handler struct {
	a    *Auditor
	next http.Handler
}

// Unwrap returns the wrapped handler.
func (h *Handler) Unwrap() http.Handler { return h.next }

// Auditor returns the auditor (sink and settings).
func (h *Handler) Auditor() *Auditor { return h.a }

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a := h.a
	if !a.cfg.AllMethods && !Mutating(r.Method) {
		h.next.ServeHTTP(w, r)
		return
	}
	aw := &auditWriter{ResponseWriter: w}
	aw.held = aw.buf[:0]
	aw.ctx.parent = r.Context()
	if !a.cfg.InsecureFailOpen && a.broken.Load() {
		writeUnavailable(aw)
		rec := a.record(aw, r, http.StatusServiceUnavailable)
		rec.Outcome = OutcomeRejected
		_ = a.store(&aw.ctx, r.Context(), rec)
		return
	}
	// Hold the response until the record is stored, so no change is
	// answered 2xx without its record (see "When the sink fails"). The
	// header as it was before the handler ran is kept, to answer 503
	// without the handler's headers if the record cannot be stored.
	aw.hold = !a.cfg.InsecureFailOpen
	var (
		keys   [snapshotKeys]string
		counts [snapshotKeys]int
		vals   [snapshotVals]string
		before headerSnapshot
	)
	if aw.hold {
		before = headerSnapshot{keys[:0], counts[:0], vals[:0]}.take(w.Header())
	}
	completed := false
	defer func() {
		status := aw.status
		if !completed {
			status = http.StatusInternalServerError
		} else if status == 0 {
			status = http.StatusOK
		}
		err := a.store(&aw.ctx, r.Context(), a.record(aw, r, status))
		if !completed {
			aw.drop()
			return // the panic goes on; the held response is dropped
		}
		if err != nil && aw.hold && !aw.released {
			// Not recorded: answer 503 instead of what the handler said.
			aw.drop()
			before.restore(w.Header())
			writeUnavailableAfter(w)
			return
		}
		aw.release()
	}()
	h.next.ServeHTTP(aw, r)
	completed = true
}

// headerSnapshot is a response header as it was before the handler ran:
// the keys, each one's number of values (-1 for a nil slice) and the values
// in one run. Its slices start in arrays on ServeHTTP's stack, so unlike a
// Header.Clone it costs no allocation (and no write barrier) for a header
// of up to snapshotKeys keys and snapshotVals values.
type headerSnapshot struct {
	keys   []string
	counts []int
	vals   []string
}

// The arrays a snapshot starts in: what the kit's own middleware sets
// (security headers, CORS, Vary) fits with room to spare.
const (
	snapshotKeys = 16
	snapshotVals = 24
)

// take returns s with h's keys and values appended.
func (s headerSnapshot) take(h http.Header) headerSnapshot {
	for k, vv := range h {
		s.keys = append(s.keys, k)
		if vv == nil {
			s.counts = append(s.counts, -1)
			continue
		}
		s.counts = append(s.counts, len(vv))
		s.vals = append(s.vals, vv...)
	}
	return s
}

// restore makes h what it was when the snapshot was taken, with values of
// its own (as Header.Clone, one backing array for all of them).
func (s headerSnapshot) restore(h http.Header) {
	clear(h)
	vals := append(make([]string, 0, len(s.vals)), s.vals...)
	off := 0
	for i, k := range s.keys {
		n := s.counts[i]
		if n < 0 {
			h[k] = nil
			continue
		}
		h[k] = vals[off : off+n : off+n]
		off += n
	}
}

// detached is the request's context without its cancellation, as
// context.WithoutCancel, living inside the auditWriter so it costs no
// allocation of its own.
type detached struct{ parent context.Context }

func (detached) Deadline() (time.Time, bool) { return time.Time{}, false }
func (detached) Done() <-chan struct{}       { return nil }
func (detached) Err() error                  { return nil }
func (c *detached) Value(key any) any        { return c.parent.Value(key) }
func (c *detached) String() string           { return "audit.detached" }

func (a *Auditor) record(aw *auditWriter, r *http.Request, status int) Record {
	rec := Record{Kind: "request", Method: r.Method, Status: status, Outcome: OutcomeOf(status)}
	rec.Route = r.Pattern
	aw.mu.Lock()
	route, hasRoute, id, tenant, hasPrincipal := aw.route, aw.hasRoute, aw.id, aw.tenant, aw.hasPrincipal
	aw.mu.Unlock()
	if hasRoute {
		rec.Route = route
	}
	if hasPrincipal {
		rec.PrincipalID, rec.Tenant = id, tenant
	} else if a.cfg.Principal != nil {
		rec.PrincipalID, rec.Tenant = a.cfg.Principal(r)
	}
	if a.cfg.RequestID != nil {
		rec.RequestID = a.cfg.RequestID(r)
	}
	if a.cfg.ClientIP != nil {
		rec.ClientIP = a.cfg.ClientIP(r)
	}
	rec.Objects = objects(rec.Route, r)
	return rec
}

// auditWriter learns the route and principal from the inventory and the
// final status from the handler.
type auditWriter struct {
	http.ResponseWriter
	status int
	// With hold, the status and up to maxHeld bytes of body wait until
	// the record is stored (release); a Flush, or a longer body, releases
	// them early.
	hold       bool
	released   bool
	dropped    bool
	heldStatus int
	held       []byte
	// buf is held's first backing array: a small response is held
	// without an allocation of its own.
	buf [heldInline]byte
	// ctx is the context the record is stored with.
	ctx detached
	// The annotations are guarded by mu rather than held in atomic
	// pointers, which would allocate on every request.
	mu           sync.Mutex
	route        string
	hasRoute     bool
	id, tenant   string
	hasPrincipal bool
}

// maxHeld bounds the body held back until the record is stored.
const maxHeld = 64 << 10

// heldInline is how much of a held body fits in the writer itself.
const heldInline = 256

func (w *auditWriter) WriteHeader(code int) {
	if w.dropped {
		return
	}
	if code >= 200 && w.status == 0 {
		w.status = code
		if w.hold && !w.released {
			w.heldStatus = code
			return
		}
	} else if code >= 200 {
		return // superfluous, as net/http would say
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *auditWriter) Write(b []byte) (int, error) {
	if w.dropped {
		return 0, errDropped
	}
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.hold && !w.released {
		if len(w.held)+len(b) <= maxHeld {
			w.held = append(w.held, b...)
			return len(b), nil
		}
		w.release()
	}
	return w.ResponseWriter.Write(b)
}

// WriteString is Write for a string (io.StringWriter): a held string is
// copied into the held body without first being converted to bytes.
func (w *auditWriter) WriteString(s string) (int, error) {
	if w.dropped {
		return 0, errDropped
	}
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.hold && !w.released {
		if len(w.held)+len(s) <= maxHeld {
			w.held = append(w.held, s...)
			return len(s), nil
		}
		w.release()
	}
	return io.WriteString(w.ResponseWriter, s)
}

// release sends what is held.
func (w *auditWriter) release() {
	if w.released || w.dropped {
		return
	}
	w.released = true
	if w.heldStatus != 0 {
		w.ResponseWriter.WriteHeader(w.heldStatus)
	}
	if len(w.held) > 0 {
		_, _ = w.ResponseWriter.Write(w.held)
	}
	w.held = nil
}

// drop discards what is held: it is never sent, and nothing written later
// (by a goroutine the handler left behind) is sent either.
func (w *auditWriter) drop() {
	w.dropped = true
	w.heldStatus = 0
	w.held = nil
}

// errDropped answers writes to a response the middleware dropped.
var errDropped = errors.New("audit: the response was dropped (its handler panicked, or its record could not be stored)")

// FlushError sends the held response and flushes: a streaming handler
// gives up the hold (its record is still written when it returns).
func (w *auditWriter) FlushError() error {
	if w.dropped {
		return errDropped
	}
	w.release()
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Flush is FlushError without the error.
func (w *auditWriter) Flush() { _ = w.FlushError() }

// Unwrap returns the wrapped writer.
func (w *auditWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// SetRoute records the matched route pattern (called by the inventory).
func (w *auditWriter) SetRoute(pattern string) {
	w.mu.Lock()
	w.route, w.hasRoute = pattern, true
	w.mu.Unlock()
}

// SetPrincipal records who is acting (called by the inventory after
// authentication).
func (w *auditWriter) SetPrincipal(id, tenant string) {
	w.mu.Lock()
	w.id, w.tenant, w.hasPrincipal = id, tenant, true
	w.mu.Unlock()
}

const maxObjectLen = 128

// objects returns the route's wildcard values. Inside the mux they come from
// r.PathValue; outside it they are cut from the escaped path by position.
// It walks the pattern and the path in place: nothing is allocated but the
// map it returns.
func objects(pattern string, r *http.Request) map[string]string {
	_, path := splitPattern(pattern)
	if path == "" {
		return nil
	}
	inside := r.Pattern == pattern
	var escaped string
	var out map[string]string
	for i, p := 0, path; ; i++ {
		seg, next, more := strings.Cut(p, "/")
		if len(seg) >= 3 && seg[0] == '{' && seg[len(seg)-1] == '}' {
			name := seg[1 : len(seg)-1]
			rest := strings.HasSuffix(name, "...")
			name = strings.TrimSuffix(name, "...")
			if name != "$" && name != "" {
				var v string
				if inside {
					v = r.PathValue(name)
				} else {
					if escaped == "" {
						escaped = r.URL.EscapedPath()
					}
					if raw, tail, ok := pathSegment(escaped, i); ok {
						if rest {
							raw = tail
						}
						if u, err := url.PathUnescape(raw); err == nil {
							v = u
						} else {
							v = raw
						}
					}
				}
				if secretName(name) {
					v = "[redacted]"
				} else if len(v) > maxObjectLen {
					n := maxObjectLen
					for n > 0 && !utf8.RuneStart(v[n]) {
						n--
					}
					v = v[:n] + "…"
				}
				if out == nil {
					out = map[string]string{}
				}
				out[name] = v
			}
		}
		if !more {
			return out
		}
		p = next
	}
}

// pathSegment returns the i-th of path's "/"-separated segments (counting
// from 0, the empty one before a leading slash) and the path from that
// segment on; ok is false when path has no i-th segment.
func pathSegment(path string, i int) (seg, tail string, ok bool) {
	for ; i > 0; i-- {
		j := strings.IndexByte(path, '/')
		if j < 0 {
			return "", "", false
		}
		path = path[j+1:]
	}
	seg, _, _ = strings.Cut(path, "/")
	return seg, path, true
}

func splitPattern(pattern string) (method, path string) {
	p := strings.TrimSpace(pattern)
	if i := strings.IndexAny(p, " \t"); i >= 0 {
		method, p = p[:i], strings.TrimLeft(p[i:], " \t")
	}
	if i := strings.IndexByte(p, '/'); i >= 0 {
		return method, p[i:]
	}
	return method, ""
}

func secretName(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"token", "secret", "password", "passwd", "key", "code", "signature", "sig", "otp", "nonce"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// writeUnavailableAfter answers a change whose record could not be stored.
func writeUnavailableAfter(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	h.Set("Retry-After", "30")
	w.WriteHeader(http.StatusServiceUnavailable)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type": "about:blank", "title": "Service Unavailable", "status": 503,
		"detail": "the audit trail could not record this change; it may have been applied: check before retrying",
	})
}

func writeUnavailable(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	h.Set("Retry-After", "30")
	w.WriteHeader(http.StatusServiceUnavailable)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type": "about:blank", "title": "Service Unavailable", "status": 503,
		"detail": "changes are paused because the audit trail cannot record them",
	})
}
