package session

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
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
// Manager.Engine keeps working in handlers, but most requests of a
// signed-in user cost a store read and nothing else:
//
//   - the session cookie is read without parsing every cookie of the
//     request, and the token hashed without allocating: the request
//     state, which also holds the request next runs with, the user ID
//     and the Vary value, is the one allocation of an unchanged session;
//   - the session is not decoded into scs before the handler runs: peek
//     reads the deadline, the user and the last save from the store's
//     data, which is all Manager.User needs (data peek leaves to the codec,
//     gob or a custom Codec's, is decoded for them). The request's context
//     loads it into scs (from the same data, see idleStore) the first time
//     the data API or the lifecycle asks for it;
//   - it is saved only when it changed, or when its idle deadline is due
//     for a push (refreshAfter), not on every request: no store write, no
//     Set-Cookie, no re-hashing of the token otherwise.
//
// Also unlike LoadAndSave, an informational (1xx) WriteHeader does not
// save the session, which could still change before the final response;
// Flush saves it first, so the cookie is not lost in already-sent headers;
// and when saving fails, the error handler's answer is the response (the
// handler's later writes are dropped, where scs would append them to it).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := h.m
	rq := &request{parent: r.Context(), m: m, w: w}
	// Vary: Cookie, as Header.Add adds it, but without a new slice for
	// the values the kit's chain has at this point: none, or the shared
	// one-value slice rs/cors sets. Those shared slices are capped at
	// their length, so a later Add copies them.
	hdr := w.Header()
	switch vary := hdr["Vary"]; {
	case len(vary) == 0:
		hdr["Vary"] = varyCookie[:1:1]
	case len(vary) == 1 && vary[0] == "Origin":
		hdr["Vary"] = varyOriginCookie[:2:2]
	default:
		hdr["Vary"] = append(vary, "Cookie")
	}
	if err := rq.find(r); err != nil {
		m.sm.ErrorFunc(w, r, err)
		return
	}
	var ctx context.Context = sessionContext{rq}
	if m.scsKey == nil {
		// The context cannot load the session on demand: load it now.
		if err := rq.load(); err != nil {
			m.sm.ErrorFunc(w, r, err)
			return
		}
		ctx = rq.loaded()
	}
	// The request next runs with lives in rq: a copy of the one
	// WithContext makes, which then stays on the stack.
	rq.req = *r.WithContext(ctx)
	r = &rq.req
	h.next.ServeHTTP(sessionWriter{rq}, r)
	rq.commit()
}

// The Vary values ServeHTTP sets when there were none, or rs/cors's
// "Origin" only: shared, never written (Header.Add copies them).
var (
	varyCookie       = []string{"Cookie"}
	varyOriginCookie = []string{"Origin", "Cookie"}
)

// request is the session state of one request; ServeHTTP allocates it
// once and hands it to the handler as its context (sessionContext) and
// response writer (sessionWriter). It is kept within 448 bytes, a size
// class (see TestRequestStateSize): what only a request that loads the
// session into scs needs lives in a loadState it allocates then.
type request struct {
	parent context.Context // the request's context before the session
	m      *Manager
	w      http.ResponseWriter // the response writer ServeHTTP was given

	// req is the request next runs with (and ErrorFunc gets, once the
	// session is found).
	req http.Request

	// Set by find before the handler runs, read-only after.
	token string // the session cookie's value, "" when none
	key   string // the store key of token
	data  []byte // the store's data for key, if live
	user  string // the signed-in user in data, "" when none
	auth  int64  // the auth time in data
	otp   int64  // the second factor's verification time in data, 0 when none

	live    bool // data is a session to load: found, not expired, not idle too long
	refresh bool // save it even if unmodified: its idle deadline is due for a push
	// Used only by the goroutine writing the response.
	written bool // commit ran
	failed  bool // and ErrorFunc answered instead of the handler

	ls atomic.Pointer[loadState] // set by the first load
}

// loadState is a request's session as loaded into scs.
type loadState struct {
	mu      sync.Mutex
	sctx    context.Context // scs's context holding the session (under scsKey), once loaded
	loadErr error
}

// state returns rq's loadState, allocating it on first use.
func (rq *request) state() *loadState {
	if s := rq.ls.Load(); s != nil {
		return s
	}
	if s := new(loadState); rq.ls.CompareAndSwap(nil, s) {
		return s
	}
	return rq.ls.Load()
}

