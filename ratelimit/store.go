package ratelimit

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// KeyKind says what a limit is keyed by.
type KeyKind int

// The kinds of key.
const (
	KeyIP        KeyKind = iota + 1 // client address (IPv6 by prefix)
	KeyAccount                      // submitted account name
	KeyPrincipal                    // authenticated principal
	KeyRoute                        // matched route pattern (one bucket per route)
)

func (k KeyKind) String() string {
	switch k {
	case KeyIP:
		return "ip"
	case KeyAccount:
		return "account"
	case KeyPrincipal:
		return "principal"
	case KeyRoute:
		return "route"
	}
	return fmt.Sprintf("keykind(%d)", int(k))
}

// Key identifies one bucket within a policy. Addr is set for KeyIP, Name
// otherwise. Key is comparable, so the memory store needs no string building.
type Key struct {
	Kind KeyKind
	Addr netip.Addr
	Name string
}

// String renders the key for stores that need a string, such as Redis:
// "ip:2001:db8::", "account:alice@example.com".
func (k Key) String() string {
	if k.Kind == KeyIP {
		return "ip:" + k.Addr.String()
	}
	return k.Kind.String() + ":" + k.Name
}

// Decision is a store's answer for one request.
type Decision struct {
	// Allowed says whether the request may pass.
	Allowed bool
	// Remaining is how many more requests would pass now.
	Remaining int
	// RetryAfter is the exact wait until one request would pass (0 when
	// allowed).
	RetryAfter time.Duration
	// Reset is the time until the budget is full again.
	Reset time.Duration
}

// Store keeps the buckets. Implementations must be safe for concurrent use
// and make each Take atomic. The memory store (NewMemoryStore) is in this
// package; ratelimit/redisstore shares limits across replicas.
type Store interface {
	// Take spends n units (0 = only look) of k's budget under p at now,
	// using GCRA: each key holds a theoretical arrival time tat; a request
	// passes when max(tat, now) + n·T <= now + Burst·T, where T = 1/Rate.
	// A refused request spends nothing. An error means the store could not
	// decide; the caller applies its fail mode.
	Take(ctx context.Context, p Policy, k Key, n int, now time.Time) (Decision, error)
	// Reset forgets k's bucket under p (a successful login clears the
	// account's failures).
	Reset(ctx context.Context, p Policy, k Key) error
	// Shared reports whether every replica of the app sees the same
	// buckets. An unshared store multiplies each limit by the replica count.
	Shared() bool
}

// gcra is the decision arithmetic shared by the stores. tat and now are in
// nanoseconds; it returns the new tat to store (unchanged when refused).
func gcra(tat, now int64, p Policy, n int) (int64, Decision) {
	t := p.interval()
	limit := int64(p.Burst) * t
	if tat < now {
		tat = now
	}
	cost := int64(n)
	if n == 0 {
		cost = 1
	}
	next := tat + cost*t
	if next-now > limit {
		return tat, Decision{RetryAfter: time.Duration(next - now - limit), Reset: time.Duration(tat - now)}
	}
	if n == 0 {
		next = tat
	}
	return next, Decision{Allowed: true, Remaining: int((now + limit - next) / t), Reset: time.Duration(next - now)}
}

// MemoryConfig configures the in-memory store.
type MemoryConfig struct {
	// MaxKeys is the hard cap on tracked keys; beyond it the least recently
	// used key is evicted (idle keys, whose budget is full, are dropped
	// first). Default 100,000 (about 30 MB of heap at the cap). Rounded up
	// to a multiple of the 64 shards.
	MaxKeys int
}

const memoryShards = 64

// MemoryStore is the in-memory Store: fast and bounded, but per process.
// With more than one replica each keeps its own counts (readiness RATE006).
type MemoryStore struct {
	seed     maphash.Seed
	mu       sync.Mutex               // guards appends to policies
	policies atomic.Pointer[[]string] // policy names by index, copy on write
	shards   [memoryShards]shard
}

