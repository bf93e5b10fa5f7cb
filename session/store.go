package session

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"time"

	"github.com/alexedwards/scs/v2"
)

// idleRefresh is how old a session's last save may grow before a request
// saves it again to push its idle deadline (last save+IdleTimeout)
// forward. Pushing it on every request would cost a store write, a token
// hash and a Set-Cookie each; so the effective idle timeout is between
// IdleTimeout−idleRefresh and IdleTimeout: a session saved at 10:00 and
// last used at 10:00:59 ends at 10:30. For an idle timeout under ten
// minutes, a tenth of it is used instead (refreshAfter), so that a short
// one is not cut by a whole minute.
const idleRefresh = time.Minute

// refreshAfter returns the age at which a session's idle deadline is due
// for a push.
func refreshAfter(idle time.Duration) time.Duration { return min(idleRefresh, idle/10) }

// idleStore is the store the scs engine writes through (Engine().Store).
// It keeps the idle timeout without a save per request: scs runs with
// IdleTimeout 0, so it neither marks every loaded session modified nor
// shortens the expiry it commits, and idleStore bounds every expiry to
// now+IdleTimeout instead. A session is then saved only when it changed or
// its idle deadline is due for a push (see refreshAfter), and the store
// forgets it IdleTimeout after its last save.
//
// It also serves scs.Load the data the middleware already read for the
// request (request.data), so loading the session into scs for the data
// API costs no second store round trip and sees the same data the
// middleware checked.
type idleStore struct {
	m     *Manager
	inner scs.Store
}

var (
	_ scs.CtxStore         = (*idleStore)(nil)
	_ scs.IterableStore    = (*idleStore)(nil)
	_ scs.IterableCtxStore = (*idleStore)(nil)
)

// expiry bounds a commit's expiry (the absolute deadline) to the idle
// deadline.
func (s *idleStore) expiry(e time.Time) time.Time {
	if idle := s.m.idleTimeout(); idle > 0 {
		if ie := time.Now().Add(idle).UTC(); ie.Before(e) {
			return ie
		}
	}
	return e
}

// Find implements scs.Store.
func (s *idleStore) Find(token string) ([]byte, bool, error) { return s.inner.Find(token) }

// FindCtx implements scs.CtxStore.
func (s *idleStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	if rq, ok := ctx.Value(ctxKey{s.m}).(*request); ok && rq.live && rq.key == token {
		return rq.data, true, nil
	}
	return findIn(ctx, s.inner, token)
}

// Commit implements scs.Store.
func (s *idleStore) Commit(token string, b []byte, expiry time.Time) error {
	if us, ok := s.inner.(UserStore); ok {
		return s.commitUser(context.Background(), us, token, b, expiry)
	}
	return s.inner.Commit(token, b, s.expiry(expiry))
}

// CommitCtx implements scs.CtxStore.
func (s *idleStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	if us, ok := s.inner.(UserStore); ok {
		return s.commitUser(ctx, us, token, b, expiry)
	}
	if c, ok := s.inner.(interface {
		CommitCtx(context.Context, string, []byte, time.Time) error
	}); ok {
		return c.CommitCtx(ctx, token, b, s.expiry(expiry))
	}
	return s.Commit(token, b, expiry)
}

// Delete implements scs.Store.
func (s *idleStore) Delete(token string) error {
	s.forget(token)
	return s.inner.Delete(token)
}

// DeleteCtx implements scs.CtxStore.
func (s *idleStore) DeleteCtx(ctx context.Context, token string) error {
	s.forget(token)
	if c, ok := s.inner.(interface {
		DeleteCtx(context.Context, string) error
	}); ok {
		return c.DeleteCtx(ctx, token)
	}
	return s.inner.Delete(token)
}

// forget drops the key cache's entry of the store key key: the session is
// being deleted (logout, token renewal), so its raw token need not stay in
// memory.
func (s *idleStore) forget(key string) {
	s.m.keys.forget(func(e *keyEntry) bool { return e.key == key })
}

// All implements scs.IterableStore for an iterable store; for another it
// returns ErrNotIterable (where scs's Iterate would panic).
func (s *idleStore) All() (map[string][]byte, error) { return allIn(context.Background(), s.inner) }

// AllCtx implements scs.IterableCtxStore, as All.
func (s *idleStore) AllCtx(ctx context.Context) (map[string][]byte, error) {
	return allIn(ctx, s.inner)
}

func findIn(ctx context.Context, s scs.Store, key string) ([]byte, bool, error) {
	if c, ok := s.(interface {
		FindCtx(context.Context, string) ([]byte, bool, error)
	}); ok {
		return c.FindCtx(ctx, key)
	}
	return s.Find(key)
}

func allIn(ctx context.Context, s scs.Store) (map[string][]byte, error) {
	switch s := s.(type) {
	case scs.IterableCtxStore:
		return s.AllCtx(ctx)
	case scs.IterableStore:
		return s.All()
	}
	return nil, ErrNotIterable
}

// store returns the store sessions live in: Config.Store (or the
// memstore), without the idleStore around it.
func (m *Manager) store() scs.Store {
	if s, ok := m.sm.Store.(*idleStore); ok {
		return s.inner
	}
	return m.sm.Store
}

// storeKeyLen is the length of a hashed store key:
// base64.RawURLEncoding.EncodedLen(sha256.Size).
const storeKeyLen = 43

// storeKey returns the key the store holds token's session under, the one
// scs computes: the token itself, or with HashTokenInStore
// base64url(SHA-256(token)). It allocates only the result (scs's hashToken
// allocates three times).
func storeKey(token string, hashed bool) string {
	if !hashed {
		return token
	}
	var key [storeKeyLen]byte
	return string(appendStoreKey(key[:0], token))
}

// appendStoreKey appends base64url(SHA-256(token)), the hashed store key,
// to dst.
func appendStoreKey(dst []byte, token string) []byte {
	var sum [sha256.Size]byte
	if len(token) <= 64 { // scs tokens have 43 characters
		var buf [64]byte
		sum = sha256.Sum256(buf[:copy(buf[:], token)])
	} else {
		sum = sha256.Sum256([]byte(token))
	}
	return base64.RawURLEncoding.AppendEncode(dst, sum[:])
}
