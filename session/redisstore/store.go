package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/launchready/launchready/session"
)

// ErrUnavailable is wrapped, with session.ErrStoreUnavailable, by every
// error caused by Redis being unreachable or failing.
var ErrUnavailable = errors.New("redisstore: Redis unavailable")

// Config configures the store.
type Config struct {
	// Client is the Redis client (redis.NewClient or NewFailoverClient).
	// Required.
	Client redis.UniversalClient
	// Prefix starts every key. Default "session:".
	Prefix string
	// Timeout bounds each call, so a hung Redis costs a request at most
	// this long before it is answered 503. Default 250 ms.
	Timeout time.Duration
	// Now is the clock of the index's expiry. Nil: time.Now.
	Now func() time.Time
}

// Store is a session.UserStore on Redis.
type Store struct {
	rdb     redis.UniversalClient
	prefix  string
	timeout time.Duration
	now     func() time.Time
}

var _ session.UserStore = (*Store)(nil)

// New validates c and returns the store. It does not dial; call Ping at
// boot to fail fast.
func New(c Config) (*Store, error) {
	if c.Client == nil {
		return nil, errors.New("redisstore: Config.Client is nil; pass a *redis.Client (redis.NewClient)")
	}
	if c.Timeout < 0 {
		return nil, fmt.Errorf("redisstore: Config.Timeout is %v; use a positive duration or 0 for 250ms", c.Timeout)
	}
	s := &Store{rdb: c.Client, prefix: c.Prefix, timeout: c.Timeout, now: c.Now}
	if s.prefix == "" {
		s.prefix = "session:"
	}
	if s.timeout == 0 {
		s.timeout = 250 * time.Millisecond
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// Shared is true: every replica sees the same sessions.
func (s *Store) Shared() bool { return true }

func (s *Store) fail(op string, err error) error {
	return fmt.Errorf("%w: %w: %s: %w", session.ErrStoreUnavailable, ErrUnavailable, op, err)
}

// Ping checks that Redis answers and loads the scripts.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	for _, sc := range []*redis.Script{commitScript, deleteUserScript} {
		if err := sc.Load(ctx, s.rdb).Err(); err != nil {
			return s.fail("ping", err)
		}
	}
	return nil
}

func (s *Store) dataKey(key string) string  { return s.prefix + "s:" + key }
func (s *Store) userKey(user string) string { return s.prefix + "u:" + user }

// Find implements scs.Store.
func (s *Store) Find(key string) ([]byte, bool, error) { return s.FindCtx(context.Background(), key) }

// FindCtx implements scs.CtxStore.
func (s *Store) FindCtx(ctx context.Context, key string) ([]byte, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	b, err := s.rdb.Get(ctx, s.dataKey(key)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, s.fail("find", err)
	}
	return b, true, nil
}

// Commit implements scs.Store, for a session without a known user. The
// session manager calls CommitUser instead.
func (s *Store) Commit(key string, b []byte, expiry time.Time) error {
	return s.CommitUser(context.Background(), key, "", b, expiry, false)
}

// CommitCtx implements scs.CtxStore, as Commit.
func (s *Store) CommitCtx(ctx context.Context, key string, b []byte, expiry time.Time) error {
	return s.CommitUser(ctx, key, "", b, expiry, false)
}

// commitScript saves a session and indexes it under its user. KEYS[1] is
// the data key, KEYS[2] the user's index (absent for an anonymous
// session); ARGV are the data, the expiry and now in Unix milliseconds,
// "1" when only an existing session may be updated, and the index member.
// Index members whose session is gone are pruned once the set grows past
// 16. It returns 1 when saved, 0 when an existing session was gone.
var commitScript = redis.NewScript(`
local expiry = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if ARGV[4] == '1' and redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if expiry <= now then
  redis.call('DEL', KEYS[1])
  return 1
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', expiry - now)
if #KEYS == 2 then
  redis.call('SADD', KEYS[2], ARGV[5])
  local pttl = redis.call('PTTL', KEYS[2])
  if pttl < expiry - now then redis.call('PEXPIRE', KEYS[2], expiry - now) end
  if redis.call('SCARD', KEYS[2]) > 16 then
    local base = string.sub(KEYS[1], 1, #KEYS[1] - #ARGV[5])
    for _, m in ipairs(redis.call('SMEMBERS', KEYS[2])) do
      if redis.call('EXISTS', base .. m) == 0 then redis.call('SREM', KEYS[2], m) end
    end
  end
end
return 1
`)

// CommitUser implements session.UserStore: one script saves the data
// with its expiry and adds the key to the user's index. With existing
// set, a session deleted meanwhile (LogoutEverywhere, Logout elsewhere)
// stays deleted.
func (s *Store) CommitUser(ctx context.Context, key, userID string, b []byte, expiry time.Time, existing bool) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	keys := []string{s.dataKey(key)}
	if userID != "" {
		keys = append(keys, s.userKey(userID))
	}
	ex := "0"
	if existing {
		ex = "1"
	}
	err := commitScript.Run(ctx, s.rdb, keys, b, expiry.UnixMilli(), s.now().UnixMilli(), ex, key).Err()
	if err != nil {
		return s.fail("commit", err)
	}
	return nil
}

// Delete implements scs.Store.
func (s *Store) Delete(key string) error { return s.DeleteCtx(context.Background(), key) }

// DeleteCtx implements scs.CtxStore. The user's index keeps the key until
// it is pruned or expires; DeleteUser skips keys already gone.
func (s *Store) DeleteCtx(ctx context.Context, key string) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.rdb.Del(ctx, s.dataKey(key)).Err(); err != nil {
		return s.fail("delete", err)
	}
	return nil
}

// deleteUserScript deletes every session in the index KEYS[1] (data keys
// are ARGV[1] followed by the member) and the index; it returns how many
// sessions existed.
var deleteUserScript = redis.NewScript(`
local n = 0
for _, m in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  n = n + redis.call('DEL', ARGV[1] .. m)
end
redis.call('DEL', KEYS[1])
return n
`)

// DeleteUser implements session.UserStore, atomically.
func (s *Store) DeleteUser(ctx context.Context, userID string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	n, err := deleteUserScript.Run(ctx, s.rdb, []string{s.userKey(userID)}, s.prefix+"s:").Int()
	if err != nil {
		return 0, s.fail("delete user", err)
	}
	return n, nil
}