// policyID returns the small index of a policy name.
func (s *MemoryStore) policyID(name string) uint32 {
	if ps := s.policies.Load(); ps != nil {
		for i, n := range *ps {
			if n == name {
				return uint32(i)
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var ps []string
	if old := s.policies.Load(); old != nil {
		ps = *old
	}
	for i, n := range ps {
		if n == name {
			return uint32(i)
		}
	}
	ps = append(append([]string(nil), ps...), strings.Clone(name))
	s.policies.Store(&ps)
	return uint32(len(ps) - 1)
}

// Keys are split by kind so the hot path hashes fixed-size memory: an IP
// key is the policy's index and 16 address bytes; only names hash a string.
type ipKey struct {
	policy uint32
	addr   [16]byte
}

type nameKey struct {
	policy uint32
	kind   KeyKind
	name   string
}

type entry struct {
	ip         ipKey
	name       nameKey
	isIP       bool
	tat        int64
	prev, next *entry
}

type shard struct {
	mu    sync.Mutex
	ips   map[ipKey]*entry
	names map[nameKey]*entry
	head  entry // sentinel: head.next is most recent, head.prev least
	max   int
	_     [40]byte // keep shards on separate cache lines
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an in-memory store.
func NewMemoryStore(c MemoryConfig) (*MemoryStore, error) {
	if c.MaxKeys < 0 {
		return nil, fmt.Errorf("ratelimit: MemoryConfig.MaxKeys is %d; use a positive cap or 0 for the default 100,000", c.MaxKeys)
	}
	if c.MaxKeys == 0 {
		c.MaxKeys = 100_000
	}
	per := max((c.MaxKeys+memoryShards-1)/memoryShards, 1)
	if c.MaxKeys < memoryShards {
		per = 1
	}
	s := &MemoryStore{seed: maphash.MakeSeed()}
	for i := range s.shards {
		sh := &s.shards[i]
		sh.ips = make(map[ipKey]*entry)
		sh.names = make(map[nameKey]*entry)
		sh.head.next, sh.head.prev = &sh.head, &sh.head
		sh.max = per
	}
	return s, nil
}

// Shared is false: each process has its own memory.
func (s *MemoryStore) Shared() bool { return false }

// Cap is the effective key cap (rounded to the shard count).
func (s *MemoryStore) Cap() int { return s.shards[0].max * memoryShards }

// Len is the number of tracked keys.
func (s *MemoryStore) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += sh.len()
		sh.mu.Unlock()
	}
	return n
}

func (s *MemoryStore) shard(k *Key) *shard {
	var h uint64
	if k.Kind == KeyIP {
		b := k.Addr.As16()
		h = binary.LittleEndian.Uint64(b[:8])*0x9E3779B97F4A7C15 ^ binary.LittleEndian.Uint64(b[8:])
		h ^= h >> 29
		h *= 0xBF58476D1CE4E5B9
		h ^= h >> 32
	} else {
		h = maphash.String(s.seed, k.Name)
	}
	return &s.shards[h%memoryShards]
}

// Take implements Store. It never fails.
func (s *MemoryStore) Take(_ context.Context, p Policy, k Key, n int, now time.Time) (Decision, error) {
	sh := s.shard(&k)
	pid := s.policyID(p.Name)
	nowNS := now.UnixNano()
	sh.mu.Lock()
	e := sh.lookup(pid, &k)
	var tat int64
	if e != nil {
		tat = e.tat
	}
	newTat, d := gcra(tat, nowNS, p, n)
	switch {
	case e != nil:
		e.tat = newTat
		if sh.head.next != e {
			e.unlink()
			sh.pushFront(e)
		}
	case newTat > nowNS: // only keys with spent budget are worth tracking
		sh.insert(pid, &k, newTat, nowNS)
	}
	sh.mu.Unlock()
	return d, nil
}

// Reset implements Store.
func (s *MemoryStore) Reset(_ context.Context, p Policy, k Key) error {
	sh := s.shard(&k)
	pid := s.policyID(p.Name)
	sh.mu.Lock()
	if e := sh.lookup(pid, &k); e != nil {
		sh.remove(e)
	}
	sh.mu.Unlock()
	return nil
}

func (e *entry) unlink() {
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}

func (sh *shard) pushFront(e *entry) {
	e.prev, e.next = &sh.head, sh.head.next
	sh.head.next.prev = e
	sh.head.next = e
}

func (sh *shard) len() int { return len(sh.ips) + len(sh.names) }

func (sh *shard) lookup(pid uint32, k *Key) *entry {
	if k.Kind == KeyIP {
		return sh.ips[ipKey{pid, k.Addr.As16()}]
	}
	return sh.names[nameKey{pid, k.Kind, k.Name}]
}

func (sh *shard) remove(e *entry) {
	e.unlink()
	if e.isIP {
		delete(sh.ips, e.ip)
	} else {
		delete(sh.names, e.name)
	}
}

func (sh *shard) insert(pid uint32, k *Key, tat, now int64) {
	// Drop up to two idle keys (full budget: nothing to remember) from the
	// cold end, then evict the least recently used while at the cap.
	for i := 0; i < 2; i++ {
		old := sh.head.prev
		if old == &sh.head || old.tat > now {
			break
		}
		sh.remove(old)
	}
	var e *entry
	if sh.len() >= sh.max {
		e = sh.head.prev
		sh.remove(e)
	} else {
		e = new(entry)
	}
	*e = entry{tat: tat}
	if k.Kind == KeyIP {
		e.isIP, e.ip = true, ipKey{pid, k.Addr.As16()}
		sh.ips[e.ip] = e
	} else {
		// Clone so the store does not pin the request's buffers.
		e.name = nameKey{pid, k.Kind, strings.Clone(k.Name)}
		sh.names[e.name] = e
	}
	sh.pushFront(e)
}
