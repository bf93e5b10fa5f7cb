package ratelimit_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/ratelimit"
)

func TestAccountKeyFoldsLikeTheLookup(t *testing.T) {
	tests := []struct{ in, want string }{
		{"agent@acme.test", "agent@acme.test"},
		{"  Agent@ACME.test\t", "agent@acme.test"},
		{"agent@acme.te\u017ft", "agent@acme.test"},    // ſ (long s) folds to s
		{"\u212agent@acme.test", "kgent@acme.test"},    // Kelvin sign folds to k
		{"ａｇｅｎｔ@acme.test", "agent@acme.test"},         // fullwidth: NFKC
		{"stra\u00dfe@x.test", "strasse@x.test"},       // ß: full case folding
		{"jos\u0065\u0301@x.test", "jos\u00e9@x.test"}, // decomposed é composes
		{"JOSÉ@X.TEST", "josé@x.test"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, ratelimit.AccountKey(tt.in), "AccountKey(%q)", tt.in)
	}
	long := strings.Repeat("é", 200)
	k := ratelimit.AccountKey(long)
	assert.LessOrEqual(t, len(k), 256)
	assert.True(t, utf8.ValidString(k), "cut on a character boundary")
}

func FuzzAccountKey(f *testing.F) {
	for _, s := range []string{"agent@acme.test", "agent@acme.te\u017ft", " \u212a ", "ß", "\xff\xfe", strings.Repeat("ǅ", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := ratelimit.AccountKey(s)
		if len(k) > 256 {
			t.Fatalf("AccountKey(%q) is %d bytes", s, len(k))
		}
		if !utf8.ValidString(k) {
			t.Fatalf("AccountKey(%q) = %q is not UTF-8", s, k)
		}
		if k2 := ratelimit.AccountKey(k); k2 != k && len(k) < 250 {
			t.Fatalf("AccountKey is not idempotent: %q -> %q -> %q", s, k, k2)
		}
	})
}

// loginAs is a login handler that accepts the password "right" for the
// account named by the X-Account header, matched like the store matches:
// by AccountKey.
func failuresLogin(l *ratelimit.Limiter) *ratelimit.Handler {
	login := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Password") == "right" && ratelimit.AccountKey(r.Header.Get("X-Account")) == "agent@acme.test" {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	})
	return l.Failures(login, func(r *http.Request) string { return r.Header.Get("X-Account") })
}

func attemptWith(h http.Handler, ip, account, pw string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	r := req(ip+":1", "X-Account", account, "X-Password", pw)
	for _, c := range cookies {
		r.AddCookie(c)
	}
	return serve(h, r)
}

func lockOut(t *testing.T, h http.Handler, account string) {
	t.Helper()
	for i := range 5 {
		require.Equal(t, 401, attemptWith(h, fmt.Sprintf("198.51.100.%d", i+1), account, "wrong").Code)
	}
	require.Equal(t, 429, attemptWith(h, "192.0.2.50", account, "right").Code, "precondition: the account is locked")
}

func TestFailuresFoldingVariantSharesTheLockout(t *testing.T) {
	l, err := ratelimit.New(ratelimit.Config{Now: newClock().Now})
	require.NoError(t, err)
	h := failuresLogin(l)
	lockOut(t, h, "agent@acme.test")
	// Attack: the same account spelled with U+017F, fullwidth or upper case
	// (the lookup matches them all) must meet the same lockout.
	for _, v := range []string{"agent@acme.te\u017ft", "AGENT@acme.test", "ａgent@acme.test", " agent@acme.test "} {
		assert.Equal(t, 429, attemptWith(h, "192.0.2.60", v, "right").Code, "variant %q", v)
	}
}

func deviceCookie(t *testing.T, w *httptest.ResponseRecorder) *http.Cookie {
	t.Helper()
	for _, c := range w.Result().Cookies() {
		if c.Name == ratelimit.DeviceCookieName {
			return c
		}
	}
	t.Fatalf("no device cookie in %v", w.Result().Header["Set-Cookie"])
	return nil
}

