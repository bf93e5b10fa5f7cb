package session

import (
	"context"
	"errors"
	"time"

	"github.com/alexedwards/scs/v2"
)

// ErrStoreUnavailable is what a store wraps in its errors when it cannot be
// reached (Redis down, a timeout). The default error handler then answers
// 503 Service Unavailable with Retry-After instead of 500: the request is
// neither served as anonymous nor treated as a bug, and service resumes by
// itself when the store is back.
var ErrStoreUnavailable = errors.New("session: session store unavailable")

// A UserStore is a store that indexes sessions by their signed-in user, so
// LogoutEverywhere deletes one user's sessions without reading every
// session, and, in a store shared by several replicas, on every replica at
// once. session/redisstore is one. Keys are store keys (hashed tokens).
type UserStore interface {
	scs.Store
	// CommitUser saves b under key until expiry, like Commit, and records
	// the session under userID ("" for an anonymous session). With
	// existing set the session was loaded from the store by this request:
	// if it is gone (LogoutEverywhere, Logout on another device, expiry
	// ran meanwhile), CommitUser must not bring it back and returns nil.
	CommitUser(ctx context.Context, key, userID string, b []byte, expiry time.Time, existing bool) error
	// DeleteUser deletes every session of userID and returns how many.
	DeleteUser(ctx context.Context, userID string) (int, error)
}

// commitUser saves through a UserStore: it learns the user from the data
// and whether the request loaded this very session.
func (s *idleStore) commitUser(ctx context.Context, us UserStore, key string, b []byte, expiry time.Time) error {
	info, ok := sessionInfo{}, false
	if _, compact := s.m.sm.Codec.(compactCodec); compact {
		info, ok = peek(b)
	}
	if !ok {
		deadline, values, err := s.m.sm.Codec.Decode(b)
		if err != nil {
			return err
		}
		info = infoOf(deadline, values)
	}
	rq, _ := ctx.Value(ctxKey{s.m}).(*request)
	existing := rq != nil && rq.live && rq.key == key
	return us.CommitUser(ctx, key, info.user, b, s.expiry(expiry), existing)
}
