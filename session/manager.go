package session

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"
)

// Manager loads and saves sessions and runs the login lifecycle. It is safe
// for concurrent use. Build it with New.
type Manager struct {
	sm      *scs.SessionManager
	logger  *slog.Logger
	errorFn func(http.ResponseWriter, *http.Request, error)
	idle    time.Duration // Config.IdleTimeout with its default; 0: none
	// scsKey is the key scs keeps its session data under in a context
	// (scs.SessionManager's unexported contextKey, boxed once), so that
	// the request's context can load the session when the data API first
	// asks for it. Nil if it could not be learnt: the middleware then
	// loads every session before the handler runs.
	scsKey any
	// keys caches the store keys of live sessions' tokens (keyCache).
	keys *keyCache
}

// New returns a Manager with cfg's settings, the zero Config being the
// hardened setting (see Config). It refuses contradictory or unsafe-by-
// accident settings with an error naming the field.
func New(cfg Config) (*Manager, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	sm := scs.New()
	m := &Manager{sm: sm, logger: cfg.Logger, errorFn: cfg.ErrorHandler, keys: newKeyCache()}
	if m.logger == nil {
		m.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if m.errorFn == nil {
		m.errorFn = problem
	}
	store := cfg.Store
	if store == nil {
		store = sm.Store // scs's memstore
	}
	sm.Store = &idleStore{m: m, inner: store}
	sm.Codec = compactCodec{}
	if cfg.Codec != nil {
		sm.Codec = cfg.Codec
	}
	m.idle = cfg.IdleTimeout
	if m.idle == 0 && !cfg.InsecureNoIdleTimeout {
		m.idle = DefaultIdleTimeout
	}
	// The engine has no idle timeout of its own, or it would save every
	// session it loads; the manager keeps it (see idleStore).
	sm.IdleTimeout = 0
	sm.Lifetime = cfg.Lifetime
	if sm.Lifetime == 0 {
		sm.Lifetime = DefaultLifetime
	}
	sm.HashTokenInStore = !cfg.InsecureRawTokensInStore
	sm.Cookie = scs.SessionCookie{
		Name:     cfg.cookieName(),
		Domain:   cfg.Domain,
		HttpOnly: true,
		Path:     "/",
		SameSite: cfg.SameSite,
		Secure:   !cfg.InsecurePlainHTTP,
		Persist:  cfg.PersistentCookie,
	}
	if sm.Cookie.SameSite == 0 || sm.Cookie.SameSite == http.SameSiteDefaultMode {
		sm.Cookie.SameSite = http.SameSiteLaxMode
	}
	sm.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		m.logger.LogAttrs(r.Context(), slog.LevelError, "session: store error",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("error", err))
		m.errorFn(w, r, err)
	}
	m.scsKey = learnContextKey(sm)
	return m, nil
}

// keyProbe is a context that records the first key it is asked for.
type keyProbe struct {
	context.Context
	key any
}

func (p *keyProbe) Value(key any) any {
	if p.key == nil {
		p.key = key
	}
	return p.Context.Value(key)
}

// learnContextKey returns the key sm keeps session data under in a
// context: scs.Load asks its context for it first (to find a session
// loaded already). It returns nil unless the key is confirmed to hold the
// session that Load put in the context, and is comparable.
func learnContextKey(sm *scs.SessionManager) any {
	p := &keyProbe{Context: context.Background()}
	ctx, err := sm.Load(p, "") // no token: no store access
	if err != nil || p.key == nil || !reflect.TypeOf(p.key).Comparable() || ctx.Value(p.key) == nil {
		return nil
	}
	return p.key
}

// Engine returns the underlying scs manager, for the data API (Put, Get,
// PopString…) in handlers behind Handler. Changing its settings changes
// what readiness reports: the accessors read the engine's live values.
//
// The manager, not the engine, keeps the idle timeout (see "Expiry and
// the clock" in the package doc): the engine runs with IdleTimeout 0 and
// its Store is a wrapper around Config.Store that bounds every expiry to
// the idle deadline. Setting the engine's IdleTimeout can only shorten the
// idle timeout (Settings reports the shorter), and makes every request
// that reads session data save it, as scs does. Replacing the engine's
// Store drops the wrapper: idle sessions are still refused, but the store
// keeps them until their absolute deadline. Set Config.Store instead.
func (m *Manager) Engine() *scs.SessionManager { return m.sm }

// idleTimeout is the idle timeout in force: Config.IdleTimeout, or the
// engine's own if an app set a shorter one. 0: none.
func (m *Manager) idleTimeout() time.Duration {
	idle, e := m.idle, m.sm.IdleTimeout
	if e > 0 && (idle == 0 || e < idle) {
		return e
	}
	return idle
}

// Settings are a Manager's effective settings, as readiness reads them.
type Settings struct {
	CookieName       string
	Domain           string
	Path             string
	Secure           bool
	HttpOnly         bool
	SameSite         http.SameSite
	PersistentCookie bool
	IdleTimeout      time.Duration // 0: none
	Lifetime         time.Duration
	HashedTokens     bool
	// InMemoryStore is true for the scs memstore: sessions live in one
	// process and are lost on restart and invisible to other replicas.
	InMemoryStore bool
	// CanLogoutEverywhere is true when the store indexes sessions by user
	// (UserStore) or can list its sessions.
	CanLogoutEverywhere bool
}

// Settings returns the effective settings.
func (m *Manager) Settings() Settings {
	c := m.sm.Cookie
	store := m.store()
	_, inMem := store.(*memstore.MemStore)
	return Settings{
		CookieName:          c.Name,
		Domain:              c.Domain,
		Path:                c.Path,
		Secure:              c.Secure,
		HttpOnly:            c.HttpOnly,
		SameSite:            c.SameSite,
		PersistentCookie:    c.Persist,
		IdleTimeout:         m.idleTimeout(),
		Lifetime:            m.sm.Lifetime,
		HashedTokens:        m.sm.HashTokenInStore,
		InMemoryStore:       inMem,
		CanLogoutEverywhere: iterable(store) || isUserStore(store),
	}
}

// problem answers a store failure with a bare RFC 9457 document: 503 with
// Retry-After when the store is unreachable (ErrStoreUnavailable), 500
// otherwise (corrupt data).
func problem(w http.ResponseWriter, _ *http.Request, err error) {
	status := http.StatusInternalServerError
	if errors.Is(err, ErrStoreUnavailable) {
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", "5")
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type":   "about:blank",
		"title":  http.StatusText(status),
		"status": status,
		"detail": "the session could not be loaded or saved; try again later",
	})
}

func isUserStore(s scs.Store) bool {
	_, ok := s.(UserStore)
	return ok
}

func iterable(s scs.Store) bool {
	switch s.(type) {
	case scs.IterableStore, scs.IterableCtxStore:
		return true
	}
	return false
}
