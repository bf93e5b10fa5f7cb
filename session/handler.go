package session

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"
)

// Handler is the session middleware returned by Manager.Handler.
type Handler struct {
	m    *Manager
	next http.Handler
}

// Handler returns middleware that loads the request's session before next
// runs and saves it (writing the cookie) before the response is written.
// The returned *Handler is walkable by readiness.
func (m *Manager) Handler(next http.Handler) http.Handler {
	return &Handler{m: m, next: next}
}

// Unwrap returns the wrapped handler.
func (h *Handler) Unwrap() http.Handler { return h.next }

// Manager returns the manager whose sessions this handler loads.
func (h *Handler) Manager() *Manager { return h.m }

// Settings returns the manager's effective settings.
func (h *Handler) Settings() Settings { return h.m.Settings() }

// ServeHTTP loads the session, runs the wrapped handler and saves the
// session before the first byte of the response.
//
// It does what scs's LoadAndSave does, through scs's public API (Load,
// Status, Commit, WriteSessionCookie), so the scs data API on
// Manager.Engine keeps working in handlers, with these differences:
// the session cookie is read without parsing every cookie of the request;
// an informational (1xx) WriteHeader does not save the session, which
// could still change before the final response; Flush saves it first, so
// the cookie is not lost in already-sent headers; and when saving fails,
// the error handler's answer is the response (the handler's later writes
// are dropped, where scs would append them to it).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := h.m
	w.Header().Add("Vary", "Cookie")
	rq := &request{parent: r.Context(), m: m, w: w, r: r}
	rq.token = cookieValue(r.Header["Cookie"], m.sm.Cookie.Name)
	if err := rq.load(); err != nil {
		m.sm.ErrorFunc(w, r, err)
		return
	}
	r = r.WithContext(rq.sctx)
	rq.r = r
	h.next.ServeHTTP(sessionWriter{rq}, r)
	rq.commit()
}

// request is the session state of one request; ServeHTTP allocates it
// once and hands it to the handler as the response writer (sessionWriter).
type request struct {
	parent context.Context // the request's context before the session
	m      *Manager
	w      http.ResponseWriter // the response writer ServeHTTP was given
	r      *http.Request       // the request next runs with, for ErrorFunc
	token  string              // the session cookie's value, "" when none

	mu      sync.Mutex
	sctx    context.Context // scs's context holding the session, once loaded
	loadErr error

	// Used only by the goroutine writing the response.
	written bool // commit ran
	failed  bool // and ErrorFunc answered instead of the handler
}

// load loads the session through scs (or starts a new one) unless it is
// loaded already, and returns the error of the first load.
func (rq *request) load() error {
	rq.mu.Lock()
	defer rq.mu.Unlock()
	if rq.sctx == nil {
		rq.sctx, rq.loadErr = rq.m.sm.Load(rq.parent, rq.token)
		if rq.loadErr != nil {
			// scs panics without session data: give the handler an empty
			// session; commit reports the error instead of saving it.
			rq.sctx, _ = rq.m.sm.Load(rq.parent, "")
		}
	}
	return rq.loadErr
}

// commit saves the session once, before the first byte of the response,
// and answers with ErrorFunc when that fails. It reports whether the
// handler's response may be written.
func (rq *request) commit() bool {
	if rq.written {
		return !rq.failed
	}
	rq.written = true
	if err := rq.save(); err != nil {
		rq.failed = true
		rq.m.sm.ErrorFunc(rq.w, rq.r, err)
	}
	return !rq.failed
}

// save saves the session if it was modified and writes the cookie, or
// expires the cookie of a destroyed session, as scs's LoadAndSave does.
func (rq *request) save() error {
	if err := rq.load(); err != nil {
		return err
	}
	sm, ctx := rq.m.sm, rq.sctx
	switch sm.Status(ctx) {
	case scs.Modified:
		token, expiry, err := sm.Commit(ctx)
		if err != nil {
			return err
		}
		sm.WriteSessionCookie(ctx, rq.w, token, expiry)
	case scs.Destroyed:
		sm.WriteSessionCookie(ctx, rq.w, "", time.Time{})
	}
	return nil
}

// errNotSaved is what Write returns after the session could not be saved
// and ErrorFunc answered the request.
var errNotSaved = errors.New("session: the session could not be saved; the error handler answered the request")

// sessionWriter saves the session before the response's header is sent.
// It keeps Unwrap, Flush and Hijack, so http.ResponseController and
// streaming keep working through the middleware.
type sessionWriter struct{ rq *request }

func (sw sessionWriter) Header() http.Header { return sw.rq.w.Header() }

func (sw sessionWriter) Write(p []byte) (int, error) {
	if !sw.rq.commit() {
		return 0, errNotSaved
	}
	return sw.rq.w.Write(p)
}

func (sw sessionWriter) WriteHeader(code int) {
	// An informational response (103 Early Hints) is not the response:
	// the session may still change. 101 Switching Protocols is final.
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		if !sw.rq.failed {
			sw.rq.w.WriteHeader(code)
		}
		return
	}
	if sw.rq.commit() {
		sw.rq.w.WriteHeader(code)
	}
}

// Unwrap returns the wrapped ResponseWriter, for http.ResponseController.
func (sw sessionWriter) Unwrap() http.ResponseWriter { return sw.rq.w }

// Flush saves the session and flushes the response.
func (sw sessionWriter) Flush() { _ = sw.FlushError() }

// FlushError saves the session and flushes the response; it is what
// http.ResponseController.Flush calls.
func (sw sessionWriter) FlushError() error {
	if !sw.rq.commit() {
		return errNotSaved
	}
	return http.NewResponseController(sw.rq.w).Flush()
}

// Hijack saves the session (its cookie cannot be sent any more) and hands
// the connection over.
func (sw sessionWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if !sw.rq.commit() {
		return nil, nil, errNotSaved
	}
	return http.NewResponseController(sw.rq.w).Hijack()
}
