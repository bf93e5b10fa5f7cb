package session

import (
	"hash/maphash"
	"math/rand/v2"
	"strings"
	"sync/atomic"
)

// keyCache remembers the store keys of the tokens of recently found
// sessions, so that a signed-in user's requests skip the SHA-256 and
// base64 of HashTokenInStore (about a tenth of the kit's cost of a GET),
// and what peek read from their sessions' data, so that those requests
// neither parse the data again nor allocate the user ID.
//
// It changes nothing the store sees or the middleware decides: an entry
// maps a token to the key scs would compute for it, which depends on the
// token alone, and peek's reading of the data is used only when the store
// returned the very same bytes (compared whole). Whether the session
// exists is read from the store on every request, and its expiry decided
// from its data and the clock, as before.
//
// Only tokens whose session the store has just returned are added, so a
// client sending made-up tokens cannot fill the cache with its own data
// (it only costs itself the hash, as every unknown token did before).
// Tokens are compared in constant time. The cache is two-way set
// associative: a token may sit in either slot of its pair, so a few
// hundred active sessions rarely evict one another. The raw tokens of at
// most keyCacheSlots live sessions, and copies of their data up to
// maxCachedData bytes, stay in the process's memory, as the requests
// carrying them do; a token whose session is deleted through the
// manager's store (logout, renewal) is forgotten.
type keyCache struct {
	seed  maphash.Seed
	slots [keyCacheSlots]atomic.Pointer[keyEntry]
}

// keyCacheSlots is the number of entries (in pairs): 16 KiB of pointers
// per Manager, some 0.7 MiB with every slot filled.
const keyCacheSlots = 2048

// maxCachedToken is the longest token the cache keeps (scs's have 43
// characters); a longer one is hashed on every request.
const maxCachedToken = 64

// keyEntry is one token's store key, and the session data the store last
// returned for it with what peek read from that data. It is immutable once
// published, so an app that keeps the user ID keeps this small entry
// alive, never a request.
type keyEntry struct {
	token, key string
	// data is a copy of the session's data, info what peek read from it,
	// user ID included; "" when the data was not kept (too long, or not
	// the compact codec's).
	data string
	info sessionInfo
}

// maxCachedData is the longest session data an entry keeps: a session of
// the kit's own values (user, authentication time, last save) takes some
// 80 bytes; an app that keeps more in it is peeked on every request.
const maxCachedData = 256

func newKeyCache() *keyCache { return &keyCache{seed: maphash.MakeSeed()} }

// pair returns the two slots token may sit in.
func (c *keyCache) pair(token string) *[2]atomic.Pointer[keyEntry] {
	i := maphash.String(c.seed, token) & (keyCacheSlots - 2)
	return (*[2]atomic.Pointer[keyEntry])(c.slots[i : i+2])
}

// get returns token's entry, or nil.
func (c *keyCache) get(token string) *keyEntry {
	if len(token) > maxCachedToken {
		return nil
	}
	p := c.pair(token)
	for i := range p {
		if e := p[i].Load(); e != nil && constantTimeEqual(e.token, token) {
			return e
		}
	}
	return nil
}

// peeked returns what peek read from data when e holds the same bytes.
func (e *keyEntry) peeked(data []byte) (sessionInfo, bool) {
	if e == nil || e.data == "" || e.data != string(data) {
		return sessionInfo{}, false
	}
	return e.info, true
}

// remember publishes an entry for token, whose store key is key and whose
// session the store just returned as data: in place of old, token's entry
// now out of date, or of none. When peek read data (ok) and data is short
// enough, the entry keeps a copy of it and info, peek's reading, with
// user, the user ID's bytes in data. It returns info with its user ID.
func (c *keyCache) remember(old *keyEntry, token, key string, data []byte, info sessionInfo, user []byte, ok bool) sessionInfo {
	n := &keyEntry{key: key}
	if old != nil {
		n.token = old.token
	} else {
		n.token = strings.Clone(token) // the request's is part of its Cookie header
	}
	if ok && len(data) <= maxCachedData {
		n.data, n.info = string(data), info
		// user is peekData's slice of data: the same bytes of n.data, found
		// by where it starts in data's array (checked, to be sure).
		if off := cap(data) - cap(user); off >= 0 && off+len(user) <= len(n.data) && n.data[off:off+len(user)] == string(user) {
			n.info.user = n.data[off : off+len(user)]
		} else {
			n.info.user = string(user)
		}
		info = n.info
	} else if len(user) > 0 {
		info.user = string(user)
	}
	c.put(n)
	return info
}

// put publishes e: in the slot of its token's pair that holds the token
// or is empty, else in place of either entry, at random.
func (c *keyCache) put(e *keyEntry) {
	p := c.pair(e.token)
	for i := range p {
		if old := p[i].Load(); old == nil || constantTimeEqual(old.token, e.token) {
			p[i].Store(e)
			return
		}
	}
	p[rand.IntN(2)].Store(e)
}

// forget drops the entries drop picks. It scans every slot: it runs when
// sessions are deleted, not on the request path.
func (c *keyCache) forget(drop func(*keyEntry) bool) {
	for i := range c.slots {
		if e := c.slots[i].Load(); e != nil && drop(e) {
			c.slots[i].CompareAndSwap(e, nil)
		}
	}
}

// constantTimeEqual reports whether a == b in time that depends on their
// lengths only (a token's length is no secret: scs's are all 43).
func constantTimeEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	var v uint64
	i := 0
	for ; i+8 <= len(a); i += 8 { // eight bytes at a time (one load each)
		v |= load64(a[i:]) ^ load64(b[i:])
	}
	for ; i < len(a); i++ {
		v |= uint64(a[i] ^ b[i])
	}
	return v == 0
}

// load64 reads s's first eight bytes as a little-endian number.
func load64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}
