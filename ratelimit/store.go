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

	"golang.org/x/time/rate"
)

// KeyKind says what a limit is keyed by.
type KeyKind int

// The kinds of key.
const (
	KeyIP        KeyKind = iota + 1 // client address (IPv6 by prefix)
	KeyAccount                      // submitted account name
	KeyPrincipal                    // authenticated principal
	KeyRoute                        // matched route pattern (one bucket per route)
	KeyDevice                       // a known device of an account (Failures' device cookie)
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
	case KeyDevice:
		return "device"
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
// nanoseconds, t is the policy's emission interval (Policy.interval); it
// returns the new tat to store (unchanged when refused).
func gcra(tat, now, t int64, p Policy, n int) (int64, Decision) {
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
	// MaxKeys is the hard cap on tracked keys; beyond it a key not used
	// recently is evicted (idle keys, whose budget is full, go first).
	// Default 100,000 (about 10 MB of heap at the cap, bench/BenchmarkRateHeap1MKeys). Rounded up to a
	// multiple of the 64 shards.
	MaxKeys int
}

const (
	memoryShards = 64
	minSlots     = 16
	// tidyPerInsert is how many slots each insert inspects for idle keys
	// (full budget: nothing worth remembering), so the table sheds them
	// without a background goroutine.
	tidyPerInsert = 4
)

// MemoryStore is the in-memory Store: fast and bounded, but per process.
// With more than one replica each keeps its own counts (readiness RATE006).
//
// Decisions on a known key take no lock: each shard is an open-addressing
// table of pointers that readers load atomically, and an entry's GCRA
// state is one int64 updated by compare-and-swap. Inserts, removals and
// table rebuilds take the shard's mutex. Entries are never reused, so a
// reader holding a removed entry sees its dead flag and retries under the
// lock instead of charging someone else's bucket. Eviction at the cap is
// CLOCK (second chance), an approximation of least-recently-used that needs
// no list manipulation on the read path.
type MemoryStore struct {
	seed     maphash.Seed
	mu       sync.Mutex                   // guards appends to policies
	policies atomic.Pointer[[]policyInfo] // by index, copy on write
	shards   [memoryShards]shard
}

// policyInfo caches a policy's emission interval, a float division that
// would otherwise run on every decision.
type policyInfo struct {
	name     string // kept as given: names are code, and an identical pointer compares in one step
	rate     rate.Limit
	interval int64
}

// policy returns the small index of p's name and p's emission interval.
func (s *MemoryStore) policy(p *Policy) (uint32, int64) {
	if ps := s.policies.Load(); ps != nil {
		for i := range *ps {
			if pi := &(*ps)[i]; pi.name == p.Name {
				if pi.rate == p.Rate {
					return uint32(i), pi.interval
				}
				return uint32(i), p.interval()
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var ps []policyInfo
	if old := s.policies.Load(); old != nil {
		ps = *old
	}
	for i := range ps {
		if ps[i].name == p.Name {
			return uint32(i), p.interval()
		}
	}
	ps = append(append([]policyInfo(nil), ps...), policyInfo{name: p.Name, rate: p.Rate, interval: p.interval()})
	s.policies.Store(&ps)
	return uint32(len(ps) - 1), p.interval()
}

// entry is one key's bucket. Everything but tat, used and dead is written
// before the entry is published and never changes after.
type entry struct {
	hash   uint64
	tat    atomic.Int64  // GCRA theoretical arrival time, ns
	used   atomic.Uint32 // CLOCK reference bit: set on use, cleared by the sweep
	dead   atomic.Bool   // removed from the table
	policy uint32
	kind   KeyKind
	addr   netip.Addr // KeyIP
	name   string     // other kinds
}

func (e *entry) matches(h uint64, pid uint32, k *Key) bool {
	if e.hash != h || e.policy != pid || e.kind != k.Kind || e == tombstone {
		return false
	}
	if k.Kind == KeyIP {
		return e.addr == k.Addr
	}
	return e.name == k.Name
}

// take applies GCRA to e without a lock. ok is false when e was removed
// from its table meanwhile; the caller then decides under the lock.
func (e *entry) take(p *Policy, interval int64, n int, now int64) (d Decision, ok bool) {
	for {
		old := e.tat.Load()
		next, d := gcra(old, now, interval, *p, n)
		if next != old && !e.tat.CompareAndSwap(old, next) {
			continue
		}
		if e.used.Load() == 0 {
			e.used.Store(1)
		}
		// A removal after this check is ordered after our charge: the key
		// was forgotten with it, as if the request came just before.
		return d, !e.dead.Load()
	}
}

// tombstone marks a removed slot, so probes for keys placed past it go on.
var tombstone = &entry{}

type table struct {
	slots []atomic.Pointer[entry]
	mask  uint64
}

func newTable(n int) *table {
	return &table{slots: make([]atomic.Pointer[entry], n), mask: uint64(n - 1)}
}

// find returns the slot index and entry of a key, or -1 and nil. The
// table always keeps a quarter of its slots nil, so a probe ends.
func (t *table) find(h uint64, pid uint32, k *Key) (int, *entry) {
	for i := (h / memoryShards) & t.mask; ; i = (i + 1) & t.mask {
		e := t.slots[i].Load()
		if e == nil {
			return -1, nil
		}
		if e.matches(h, pid, k) {
			return int(i), e
		}
	}
}

type shard struct {
	table atomic.Pointer[table]
	mu    sync.Mutex // serialises inserts, removals and rebuilds
	live  int        // entries in the table
	used  int        // live entries plus tombstones
	hand  uint64     // CLOCK position
	max   int
	_     [16]byte // keep shards on separate cache lines
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
	s := &MemoryStore{seed: maphash.MakeSeed()}
	for i := range s.shards {
		sh := &s.shards[i]
		sh.table.Store(newTable(minSlots))
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
		n += sh.live
		sh.mu.Unlock()
	}
	return n
}

// hash mixes the policy index and the key. An address hashes with a
// multiply-xorshift over its bytes (no seed needed: the table is bounded,
// so colliding addresses cost probes, not memory); names use the
// process-seeded maphash.
func (s *MemoryStore) hash(pid uint32, k *Key) uint64 {
	var h uint64
	if k.Kind == KeyIP {
		if k.Addr.Is4() {
			a := k.Addr.As4()
			h = uint64(binary.LittleEndian.Uint32(a[:])) * 0x9E3779B97F4A7C15
		} else {
			a := k.Addr.As16()
			h = binary.LittleEndian.Uint64(a[:8])*0x9E3779B97F4A7C15 ^ binary.LittleEndian.Uint64(a[8:])
		}
	} else {
		h = maphash.String(s.seed, k.Name) ^ uint64(k.Kind)<<56
	}
	h ^= uint64(pid) * 0xD6E8FEB86659FD93
	h ^= h >> 29
	h *= 0xBF58476D1CE4E5B9
	h ^= h >> 32
	return h
}

// Take implements Store. It never fails.
func (s *MemoryStore) Take(_ context.Context, p Policy, k Key, n int, now time.Time) (Decision, error) {
	return s.take(&p, &k, n, now.UnixNano()), nil
}

func (s *MemoryStore) take(p *Policy, k *Key, n int, now int64) Decision {
	var folded Key
	if k.Kind == KeyIP && !k.Addr.Is4() {
		k = foldKey(&folded, k)
	}
	pid, interval := s.policy(p)
	h := s.hash(pid, k)
	sh := &s.shards[h%memoryShards]
	if _, e := sh.table.Load().find(h, pid, k); e != nil {
		if d, ok := e.take(p, interval, n, now); ok {
			return d
		}
	}
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, e := sh.table.Load().find(h, pid, k); e != nil {
		d, _ := e.take(p, interval, n, now) // entries die only under the lock we hold
		return d
	}
	next, d := gcra(0, now, interval, *p, n)
	if next > now { // only keys with spent budget are worth tracking
		sh.insert(h, pid, k, next, now)
	}
	return d
}

// foldKey writes k with its address in canonical form to dst: a zone or an
// IPv4-mapped form must not open a second bucket for the same client.
func foldKey(dst, k *Key) *Key {
	*dst = *k
	dst.Addr = fold(k.Addr)
	return dst
}

// Reset implements Store.
func (s *MemoryStore) Reset(_ context.Context, p Policy, k Key) error {
	if k.Kind == KeyIP && !k.Addr.Is4() {
		foldKey(&k, &k)
	}
	pid, _ := s.policy(&p)
	h := s.hash(pid, &k)
	sh := &s.shards[h%memoryShards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	t := sh.table.Load()
	if i, e := t.find(h, pid, &k); e != nil {
		sh.remove(t, i, e)
	}
	return nil
}

// remove takes e out of slot i. Called with sh.mu held.
func (sh *shard) remove(t *table, i int, e *entry) {
	e.dead.Store(true)
	// A slot followed by a nil ends every probe through it, so it can be
	// nil itself; otherwise later keys' probes must walk past it.
	if t.slots[(uint64(i)+1)&t.mask].Load() == nil {
		t.slots[i].Store(nil)
		sh.used--
	} else {
		t.slots[i].Store(tombstone)
	}
	sh.live--
}

// insert adds a key known to be absent. Called with sh.mu held.
func (sh *shard) insert(h uint64, pid uint32, k *Key, tat, now int64) {
	sh.sweep(now, tidyPerInsert, false)
	for sh.live >= sh.max {
		sh.sweep(now, -1, true)
	}
	t := sh.table.Load()
	if (sh.used+1)*4 > len(t.slots)*3 {
		t = sh.rebuild()
	}
	e := &entry{hash: h, policy: pid, kind: k.Kind}
	if k.Kind == KeyIP {
		e.addr = k.Addr
	} else {
		e.name = strings.Clone(k.Name) // do not pin the request's buffers
	}
	e.tat.Store(tat)
	e.used.Store(1)
	i := (h / memoryShards) & t.mask
	for {
		cur := t.slots[i].Load()
		if cur == nil {
			sh.used++
			break
		}
		if cur == tombstone {
			break
		}
		i = (i + 1) & t.mask
	}
	t.slots[i].Store(e)
	sh.live++
}

// sweep moves the CLOCK hand over up to steps occupied slots (-1: until one
// entry is evicted), removing idle entries and clearing use bits; with
// evict it also removes the first entry not used since the hand last
// passed (second chance). Every insert moves the hand a little, so at the
// cap the bits tell which keys were used since the hand's last visit, not
// merely since the first eviction. Called with sh.mu held.
func (sh *shard) sweep(now int64, steps int, evict bool) {
	t := sh.table.Load()
	n := uint64(len(t.slots))
	for scanned := uint64(0); scanned < 3*n && steps != 0; scanned++ {
		i := int(sh.hand & t.mask)
		sh.hand++
		e := t.slots[i].Load()
		if e == nil || e == tombstone {
			continue
		}
		if steps > 0 {
			steps--
		}
		if e.tat.Load() <= now {
			sh.remove(t, i, e)
			if evict {
				return
			}
			continue
		}
		if e.used.Swap(0) == 0 && evict || evict && scanned >= 2*n {
			sh.remove(t, i, e)
			return
		}
	}
}

// rebuild copies the live entries into a fresh table of twice their count
// (at least minSlots), dropping tombstones. Readers still on the old table
// find the same entry objects, so no charge is lost. Called with sh.mu held.
func (sh *shard) rebuild() *table {
	old := sh.table.Load()
	size := minSlots
	for size < 2*(sh.live+1) {
		size *= 2
	}
	t := newTable(size)
	for i := range old.slots {
		e := old.slots[i].Load()
		if e == nil || e == tombstone {
			continue
		}
		j := (e.hash / memoryShards) & t.mask
		for t.slots[j].Load() != nil {
			j = (j + 1) & t.mask
		}
		t.slots[j].Store(e)
	}
	sh.used = sh.live
	sh.table.Store(t)
	return t
}