// find reads r's session from the store, if it has a cookie, and decides
// whether it is live and due for a save.
func (rq *request) find(r *http.Request) error {
	m := rq.m
	rq.token = cookieValue(r.Header["Cookie"], m.sm.Cookie.Name)
	if rq.token == "" {
		return nil
	}
	// The hashed key, and what peek read from the same data, come from
	// the key cache when the token's session was found before: no hash,
	// no parse, no allocation. Otherwise they go into a new cache entry
	// (not into rq, which a store or the app holding the key or the user
	// ID would keep alive with the request and its response writer),
	// published once the store has the session.
	rq.key = rq.token
	hashed := m.sm.HashTokenInStore
	var cached *keyEntry
	if hashed {
		if cached = m.keys.get(rq.token); cached != nil {
			rq.key = cached.key
		} else {
			rq.key = storeKey(rq.token, true)
		}
	}
	data, found, err := findIn(rq.parent, m.store(), rq.key)
	if err != nil || !found {
		return err
	}
	info, ok := sessionInfo{}, false
	_, compact := m.sm.Codec.(compactCodec)
	if compact {
		info, ok = cached.peeked(data)
	}
	if !ok {
		var user []byte // the user ID's bytes in data
		if compact {
			info, user, ok = peekData(data)
		}
		switch {
		case hashed && len(rq.token) <= maxCachedToken && (cached == nil || ok && len(data) <= maxCachedData):
			// The store has this session: remember its key, and what peek
			// read from its (new) data.
			info = m.keys.remember(cached, rq.token, rq.key, data, info, user, ok)
		case len(user) > 0:
			info.user = string(user)
		}
	}
	if !ok {
		deadline, values, err := m.sm.Codec.Decode(data)
		if err != nil {
			return err
		}
		info = infoOf(deadline, values)
	}
	now := time.Now()
	if now.After(info.deadline) {
		return nil // the store should have dropped it
	}
	if idle := m.idleTimeout(); idle > 0 {
		// The store expires a session idle after its last save (see
		// idleStore); refuse it here too, whatever store holds it.
		age := now.Sub(time.Unix(0, info.seen))
		switch every := refreshAfter(idle); {
		case !info.hasSeen: // saved by scs alone or an older version
			rq.refresh = true
		case age > idle:
			return nil
		case age >= every || age < -every: // (or saved by a clock well ahead)
			rq.refresh = true
		}
	}
	rq.data, rq.live = data, true
	rq.user, rq.auth, rq.otp = info.user, info.auth, info.otp
	return nil
}

// load loads the session into scs unless it is loaded already: the live
// session found by find (from the same data, through idleStore), or a new
// one. It returns the error of the first load.
func (rq *request) load() error {
	s := rq.state()
	s.mu.Lock()
	defer s.mu.Unlock()
	rq.loadLocked(s)
	return s.loadErr
}

func (rq *request) loadLocked(s *loadState) {
	if s.sctx != nil {
		return
	}
	token := ""
	if rq.live {
		token = rq.token
	}
	sm := rq.m.sm
	s.sctx, s.loadErr = sm.Load(loadContext{rq}, token)
	if s.loadErr != nil {
		// scs panics without session data: give the handler an empty
		// session; commit reports the error instead of saving it.
		s.sctx, _ = sm.Load(loadContext{rq}, "")
	}
}

// loaded returns scs's context if the session is loaded, else nil.
func (rq *request) loaded() context.Context {
	s := rq.ls.Load()
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sctx
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
		rq.m.sm.ErrorFunc(rq.w, &rq.req, err)
	}
	return !rq.failed
}

// save saves the session if it was modified, writing the cookie, or if its
// idle deadline is due for a push; or expires the cookie of a destroyed
// session. A session the handler never loaded is unchanged.
func (rq *request) save() error {
	if rq.loaded() == nil && !rq.refresh {
		return nil
	}
	if err := rq.load(); err != nil {
		return err
	}
	m, ctx := rq.m, rq.loaded()
	sm := m.sm
	status := sm.Status(ctx)
	switch {
	case status == scs.Destroyed:
		sm.WriteSessionCookie(ctx, rq.w, "", time.Time{})
		return nil
	case status == scs.Unmodified && !rq.refresh:
		return nil
	}
	if m.idleTimeout() > 0 {
		sm.Put(ctx, keySeen, time.Now().UnixNano())
	}
	token, expiry, err := sm.Commit(ctx)
	if err != nil {
		return err
	}
	// A refresh changes neither the token nor the cookie's expiry (the
	// absolute deadline, as the engine has no idle timeout): no cookie.
	if status == scs.Modified || token != rq.token {
		sm.WriteSessionCookie(ctx, rq.w, token, expiry)
	}
	return nil
}

// ctxKey is the context key of a manager's *request.
type ctxKey struct{ m *Manager }

// sessionContext is the context the handler runs with: the request's
// context, plus the session, which it loads into scs when asked for it
// under scs's key (by the data API or the lifecycle methods).
type sessionContext struct{ rq *request }

func (c sessionContext) Deadline() (time.Time, bool) { return c.rq.parent.Deadline() }
func (c sessionContext) Done() <-chan struct{}       { return c.rq.parent.Done() }
func (c sessionContext) Err() error                  { return c.rq.parent.Err() }

func (c sessionContext) Value(key any) any {
	rq := c.rq
	if k, ok := key.(ctxKey); ok && k.m == rq.m {
		return rq
	}
	if key == rq.m.scsKey && key != nil {
		s := rq.state()
		s.mu.Lock()
		defer s.mu.Unlock()
		rq.loadLocked(s)
		return s.sctx.Value(key)
	}
	return rq.parent.Value(key)
}

func (c sessionContext) String() string { return "session.Context" }

// loadContext is the context scs.Load runs with: the request's context,
// plus the request for idleStore.FindCtx (and, in the context scs.Load
// returns, for Manager.User).
type loadContext struct{ rq *request }

func (c loadContext) Deadline() (time.Time, bool) { return c.rq.parent.Deadline() }
func (c loadContext) Done() <-chan struct{}       { return c.rq.parent.Done() }
func (c loadContext) Err() error                  { return c.rq.parent.Err() }

func (c loadContext) Value(key any) any {
	if k, ok := key.(ctxKey); ok && k.m == c.rq.m {
		return c.rq
	}
	return c.rq.parent.Value(key)
}

func (c loadContext) String() string { return "session.loadContext" }

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

// WriteString is Write for a string (io.StringWriter), so a handler's
// io.WriteString reaches the server's writer without a copy to bytes.
func (sw sessionWriter) WriteString(s string) (int, error) {
	if !sw.rq.commit() {
		return 0, errNotSaved
	}
	return io.WriteString(sw.rq.w, s)
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
