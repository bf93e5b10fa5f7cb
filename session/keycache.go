package session

import (
	"hash/maphash"
	"sync/atomic"
)

// keyCache remembers the store keys of the tokens of recently found
// sessions, so that a signed-in user's requests skip the SHA-256 and
// base64 of HashTokenInStore (about a tenth of the kit's cost of a GET),
// and the user IDs read from their sessions, so that those requests do not
// allocate the ID either.
//
// It changes nothing the store sees or the middleware decides: an entry
// maps a token to the key scs would compute for it, which depends on the
// token alone, and the user ID is used only when the session's data still
// names that same user. Whether the session exists, has expired or was
// destroyed is read from the store on every request, as before.
//
// Only tokens whose session the store has just returned are added, so a
// client sending made-up tokens cannot fill the cache with its own data
// (it only costs itself the hash, as every unknown token did before). A
// slot holds one entry: tokens colliding in a slot take turns, each a
// miss (the hash, as before). Tokens are compared in constant time. The
// raw tokens of at most keyCacheSlots live sessions stay in the process's
// memory, as the requests carrying them do; a token whose session is
// deleted through the manager's store (logout, renewal) is forgotten.
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

// keyEntry is one token's store key and user ID. It is immutable once
// published; the strings point into buf, so an app that keeps the user ID
// keeps this small entry alive, never a request.
type keyEntry struct {
	token, key, user string
	buf              [maxCachedToken + storeKeyLen + maxSharedUser]byte
}

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
	e := new(keyEntry)
	b := append(e.buf[:0], token...)
	b = appendStoreKey(b, token)
	e.token = frozenString(b[:len(token)])
	e.key = frozenString(b[len(token):])
	return e
}

// setUser sets the user ID of an unpublished entry, if it fits.
func (e *keyEntry) setUser(user []byte) {
	if len(user) > maxSharedUser {
		return
	}
	b := e.buf[len(e.token)+len(e.key):][:len(user)]
	copy(b, user)
	e.user = frozenString(b)
}

// withUser returns an unpublished copy of e with user as its user ID, or
// nil when user is too long to share the entry.
func (e *keyEntry) withUser(user []byte) *keyEntry {
	if len(user) > maxSharedUser {
		return nil
	}
	n := new(keyEntry)
	b := append(n.buf[:0], e.token...)
	b = append(b, e.key...)
	b = append(b, user...)
	n.token = frozenString(b[:len(e.token)])
	n.key = frozenString(b[len(e.token) : len(e.token)+len(e.key)])
	n.user = frozenString(b[len(e.token)+len(e.key):])
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
