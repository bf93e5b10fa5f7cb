package ratelimit

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"time"
)

// Device cookies keep a lockout from being turned on its victim (OWASP's
// "device cookie" pattern, https://owasp.org/www-community/Slow_Down_Online_Guessing_Attacks_with_Device_Cookies):
// a browser that signed in to an account successfully gets a signed cookie
// naming that account. When it comes back with the cookie, the account's
// failure budget (which anybody can exhaust by guessing from elsewhere) is
// not consulted for it; the cookie has a failure budget of its own instead,
// so a stolen cookie buys an attacker no more than five guesses. Browsers
// without the cookie (new devices, the attacker) meet the account's budget
// as before.

// DeviceCookieName is the device cookie's name on HTTPS; over plain HTTP
// (Config.InsecureDeviceCookieHTTP) it is "lr-device".
const DeviceCookieName = "__Host-lr-device"

const (
	deviceCookieHTTP = "lr-device"
	// DeviceCookieLifetime is how long a device stays known after its last
	// successful sign-in.
	DeviceCookieLifetime = 90 * 24 * time.Hour
	deviceNonceLen       = 16
	deviceAccountLen     = 16
	deviceTagLen         = 32
	deviceCookieLen      = deviceAccountLen + deviceNonceLen + 8 + deviceTagLen
)

func (l *Limiter) deviceCookieName() string {
	if l.insecureDeviceHTTP {
		return deviceCookieHTTP
	}
	return DeviceCookieName
}

// deviceAccount is the keyed hash of an account key: the cookie names the
// account without revealing it.
func (l *Limiter) deviceAccount(account string) []byte {
	m := hmac.New(sha256.New, l.deviceKey)
	m.Write([]byte("account\x00"))
	m.Write([]byte(account))
	return m.Sum(nil)[:deviceAccountLen]
}

func (l *Limiter) deviceTag(b []byte) []byte {
	m := hmac.New(sha256.New, l.deviceKey)
	m.Write([]byte("device\x00"))
	m.Write(b)
	return m.Sum(nil)
}

// issueDevice sets a device cookie for account on w.
func (l *Limiter) issueDevice(w http.ResponseWriter, account string, now time.Time) {
	b := make([]byte, 0, deviceCookieLen)
	b = append(b, l.deviceAccount(account)...)
	nonce := make([]byte, deviceNonceLen)
	_, _ = rand.Read(nonce)
	b = append(b, nonce...)
	b = binary.BigEndian.AppendUint64(b, uint64(now.Add(DeviceCookieLifetime).Unix()))
	b = append(b, l.deviceTag(b)...)
	http.SetCookie(w, &http.Cookie{
		Name: l.deviceCookieName(), Value: base64.RawURLEncoding.EncodeToString(b), Path: "/",
		MaxAge: int(DeviceCookieLifetime / time.Second), Secure: !l.insecureDeviceHTTP, HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
	})
}

// device returns the device key of r's valid, unexpired device cookie for
// account, and false when it has none.
func (l *Limiter) device(r *http.Request, account string, now time.Time) (Key, bool) {
	c, err := r.Cookie(l.deviceCookieName())
	if err != nil || len(c.Value) > 2*deviceCookieLen {
		return Key{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(b) != deviceCookieLen {
		return Key{}, false
	}
	body, tag := b[:deviceCookieLen-deviceTagLen], b[deviceCookieLen-deviceTagLen:]
	if !hmac.Equal(tag, l.deviceTag(body)) {
		return Key{}, false
	}
	if !hmac.Equal(body[:deviceAccountLen], l.deviceAccount(account)) {
		return Key{}, false
	}
	if exp := int64(binary.BigEndian.Uint64(body[deviceAccountLen+deviceNonceLen:])); now.Unix() > exp {
		return Key{}, false
	}
	nonce := body[deviceAccountLen : deviceAccountLen+deviceNonceLen]
	return Key{Kind: KeyDevice, Name: base64.RawURLEncoding.EncodeToString(nonce)}, true
}

// ResetAccount clears the failures counted against account (after the
// account's owner proved control, e.g. by completing a password reset), so
// a lockout caused by somebody else's guesses ends. The name is made
// canonical with AccountKey.
func (h *Handler) ResetAccount(ctx context.Context, account string) error {
	return h.l.store.Reset(ctx, h.policy, Key{Kind: KeyAccount, Name: AccountKey(account)})
}
