package mfa_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"image/png"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/mfa"
)

// clock is a fake clock the tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newKey(t testing.TB) []byte {
	k := make([]byte, mfa.KeySize)
	_, err := rand.Read(k)
	require.NoError(t, err)
	return k
}

// start of a 30-second step, so ±1 step arithmetic is exact.
var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func newAuth(t testing.TB, store mfa.Store) (*mfa.Authenticator, *clock) {
	c := &clock{t: t0}
	a, err := mfa.New(mfa.Config{Issuer: "Acme Portal", Key: newKey(t), Store: store, Now: c.Now})
	require.NoError(t, err)
	return a, c
}

// enrolled enrols account and returns its secret and recovery codes.
func enrolled(t testing.TB, a *mfa.Authenticator, c *clock, account string) (string, []string) {
	ctx := context.Background()
	enr, err := a.Enroll(ctx, account, account+"@acme.test")
	require.NoError(t, err)
	code, err := mfa.Code(enr.Secret, c.Now())
	require.NoError(t, err)
	rec, err := a.Confirm(ctx, account, code)
	require.NoError(t, err)
	c.Add(mfa.Period) // the confirming code's step is spent
	return enr.Secret, rec
}

func TestNewRefusesBadConfig(t *testing.T) {
	weak := bytes.Repeat([]byte("ab"), 16)
	for name, tc := range map[string]struct {
		cfg  mfa.Config
		want string
	}{
		"no issuer":     {mfa.Config{Key: newKey(t)}, "Config.Issuer"},
		"colon":         {mfa.Config{Issuer: "Acme:Portal", Key: newKey(t)}, "Config.Issuer"},
		"no key":        {mfa.Config{Issuer: "Acme"}, "Config.Key is empty"},
		"short key":     {mfa.Config{Issuer: "Acme", Key: newKey(t)[:16]}, "Config.Key is 16 bytes"},
		"patterned key": {mfa.Config{Issuer: "Acme", Key: weak}, "distinct byte values"},
		"zero key":      {mfa.Config{Issuer: "Acme", Key: make([]byte, 32)}, "distinct byte values"},
		"codes":         {mfa.Config{Issuer: "Acme", Key: newKey(t), RecoveryCodes: -1}, "RecoveryCodes"},
	} {
		t.Run(name, func(t *testing.T) {
			a, err := mfa.New(tc.cfg)
			require.Error(t, err)
			assert.Nil(t, a)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestKeyFromEnv(t *testing.T) {
	good := newKey(t)
	t.Setenv("MFA_TEST_KEY", base64.StdEncoding.EncodeToString(good))
	k, err := mfa.KeyFromEnv("MFA_TEST_KEY")
	require.NoError(t, err)
	assert.Equal(t, good, k)

	for name, v := range map[string]string{
		"unset":   "",
		"garbage": "not a key at all!",
		"short":   base64.StdEncoding.EncodeToString(good[:20]),
		"zeros":   base64.StdEncoding.EncodeToString(make([]byte, 32)),
		"text":    base64.StdEncoding.EncodeToString([]byte("changeme-changeme-changeme-chang")),
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("MFA_TEST_KEY", v)
			_, err := mfa.KeyFromEnv("MFA_TEST_KEY")
			require.ErrorIs(t, err, mfa.ErrWeakKey)
			assert.Contains(t, err.Error(), "MFA_TEST_KEY")
		})
	}
}

func TestEnrollGivesAValidURIAndQRCode(t *testing.T) {
	a, _ := newAuth(t, nil)
	enr, err := a.Enroll(context.Background(), "u-1", "ada@acme.test")
	require.NoError(t, err)
	u, err := mfa.ParseURI(enr.URI)
	require.NoError(t, err)
	assert.Equal(t, "Acme Portal", u.Issuer)
	assert.Equal(t, "ada@acme.test", u.Account)
	assert.Len(t, u.Secret, 20)
	img, err := png.Decode(bytes.NewReader(enr.PNG))
	require.NoError(t, err)
	assert.Equal(t, 256, img.Bounds().Dx())

	// Not enrolled until confirmed: a pending enrolment protects nothing
	// and verifies nothing.
	ok, err := a.Enrolled(context.Background(), "u-1")
	require.NoError(t, err)
	assert.False(t, ok)
	code, err := mfa.Code(enr.Secret, t0)
	require.NoError(t, err)
	_, err = a.Verify(context.Background(), "u-1", code)
	assert.ErrorIs(t, err, mfa.ErrNotEnrolled)
}

func TestConfirmRefusesWrongCodeAndSecondEnrolment(t *testing.T) {
	ctx := context.Background()
	a, c := newAuth(t, nil)
	enr, err := a.Enroll(ctx, "u-1", "ada@acme.test")
	require.NoError(t, err)
	_, err = a.Confirm(ctx, "u-1", "000000")
	if code, _ := mfa.Code(enr.Secret, c.Now()); code == "000000" {
		t.Skip("the random secret's code is 000000")
	}
	assert.ErrorIs(t, err, mfa.ErrInvalidCode)
	_, err = a.Confirm(ctx, "u-2", "123456")
	assert.ErrorIs(t, err, mfa.ErrNoEnrollment)

	code, err := mfa.Code(enr.Secret, c.Now())
	require.NoError(t, err)
	rec, err := a.Confirm(ctx, "u-1", code)
	require.NoError(t, err)
	assert.Len(t, rec, 10)
	ok, err := a.Enrolled(ctx, "u-1")
	require.NoError(t, err)
	assert.True(t, ok)

	// A confirmed factor cannot be replaced by whoever holds the session.
	_, err = a.Enroll(ctx, "u-1", "ada@acme.test")
	assert.ErrorIs(t, err, mfa.ErrAlreadyEnrolled)
}

func TestVerifyWindowAndReplay(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		offset time.Duration // of the code's time from the server's
		want   error
	}{
		{"current step", 0, nil},
		{"end of current step", 29 * time.Second, nil},
		{"previous step", -mfa.Period, nil},
		{"next step", mfa.Period, nil},
		{"two steps back", -2 * mfa.Period, mfa.ErrInvalidCode},
		{"two steps ahead", 2 * mfa.Period, mfa.ErrInvalidCode},
		{"an hour old", -time.Hour, mfa.ErrInvalidCode},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, c := newAuth(t, nil)
			secret, _ := enrolled(t, a, c, "u-1")
			c.Add(10 * mfa.Period)
			code, err := mfa.Code(secret, c.Now().Add(tc.offset))
			require.NoError(t, err)
			m, err := a.Verify(ctx, "u-1", code)
			if tc.want != nil {
				assert.ErrorIs(t, err, tc.want)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, mfa.MethodTOTP, m)
			// The same code again, still inside its window: refused.
			_, err = a.Verify(ctx, "u-1", code)
			assert.ErrorIs(t, err, mfa.ErrReplayed)
			c.Add(mfa.Period / 2)
			_, err = a.Verify(ctx, "u-1", code)
			assert.ErrorIs(t, err, mfa.ErrReplayed, "replayed half a step later")
		})
	}
}