func TestFailuresKnownDeviceIsNotLockedOutByStrangers(t *testing.T) {
	clk := newClock()
	l, err := ratelimit.New(ratelimit.Config{Now: clk.Now})
	require.NoError(t, err)
	h := failuresLogin(l)
	ok := attemptWith(h, "192.0.2.10", "agent@acme.test", "right")
	require.Equal(t, 200, ok.Code)
	device := deviceCookie(t, ok)
	assert.True(t, device.Secure)
	assert.True(t, device.HttpOnly)
	assert.Equal(t, http.SameSiteStrictMode, device.SameSite)

	lockOut(t, h, "agent@acme.test")
	// The victim's browser still gets in, from its usual address or another.
	assert.Equal(t, 200, attemptWith(h, "192.0.2.10", "agent@acme.test", "right", device).Code)
	assert.Equal(t, 200, attemptWith(h, "203.0.113.200", "AGENT@acme.te\u017ft", "right", device).Code)

	// Attack: new devices are still refused (the owner's sign-ins did not
	// lift the lockout for strangers)…
	assert.Equal(t, 429, attemptWith(h, "192.0.2.11", "agent@acme.test", "right").Code)
	// …a device cookie of another account does not count…
	other := *device
	assert.Equal(t, 429, attemptWith(h, "192.0.2.12", "agent@acme.test", "right", &http.Cookie{Name: ratelimit.DeviceCookieName, Value: strings.Repeat("A", len(other.Value))}).Code)
	// …a tampered one neither…
	tampered := []byte(device.Value)
	tampered[len(tampered)-2] ^= 1
	assert.Equal(t, 429, attemptWith(h, "192.0.2.13", "agent@acme.test", "right", &http.Cookie{Name: ratelimit.DeviceCookieName, Value: string(tampered)}).Code)
	// …and a stolen device cookie buys at most the device's own budget.
	for i := range 5 {
		require.Equal(t, 401, attemptWith(h, fmt.Sprintf("203.0.113.%d", i+100), "agent@acme.test", "wrong", device).Code)
	}
	assert.Equal(t, 429, attemptWith(h, "203.0.113.150", "agent@acme.test", "right", device).Code)
}

func TestFailuresDeviceCookieIsPerAccount(t *testing.T) {
	l, err := ratelimit.New(ratelimit.Config{Now: newClock().Now, InsecureDeviceCookieHTTP: true})
	require.NoError(t, err)
	login := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Password") == "right" {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	})
	h := l.Failures(login, func(r *http.Request) string { return r.Header.Get("X-Account") })
	ok := attemptWith(h, "192.0.2.10", "mallory@acme.test", "right")
	require.Equal(t, 200, ok.Code)
	c := ok.Result().Cookies()
	require.Len(t, c, 1)
	assert.Equal(t, "lr-device", c[0].Name)
	assert.False(t, c[0].Secure)
	// Attack: mallory's own device cookie does not let her guess alice's
	// password past alice's lockout.
	lockOut(t, h, "alice@acme.test")
	assert.Equal(t, 429, attemptWith(h, "192.0.2.10", "alice@acme.test", "right", c[0]).Code)
}

func TestResetAccountLiftsTheLockout(t *testing.T) {
	l, err := ratelimit.New(ratelimit.Config{Now: newClock().Now})
	require.NoError(t, err)
	h := failuresLogin(l)
	lockOut(t, h, "agent@acme.test")
	require.NoError(t, h.ResetAccount(t.Context(), "Agent@Acme.te\u017ft"))
	assert.Equal(t, 200, attemptWith(h, "192.0.2.70", "agent@acme.test", "right").Code)
}

func TestDeviceKeyIsValidated(t *testing.T) {
	_, err := ratelimit.New(ratelimit.Config{DeviceKey: []byte("short")})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Config.DeviceKey")
}

func TestPasswordResetRequestAndConfirmHaveTheirOwnBuckets(t *testing.T) {
	l, err := ratelimit.New(ratelimit.Config{Now: newClock().Now})
	require.NoError(t, err)
	request := l.PasswordReset(okHandler(), ratelimit.ByIP())
	confirm := l.PasswordResetConfirm(okHandler(), ratelimit.ByIP())
	assert.NotEqual(t, request.Policy().Name, confirm.Policy().Name)
	assert.Equal(t, ratelimit.KindPasswordResetConfirm, confirm.Kind())
	assert.True(t, confirm.Kind().Auth())
	for range ratelimit.PasswordResetPolicy.Burst {
		require.Equal(t, 200, serve(request, req("192.0.2.1:1")).Code)
	}
	require.Equal(t, 429, serve(request, req("192.0.2.1:1")).Code)
	// Three link requests must not lock the confirm form.
	assert.Equal(t, 200, serve(confirm, req("192.0.2.1:1")).Code)
}

func TestSecondFactorSetsNoDeviceCookie(t *testing.T) {
	l, err := ratelimit.New(ratelimit.Config{Now: newClock().Now})
	require.NoError(t, err)
	h := l.SecondFactor(okHandler(), func(*http.Request) string { return "u-1" })
	w := serve(h, req("192.0.2.1:1"))
	require.Equal(t, 200, w.Code)
	assert.Empty(t, w.Result().Cookies(), "the password step's device cookie is not overwritten by the code step")
}
