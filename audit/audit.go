package audit

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
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
	rec.Time = a.cfg.Now().UTC()
	if err := a.cfg.Sink.Write(context.WithoutCancel(ctx), rec); err != nil {
		a.failures.Add(1)
		a.broken.Store(true)
		a.cfg.Logger.LogAttrs(ctx, slog.LevelError, "audit: record not stored",
			slog.String("error", err.Error()),
			slog.String("kind", rec.Kind), slog.String("action", rec.Action),
			slog.String("method", rec.Method), slog.String("route", rec.Route),
			slog.String("principal", rec.PrincipalID), slog.String("request_id", rec.RequestID))
		return err
	}
	a.broken.Store(false)
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
	if !a.cfg.InsecureFailOpen && a.broken.Load() {
		writeUnavailable(aw)
		rec := a.record(aw, r, http.StatusServiceUnavailable)
		rec.Outcome = OutcomeRejected
		_ = a.write(r.Context(), rec)
		return
	}
	// Hold the response until the record is stored, so no change is
	// answered 2xx without its record (see "When the sink fails").
	aw.hold = !a.cfg.InsecureFailOpen
	before := w.Header().Clone()
	completed := false
	defer func() {
		status := aw.status
		if !completed {
			status = http.StatusInternalServerError
		} else if status == 0 {
			status = http.StatusOK
		}
		err := a.write(r.Context(), a.record(aw, r, status))
		if !completed {
			return // the panic goes on; the held response is dropped
		}
		if err != nil && aw.hold && !aw.released {
			// Not recorded: answer 503 instead of what the handler said.
			h := w.Header()
			clear(h)
			maps.Copy(h, before)
			writeUnavailableAfter(w)
			return
		}
		aw.release()
	}()
	h.next.ServeHTTP(aw, r)
	completed = true
}

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
	heldStatus int
	held       []byte
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

func (w *auditWriter) WriteHeader(code int) {
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

// release sends what is held.
func (w *auditWriter) release() {
	if w.released {
		return
	}
	w.released = true
	if w.heldStatus != 0 {
		w.ResponseWriter.WriteHeader(w.heldStatus)
	}
	if len(w.held) > 0 {
		_, _ = w.ResponseWriter.Write(w.held)
		w.held = nil
	}
}

// FlushError sends the held response and flushes: a streaming handler
// gives up the hold (its record is still written when it returns).
func (w *auditWriter) FlushError() error {
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
func objects(pattern string, r *http.Request) map[string]string {
	_, path := splitPattern(pattern)
	if path == "" {
		return nil
	}
	psegs := strings.Split(path, "/")
	rsegs := strings.Split(r.URL.EscapedPath(), "/")
	var out map[string]string
	for i, seg := range psegs {
		if len(seg) < 3 || seg[0] != '{' || seg[len(seg)-1] != '}' {
			continue
		}
		name := seg[1 : len(seg)-1]
		rest := strings.HasSuffix(name, "...")
		name = strings.TrimSuffix(name, "...")
		if name == "$" || name == "" {
			continue
		}
		var v string
		if r.Pattern == pattern {
			v = r.PathValue(name)
		} else if i < len(rsegs) {
			raw := rsegs[i]
			if rest {
				raw = strings.Join(rsegs[i:], "/")
			}
			if u, err := url.PathUnescape(raw); err == nil {
				v = u
			} else {
				v = raw
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
	return out
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
