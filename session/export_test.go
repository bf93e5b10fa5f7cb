package session

import "fmt"

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
