package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/launchready/launchready/ratelimit"
)

// ErrUnavailable is wrapped by every error caused by Redis being unreachable
// or failing.
var ErrUnavailable = errors.New("redisstore: Redis unavailable")

// Config configures the store.
type Config struct {
	// Client is the Redis client (redis.NewClient, NewFailoverClient or
	// NewClusterClient). Required.
	Client redis.UniversalClient
	// Prefix starts every key. Default "ratelimit:".
	Prefix string
	// Timeout bounds each decision, so a hung Redis costs a request at most
	// this long before the fail mode applies. Default 250 ms.
	Timeout time.Duration
}

// Store is a ratelimit.Store on Redis, shared by every replica.
type Store struct {
	rdb     redis.UniversalClient
	prefix  string
	timeout time.Duration
}

var _ ratelimit.Store = (*Store)(nil)

// New validates c and returns the store. It does not dial; call Ping at
// boot to fail fast.
func New(c Config) (*Store, error) {
	if c.Client == nil {
		return nil, errors.New("redisstore: Config.Client is nil; pass a *redis.Client (redis.NewClient)")
	}
	if c.Timeout < 0 {
		return nil, fmt.Errorf("redisstore: Config.Timeout is %v; use a positive duration or 0 for 250ms", c.Timeout)
	}
	s := &Store{rdb: c.Client, prefix: c.Prefix, timeout: c.Timeout}
	if s.prefix == "" {
		s.prefix = "ratelimit:"
	}
	if s.timeout == 0 {
		s.timeout = 250 * time.Millisecond
	}
	return s, nil
}

// Shared is true: every replica sees the same buckets.
func (s *Store) Shared() bool { return true }

// Ping checks that Redis answers and loads the script.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := gcraScript.Load(ctx, s.rdb).Err(); err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return nil
}

// gcraScript is one decision. KEYS[1] is the bucket; ARGV are now and the
// emission interval T in microseconds, the burst and the cost n (0 looks
// without spending). It returns {allowed, remaining, retry_us, reset_us}.
// The stored value is the theoretical arrival time; it expires when the
// budget would be full again, so idle keys cost nothing.
var gcraScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local t = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local n = tonumber(ARGV[4])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
if tat < now then tat = now end
local cost = n
if n == 0 then cost = 1 end
local nxt = tat + cost * t
local limit = burst * t
if nxt - now > limit then
  return {0, 0, nxt - now - limit, tat - now}
end
if n == 0 then
  nxt = tat
else
  redis.call('SET', KEYS[1], string.format('%.0f', nxt), 'PX', math.floor((nxt - now) / 1000) + 1)
end
return {1, math.floor((now + limit - nxt) / t), 0, nxt - now}
`)

func (s *Store) key(p ratelimit.Policy, k ratelimit.Key) string {
	return s.prefix + p.Name + ":" + k.String()
}

// Take implements ratelimit.Store with one EVALSHA.
func (s *Store) Take(ctx context.Context, p ratelimit.Policy, k ratelimit.Key, n int, now time.Time) (ratelimit.Decision, error) {
	interval := int64(float64(time.Second/time.Microsecond) / float64(p.Rate))
	if interval < 1 {
		interval = 1
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	res, err := gcraScript.Run(ctx, s.rdb, []string{s.key(p, k)}, now.UnixMicro(), interval, p.Burst, n).Int64Slice()
	if err != nil {
		return ratelimit.Decision{}, fmt.Errorf("%w: limit %q: %w", ErrUnavailable, p.Name, err)
	}
	if len(res) != 4 {
		return ratelimit.Decision{}, fmt.Errorf("%w: limit %q: unexpected script reply of %d values", ErrUnavailable, p.Name, len(res))
	}
	return ratelimit.Decision{
		Allowed:    res[0] == 1,
		Remaining:  int(res[1]),
		RetryAfter: time.Duration(res[2]) * time.Microsecond,
		Reset:      time.Duration(res[3]) * time.Microsecond,
	}, nil
}

// Reset implements ratelimit.Store.
func (s *Store) Reset(ctx context.Context, p ratelimit.Policy, k ratelimit.Key) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.rdb.Del(ctx, s.key(p, k)).Err(); err != nil {
		return fmt.Errorf("%w: limit %q: %w", ErrUnavailable, p.Name, err)
	}
	return nil
}
