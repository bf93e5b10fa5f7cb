package mfa

import (
	"encoding/base32"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/pquerna/otp"
)

// URI is what an otpauth:// URI (the QR code's content) says about a TOTP
// key, as ParseURI validates it.
type URI struct {
	Issuer  string
	Account string
	// Secret is the shared secret (raw bytes, not base32).
	Secret []byte
}

// MinSecretBytes is the shortest secret ParseURI accepts: 128 bits, as
// RFC 4226 §4 requires (160 recommended, which Enroll generates).
const MinSecretBytes = 16

// ErrURI is returned by ParseURI for a URI this package would not issue or
// accept.
var ErrURI = errors.New("mfa: not an acceptable otpauth URI")

// ParseURI parses an otpauth://totp/ URI and accepts only what every
// authenticator app handles and this package verifies: SHA1 (or no
// algorithm), 6 digits, a 30-second period, a base32 secret of at least
// MinSecretBytes, an account name, and an issuer parameter that agrees with
// the label's issuer prefix when both are present. Use it to check a URI
// before it is shown, or to import secrets from another system.
func ParseURI(s string) (URI, error) {
	if len(s) > 2048 {
		return URI{}, fmt.Errorf("%w: longer than 2048 bytes", ErrURI)
	}
	u, err := url.Parse(s)
	if err != nil {
		return URI{}, fmt.Errorf("%w: %v", ErrURI, err)
	}
	if u.Scheme != "otpauth" || u.Host != "totp" {
		return URI{}, fmt.Errorf("%w: want otpauth://totp/", ErrURI)
	}
	key, err := otp.NewKeyFromURL(s)
	if err != nil {
		return URI{}, fmt.Errorf("%w: %v", ErrURI, err)
	}
	q := u.Query()
	for name, vals := range q {
		if len(vals) > 1 {
			return URI{}, fmt.Errorf("%w: parameter %q repeated", ErrURI, name)
		}
	}
	if a := q.Get("algorithm"); a != "" && !strings.EqualFold(a, "SHA1") {
		return URI{}, fmt.Errorf("%w: algorithm %q (only SHA1 works in every authenticator app)", ErrURI, a)
	}
	if d := q.Get("digits"); d != "" && d != "6" {
		return URI{}, fmt.Errorf("%w: digits %q (want 6)", ErrURI, d)
	}
	if p := q.Get("period"); p != "" && p != "30" {
		return URI{}, fmt.Errorf("%w: period %q (want 30)", ErrURI, p)
	}
	label := strings.TrimPrefix(u.Path, "/")
	labelIssuer, account := "", label
	if i := strings.IndexByte(label, ':'); i >= 0 {
		labelIssuer, account = strings.TrimSpace(label[:i]), strings.TrimSpace(label[i+1:])
	}
	if account == "" {
		return URI{}, fmt.Errorf("%w: no account name in the label", ErrURI)
	}
	issuer := q.Get("issuer")
	if issuer != "" && labelIssuer != "" && issuer != labelIssuer {
		return URI{}, fmt.Errorf("%w: issuer parameter and label prefix differ", ErrURI)
	}
	if issuer == "" {
		issuer = labelIssuer
	}
	enc := strings.ToUpper(strings.TrimRight(key.Secret(), "="))
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(enc)
	if err != nil {
		return URI{}, fmt.Errorf("%w: secret is not base32", ErrURI)
	}
	if len(secret) < MinSecretBytes {
		return URI{}, fmt.Errorf("%w: secret of %d bytes (want at least %d)", ErrURI, len(secret), MinSecretBytes)
	}
	return URI{Issuer: issuer, Account: account, Secret: secret}, nil
}
