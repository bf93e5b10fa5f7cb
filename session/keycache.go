package session

import (
	"hash/maphash"
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
// (it only costs itself the hash, as every unknown token did before). A
// slot holds one entry: tokens colliding in a slot take turns, each a
// miss (the hash, as before). Tokens are compared in constant time. The
// raw tokens of at most keyCacheSlots live sessions, and copies of their
// data up to maxCachedData bytes, stay in the process's memory, as the
// requests carrying them do; a token whose session is deleted through the
// manager's store (logout, renewal) is forgotten.
type keyCache struct {
	seed  maphash.Seed
	slots [keyCacheSlots]atomic.Pointer[keyEntry]
}

// keyCacheSlots is the number of entries: a few thousand signed-in users
// active at once keep hitting it. 8 KiB of pointers per Manager.
const keyCacheSlots = 1024

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

func (c *keyCache) slot(token string) *atomic.Pointer[keyEntry] {
	return &c.slots[maphash.String(c.seed, token)&(keyCacheSlots-1)]
}

// get returns token's entry, or nil.
func (c *keyCache) get(token string) *keyEntry {
	if len(token) > maxCachedToken {
		return nil
	}
	if e := c.slot(token).Load(); e != nil && constantTimeEqual(e.token, token) {
		return e
	}
	return nil
}

// newKeyEntry returns an unpublished entry for token with its store key
// computed, or nil for a token too long to cache.
func newKeyEntry(token string) *keyEntry {
	if len(token) > maxCachedToken {
		return nil
	}
	// A copy of token: the request's is part of its Cookie header.
	return &keyEntry{token: strings.Clone(token), key: storeKey(token, true)}
}

// peeked returns what peek read from data when e holds the same bytes.
func (e *keyEntry) peeked(data []byte) (sessionInfo, bool) {
	if e == nil || e.data == "" || e.data != string(data) {
		return sessionInfo{}, false
	}
	return e.info, true
}

// withData returns an unpublished copy of e that keeps a copy of data and
// info, peek's reading of it, with user, the user ID's bytes, as its
// user; nil when e is nil or data too long to keep.
func (e *keyEntry) withData(data []byte, info sessionInfo, user []byte) *keyEntry {
	if e == nil || len(data) > maxCachedData {
		return nil
	}
	n := &keyEntry{token: e.token, key: e.key, data: string(data), info: info}
	// user is peekData's slice of data: the same bytes of n.data, found
	// by where it starts in data's array (checked, to be sure).
	if off := cap(data) - cap(user); off >= 0 && off+len(user) <= len(n.data) && n.data[off:off+len(user)] == string(user) {
		n.info.user = n.data[off : off+len(user)]
	} else {
		n.info.user = string(user)
	}
	return n
}

// put publishes e, replacing its slot's entry.
func (c *keyCache) put(e *keyEntry) { c.slot(e.token).Store(e) }

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
	var v byte
	for i := 0; i < len(a); i++ {
		v |= a[i] ^ b[i]
	}
	return v == 0
}