func TestVerifyRefusesAnEarlierStepAfterALaterOne(t *testing.T) {
	ctx := context.Background()
	a, c := newAuth(t, nil)
	secret, _ := enrolled(t, a, c, "u-1")
	c.Add(10 * mfa.Period)
	later, err := mfa.Code(secret, c.Now().Add(mfa.Period))
	require.NoError(t, err)
	earlier, err := mfa.Code(secret, c.Now())
	require.NoError(t, err)
	if later == earlier {
		t.Skip("two consecutive steps share a code")
	}
	_, err = a.Verify(ctx, "u-1", later)
	require.NoError(t, err)
	_, err = a.Verify(ctx, "u-1", earlier)
	assert.ErrorIs(t, err, mfa.ErrReplayed)
	// The next step after the used one is fine.
	c.Add(2 * mfa.Period)
	next, err := mfa.Code(secret, c.Now())
	require.NoError(t, err)
	_, err = a.Verify(ctx, "u-1", next)
	assert.NoError(t, err)
}

func TestReplayIsPerAccount(t *testing.T) {
	ctx := context.Background()
	store := mfa.NewMemoryStore()
	a, c := newAuth(t, store)
	_, err := a.Import(ctx, "u-1", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
	require.NoError(t, err)
	_, err = a.Import(ctx, "u-2", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
	require.NoError(t, err)
	code, err := mfa.Code("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", c.Now())
	require.NoError(t, err)
	_, err = a.Verify(ctx, "u-1", code)
	require.NoError(t, err)
	_, err = a.Verify(ctx, "u-2", code)
	assert.NoError(t, err, "another account's use does not spend this one's step")
	_, err = a.Verify(ctx, "u-1", code)
	assert.ErrorIs(t, err, mfa.ErrReplayed)
}

func TestConcurrentVerificationsAcceptACodeOnce(t *testing.T) {
	ctx := context.Background()
	a, c := newAuth(t, nil)
	secret, _ := enrolled(t, a, c, "u-1")
	code, err := mfa.Code(secret, c.Now())
	require.NoError(t, err)
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if _, err := a.Verify(ctx, "u-1", code); err == nil {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int32(1), ok.Load())
}

func TestRecoveryCodeWorksOnce(t *testing.T) {
	ctx := context.Background()
	a, c := newAuth(t, nil)
	_, rec := enrolled(t, a, c, "u-1")
	require.Len(t, rec, 10)
	seen := map[string]bool{}
	for _, r := range rec {
		assert.Regexp(t, `^[a-z2-7]{5}-[a-z2-7]{5}$`, r)
		assert.False(t, seen[r], "recovery codes are distinct")
		seen[r] = true
	}
	// Typed in upper case without the dash: the same code.
	m, err := a.Verify(ctx, "u-1", strings.ToUpper(strings.ReplaceAll(rec[3], "-", "")))
	require.NoError(t, err)
	assert.Equal(t, mfa.MethodRecovery, m)
	_, err = a.Verify(ctx, "u-1", rec[3])
	assert.ErrorIs(t, err, mfa.ErrInvalidCode, "a recovery code works once")
	left, err := a.RecoveryCodesLeft(ctx, "u-1")
	require.NoError(t, err)
	assert.Equal(t, 9, left)

	// Another account's code does not work here.
	_, rec2 := enrolled(t, a, c, "u-2")
	_, err = a.Verify(ctx, "u-1", rec2[0])
	assert.ErrorIs(t, err, mfa.ErrInvalidCode)
}

func TestStoreHoldsNothingUsableWithoutTheKey(t *testing.T) {
	ctx := context.Background()
	store := mfa.NewMemoryStore()
	a, c := newAuth(t, store)
	secret, rec := enrolled(t, a, c, "u-1")
	_, _ = enrolled(t, a, c, "u-2")
	r, err := store.Get(ctx, "u-1")
	require.NoError(t, err)
	raw, err := mfa.ParseURI("otpauth://totp/A:b?secret=" + secret + "&issuer=A")
	require.NoError(t, err)
	assert.False(t, bytes.Contains(r.Sealed, raw.Secret), "the secret is stored sealed")
	for _, h := range r.Recovery {
		for _, code := range rec {
			assert.False(t, bytes.Contains(h, []byte(strings.ReplaceAll(code, "-", ""))), "recovery codes are stored hashed")
		}
	}

	// Another key (another deployment, a leaked dump): nothing verifies.
	other, err := mfa.New(mfa.Config{Issuer: "Acme Portal", Key: newKey(t), Store: store, Now: c.Now})
	require.NoError(t, err)
	code, err := mfa.Code(secret, c.Now())
	require.NoError(t, err)
	_, err = other.Verify(ctx, "u-1", code)
	assert.Error(t, err)
	_, err = other.Verify(ctx, "u-1", rec[0])
	assert.ErrorIs(t, err, mfa.ErrInvalidCode)

	// u-1's sealed secret copied into u-2's record does not open there.
	require.NoError(t, store.Update(ctx, "u-2", func(r2 *mfa.Record) error {
		r2.Sealed = r.Sealed
		return nil
	}))
	_, err = a.Verify(ctx, "u-2", code)
	require.Error(t, err)
	assert.NotErrorIs(t, err, mfa.ErrInvalidCode)
}

func TestVerifyRefusesMalformedAndUnknown(t *testing.T) {
	ctx := context.Background()
	a, c := newAuth(t, nil)
	enrolled(t, a, c, "u-1")
	for _, in := range []string{"", "12345", "1234567", "12a456", "１２３４５６", "123456\x00", strings.Repeat("1", 100), "abcde-fghi1"} {
		_, err := a.Verify(ctx, "u-1", in)
		assert.ErrorIs(t, err, mfa.ErrMalformed, "%q", in)
	}
	_, err := a.Verify(ctx, "nobody", "123456")
	assert.ErrorIs(t, err, mfa.ErrNotEnrolled)
	_, err = a.Verify(ctx, "", "123456")
	assert.ErrorIs(t, err, mfa.ErrNotEnrolled)
}

func TestParseCode(t *testing.T) {
	for in, want := range map[string]string{"123456": "123456", " 123 456 ": "123456", "123-456": "123456", "000000": "000000"} {
		got, err := mfa.ParseCode(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got)
	}
	for _, in := range []string{"", "12-3456", "1234567", "12345", "+12345", "١٢٣٤٥٦"} {
		_, err := mfa.ParseCode(in)
		assert.ErrorIs(t, err, mfa.ErrMalformed, "%q", in)
	}
}

func TestParseURIRefuses(t *testing.T) {
	const s = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	for name, uri := range map[string]string{
		"hotp":           "otpauth://hotp/Acme:ada?secret=" + s + "&counter=1",
		"scheme":         "https://totp/Acme:ada?secret=" + s,
		"short secret":   "otpauth://totp/Acme:ada?secret=JBSWY3DPEHPK3PXP",
		"no secret":      "otpauth://totp/Acme:ada?issuer=Acme",
		"sha256":         "otpauth://totp/Acme:ada?secret=" + s + "&algorithm=SHA256",
		"8 digits":       "otpauth://totp/Acme:ada?secret=" + s + "&digits=8",
		"period":         "otpauth://totp/Acme:ada?secret=" + s + "&period=60",
		"issuer differs": "otpauth://totp/Acme:ada?secret=" + s + "&issuer=Evil",
		"no account":     "otpauth://totp/Acme:?secret=" + s,
		"repeated":       "otpauth://totp/Acme:ada?secret=" + s + "&secret=" + s,
		"bad base32":     "otpauth://totp/Acme:ada?secret=" + s + "1",
	} {
		_, err := mfa.ParseURI(uri)
		assert.ErrorIs(t, err, mfa.ErrURI, name)
	}
	u, err := mfa.ParseURI("otpauth://totp/Acme%20Portal:ada@acme.test?secret=" + s + "&issuer=Acme%20Portal&algorithm=SHA1&digits=6&period=30")
	require.NoError(t, err)
	assert.Equal(t, mfa.URI{Issuer: "Acme Portal", Account: "ada@acme.test", Secret: u.Secret}, u)
	assert.Len(t, u.Secret, 20)
}

func TestImportRefusesShortSecrets(t *testing.T) {
	a, _ := newAuth(t, nil)
	_, err := a.Import(context.Background(), "u-1", "JBSWY3DPEHPK3PXP")
	assert.ErrorContains(t, err, "at least 16")
	_, err = a.Import(context.Background(), "u-1", "not base32!")
	assert.Error(t, err)
	assert.False(t, errors.Is(err, nil))
}
