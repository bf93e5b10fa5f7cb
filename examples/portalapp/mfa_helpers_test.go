package portalapp_test

import (
	"crypto/rand"
	"encoding/base32"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/examples/portalapp"
	"github.com/launchready/launchready/mfa"
)

// testMFAKey is a fresh key for the portal's sealed TOTP secrets.
func testMFAKey(t testing.TB) []byte {
	k := make([]byte, mfa.KeySize)
	_, err := rand.Read(k)
	require.NoError(t, err)
	return k
}

// codeSource hands out the demo admin's second factor on the real clock:
// the codes of the current and next step, each once (the portal
// refuses a step used before), then the recovery codes, so a test never
// waits for the clock.
type codeSource struct {
	mu       sync.Mutex
	last     int64 // last step handed out
	recovery int   // recovery codes handed out
}

func (s *codeSource) next(t testing.TB, p *portalapp.Portal) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := time.Now().Unix() / int64(mfa.Period/time.Second)
	step := max(cur, s.last+1) // not cur-1: the server may already be a step ahead
	if step <= cur+1 {
		s.last = step
		code, err := mfa.Code(portalapp.DemoTOTPSecret, time.Unix(step*int64(mfa.Period/time.Second), 0))
		require.NoError(t, err)
		return code
	}
	require.Less(t, s.recovery, len(p.DemoRecoveryCodes), "out of demo admin codes")
	s.recovery++
	return p.DemoRecoveryCodes[s.recovery-1]
}

// enrolAdmin enrols the admin with a secret made for this test and
// returns it (base32).
func enrolAdmin(t testing.TB, p *portalapp.Portal) string {
	raw := make([]byte, 20)
	_, err := rand.Read(raw)
	require.NoError(t, err)
	secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw)
	_, err = p.MFA.Import(t.Context(), "u-admin", secret)
	require.NoError(t, err)
	return secret
}
