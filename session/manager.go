package session

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
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
	mem     *memstore.MemStore
}

// New returns a Manager with cfg's settings, the zero Config being the
// hardened setting (see Config). It refuses contradictory or unsafe-by-
// accident settings with an error naming the field.
func New(cfg Config) (*Manager, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	sm := scs.New()
	m := &Manager{sm: sm, logger: cfg.Logger, errorFn: cfg.ErrorHandler}
	if m.logger == nil {
		m.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if m.errorFn == nil {
		m.errorFn = problem
	}
	if cfg.Store != nil {
		sm.Store = cfg.Store
	}
	sm.Codec = compactCodec{}
	if cfg.Codec != nil {
		sm.Codec = cfg.Codec
	}
	sm.IdleTimeout = cfg.IdleTimeout
	if sm.IdleTimeout == 0 && !cfg.InsecureNoIdleTimeout {
		sm.IdleTimeout = DefaultIdleTimeout
	}
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
	return m, nil
}

// Engine returns the underlying scs manager, for the data API (Put, Get,
// PopString…). Changing its settings changes what readiness reports:
// the accessors read the engine's live values.
func (m *Manager) Engine() *scs.SessionManager { return m.sm }

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
	// CanLogoutEverywhere is true when the store can list its sessions.
	CanLogoutEverywhere bool
}

// Settings returns the effective settings.
func (m *Manager) Settings() Settings {
	c := m.sm.Cookie
	_, inMem := m.sm.Store.(*memstore.MemStore)
	return Settings{
		CookieName:          c.Name,
		Domain:              c.Domain,
		Path:                c.Path,
		Secure:              c.Secure,
		HttpOnly:            c.HttpOnly,
		SameSite:            c.SameSite,
		PersistentCookie:    c.Persist,
		IdleTimeout:         m.sm.IdleTimeout,
		Lifetime:            m.sm.Lifetime,
		HashedTokens:        m.sm.HashTokenInStore,
		InMemoryStore:       inMem,
		CanLogoutEverywhere: iterable(m.sm.Store),
	}
}

// problem answers a store failure with a bare RFC 9457 document.
func problem(w http.ResponseWriter, _ *http.Request, _ error) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusInternalServerError)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type":   "about:blank",
		"title":  "Internal Server Error",
		"status": http.StatusInternalServerError,
		"detail": "the session could not be loaded or saved; try again later",
	})
}

func iterable(s scs.Store) bool {
	switch s.(type) {
	case scs.IterableStore, scs.IterableCtxStore:
		return true
	}
	return false
}
