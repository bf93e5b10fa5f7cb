package session

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"
)

// Keys under which the lifecycle stores its values in the session.
const (
	keyUser     = "launchready.user"
	keyAuthTime = "launchready.auth" // Unix nanoseconds, an int64 (gob-safe)
	keySeen     = "launchready.seen" // when the session was last saved, Unix nanoseconds, an int64
)

// ErrNoUserID is returned by Login for an empty user ID.
var ErrNoUserID = errors.New("session: Login needs a non-empty user ID")

// ErrNotIterable is returned by LogoutEverywhere when the store cannot list
// its sessions (it implements neither scs.IterableStore nor
// scs.IterableCtxStore).
var ErrNotIterable = errors.New("session: the store cannot list its sessions; LogoutEverywhere needs an scs.IterableStore")

// Login signs userID in on the request's session: it gives the session a
// new token (the token the browser had before, possibly planted by an
// attacker, is deleted from the store: session fixation), restarts the
// absolute lifetime, and records the user ID and the authentication time.
// Call it only after the credentials were verified, from a handler behind
// Handler. The new cookie is written with the response. The auth time is
// time.Now(), like every clock reading of scs (tests use testing/synctest).
func (m *Manager) Login(ctx context.Context, userID string) error {
	if userID == "" {
		return ErrNoUserID
	}
	if err := m.sm.RenewToken(ctx); err != nil {
		return fmt.Errorf("session: renewing the token at login: %w", err)
	}
	m.sm.Put(ctx, keyUser, userID)
	m.sm.Put(ctx, keyAuthTime, time.Now().UnixNano())
	// A password sign-in starts from the password alone: no second factor
	// of an earlier sign-in on this browser carries over.
	m.sm.Remove(ctx, keyOTPTime)
	m.sm.Remove(ctx, keyPending)
	m.sm.Remove(ctx, keyPendingTime)
	return nil
}

// RenewToken gives the session a new token and deletes the old one from
// the store, keeping the data. Call it at every privilege change (role
// granted, password, email or MFA changed, sudo mode entered), as OWASP
// asks: https://cheatsheetseries.owasp.org/cheatsheets/Session_Management_Cheat_Sheet.html#renew-the-session-id-after-any-privilege-level-change
func (m *Manager) RenewToken(ctx context.Context) error {
	if err := m.sm.RenewToken(ctx); err != nil {
		return fmt.Errorf("session: renewing the token: %w", err)
	}
	return nil
}

// Logout destroys the session: it is deleted from the store, so the token
// stops working at once wherever it was copied to, and the response expires
// the cookie.
func (m *Manager) Logout(ctx context.Context) error {
	if err := m.sm.Destroy(ctx); err != nil {
		return fmt.Errorf("session: destroying the session at logout: %w", err)
	}
	return nil
}

// LogoutEverywhere deletes every session of userID from the store (after a
// password change, or when an account is disabled) and returns how many it
// deleted. With a UserStore (session/redisstore) it deletes the user's
// sessions through the store's per-user index, on every replica sharing
// the store. Otherwise it needs a store that can list its sessions
// (scs.IterableStore or scs.IterableCtxStore, as memstore), reads every
// session, so it costs O(sessions), and returns ErrNotIterable for a store
// that cannot list them. A request of that user in flight
// at the same moment can still save its session back (last write wins):
// disable the account in the app's database too where that matters.
func (m *Manager) LogoutEverywhere(ctx context.Context, userID string) (int, error) {
	if userID == "" {
		return 0, ErrNoUserID
	}
	m.keys.forget(func(e *keyEntry) bool { return e.info.user == userID })
	store := m.store()
	if us, ok := store.(UserStore); ok {
		n, err := us.DeleteUser(ctx, userID)
		if err != nil {
			return n, fmt.Errorf("session: deleting the sessions of a user: %w", err)
		}
		return n, nil
	}
	if !iterable(store) {
		return 0, ErrNotIterable
	}
	all, err := allIn(ctx, store)
	if err != nil {
		return 0, fmt.Errorf("session: listing sessions: %w", err)
	}
	n := 0
	// Keys are used as the store holds them (hashed when tokens are hashed),
	// so scs's Iterate/Destroy, which would hash them again, is not used.
	for key, b := range all {
		_, values, err := m.sm.Codec.Decode(b)
		if err != nil {
			continue // not ours to judge; leave it to expire
		}
		if id, _ := values[keyUser].(string); id != userID {
			continue
		}
		if cs, ok := store.(scs.CtxStore); ok {
			err = cs.DeleteCtx(ctx, key)
		} else {
			err = store.Delete(key)
		}
		if err != nil {
			return n, fmt.Errorf("session: deleting a session: %w", err)
		}
		n++
	}
	return n, nil
}

// User returns the signed-in user of the request's session and when they
// authenticated. ok is false for an anonymous session, and also when the
// request did not pass through this manager's Handler (a wiring mistake
// fails closed: the request is treated as anonymous).
func (m *Manager) User(r *http.Request) (id string, authTime time.Time, ok bool) {
	return m.UserContext(r.Context())
}

// UserContext is User for a context that came from a request behind Handler.
func (m *Manager) UserContext(ctx context.Context) (id string, authTime time.Time, ok bool) {
	if rq, _ := ctx.Value(ctxKey{m}).(*request); rq != nil {
		sctx := rq.loaded()
		if sctx == nil {
			// Not loaded into scs, so unchanged since the middleware read
			// it: what it read is the session's data. (Login, Logout,
			// RenewToken and the data API load it.)
			if rq.user == "" {
				return "", time.Time{}, false
			}
			return rq.user, time.Unix(0, rq.auth), true
		}
		ctx = sctx // scs's data, straight
	}
	defer func() {
		if recover() != nil { // scs panics when the context has no session
			id, authTime, ok = "", time.Time{}, false
		}
	}()
	id, _ = m.sm.Get(ctx, keyUser).(string)
	if id == "" {
		return "", time.Time{}, false
	}
	ns, _ := m.sm.Get(ctx, keyAuthTime).(int64)
	return id, time.Unix(0, ns), true
}

// PasswordChanged is the call to make right after a user's password was
// changed or reset (or their account recovered): every other session of
// userID ends at once, wherever its cookie was copied to, so whoever knew
// the old password, or stole a session, is out. When the request itself is
// signed in as userID (a change from the settings page), that session
// stays, under a new token (a privilege change); a reset from the
// signed-out form ends them all. It returns how many sessions ended.
//
// Like LogoutEverywhere it needs a store that can list its sessions and
// returns ErrNotIterable otherwise: then the password changed but the
// sessions live on, and the app must not report success silently.
func (m *Manager) PasswordChanged(ctx context.Context, userID string) (int, error) {
	if userID == "" {
		return 0, ErrNoUserID
	}
	if s := m.store(); !iterable(s) && !isUserStore(s) {
		return 0, ErrNotIterable
	}
	if id, _, ok := m.UserContext(ctx); ok && id == userID {
		// The new token is stored when the response is written, after the
		// sweep below: the current session survives it, the old token
		// does not.
		if err := m.RenewToken(ctx); err != nil {
			return 0, err
		}
	}
	return m.LogoutEverywhere(ctx, userID)
}
