package session

import (
	"fmt"
	"unsafe"
)

// Hooks for the external tests.

// CookieValue is cookieValue, for FuzzCookieValue.
var CookieValue = cookieValue

// CheckPeek compares peek with Decode on b: where peek reads b, Decode
// must too and agree on what the middleware uses; where Decode refuses
// compact data, peek must too.
func CheckPeek(b []byte) error {
	deadline, values, err := compactCodec{}.Decode(b)
	info, ok := peek(b)
	if !ok {
		return nil // left to Decode
	}
	if err != nil {
		return fmt.Errorf("peek read data Decode refuses (%v)", err)
	}
	if want := infoOf(deadline, values); !info.deadline.Equal(want.deadline) || info.user != want.user ||
		info.auth != want.auth || info.otp != want.otp || info.seen != want.seen || info.hasSeen != want.hasSeen {
		return fmt.Errorf("peek read %+v, Decode %+v", info, want)
	}
	return nil
}

// Peeks reports whether peek reads b itself (not leaving it to Decode).
func Peeks(b []byte) bool {
	_, ok := peek(b)
	return ok
}

// LoadEagerly makes m load every session before the handler runs, as it
// does when it cannot learn scs's context key.
func LoadEagerly(m *Manager) { m.scsKey = nil }

// RequestStateSize is the size of the request state ServeHTTP allocates.
const RequestStateSize = unsafe.Sizeof(request{})

// CachedKeys returns how many tokens m's key cache holds.
func CachedKeys(m *Manager) int {
	n := 0
	for i := range m.keys.slots {
		if m.keys.slots[i].Load() != nil {
			n++
		}
	}
	return n
}

// CachedUser returns the user ID m's key cache holds for token, and
// whether it holds token.
func CachedUser(m *Manager, token string) (string, bool) {
	e := m.keys.get(token)
	if e == nil {
		return "", false
	}
	return e.info.user, true
}

// StoreKey is the store key scs computes for a hashed token.
func StoreKey(token string) string { return storeKey(token, true) }

// ConstantTimeEqual is constantTimeEqual, the key cache's token compare.
var ConstantTimeEqual = constantTimeEqual
