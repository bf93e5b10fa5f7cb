package mfa

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"
)

// Config configures an Authenticator.
type Config struct {
	// Issuer names the service in the authenticator app ("Acme Portal").
	// Required.
	Issuer string
	// Key seals the TOTP secrets and keys the recovery-code hashes: 32
	// random bytes from the environment (KeyFromEnv), never from code.
	// Required; New refuses a missing or weak one. Changing it makes every
	// enrolment unusable.
	Key []byte
	// Store keeps the records. Nil: a new MemoryStore (one replica).
	Store Store
	// Now is the clock. Nil: time.Now.
	Now func() time.Time
	// RecoveryCodes is how many recovery codes Confirm issues. Default 10.
	RecoveryCodes int
}

// Period is the TOTP time step.
const Period = 30 * time.Second

// Skew is how many steps before and after the current one are accepted.
const Skew = 1

// Errors of verification. Each means "refused"; they differ only for the
// audit trail, never for the client.
var (
	// ErrInvalidCode: the code matches no step of the window and no unused
	// recovery code.
	ErrInvalidCode = errors.New("mfa: the code is not valid")
	// ErrReplayed: the code is right but its time step was used already.
	ErrReplayed = errors.New("mfa: the code was used already")
	// ErrAlreadyEnrolled: Enroll for an account with a confirmed factor.
	ErrAlreadyEnrolled = errors.New("mfa: the account has a second factor already; remove it before enrolling again")
	// ErrNoEnrollment: Confirm without a pending enrolment.
	ErrNoEnrollment = errors.New("mfa: no enrolment to confirm; start with Enroll")
)

// Method says which factor verified.
type Method string

// Methods.
const (
	MethodTOTP     Method = "otp"
	MethodRecovery Method = "recovery"
)

// Authenticator enrols and verifies second factors. It is safe for
// concurrent use.
type Authenticator struct {
	issuer string
	keys   keys
	store  Store
	now    func() time.Time
	codes  int
}

// New returns an Authenticator. It refuses an empty Issuer and a missing
// or weak Key, naming the field.
func New(c Config) (*Authenticator, error) {
	if strings.TrimSpace(c.Issuer) == "" {
		return nil, errors.New("mfa: Config.Issuer is empty; name the service as the authenticator app should show it")
	}
	if strings.ContainsRune(c.Issuer, ':') {
		return nil, errors.New("mfa: Config.Issuer contains ':', which separates issuer and account in the otpauth label; remove it")
	}
	if len(c.Key) == 0 {
		return nil, fmt.Errorf("%w: Config.Key is empty; read it with mfa.KeyFromEnv (32 random bytes, openssl rand -base64 32)", ErrWeakKey)
	}
	if err := checkKey(c.Key); err != nil {
		return nil, fmt.Errorf("%w: Config.Key %v; use 32 random bytes (openssl rand -base64 32)", ErrWeakKey, err)
	}
	if c.RecoveryCodes < 0 || c.RecoveryCodes > 100 {
		return nil, fmt.Errorf("mfa: Config.RecoveryCodes is %d; use 0 (default 10) to 100", c.RecoveryCodes)
	}
	k, err := deriveKeys(c.Key)
	if err != nil {
		return nil, fmt.Errorf("mfa: deriving keys: %w", err)
	}
	a := &Authenticator{issuer: c.Issuer, keys: k, store: c.Store, now: c.Now, codes: c.RecoveryCodes}
	if a.store == nil {
		a.store = NewMemoryStore()
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.codes == 0 {
		a.codes = 10
	}
	return a, nil
}

// Issuer returns Config.Issuer.
func (a *Authenticator) Issuer() string { return a.issuer }

// Store returns the store.
func (a *Authenticator) Store() Store { return a.store }

// Enrollment is what the user needs to add the account to an
// authenticator app. Show it once, over an authenticated, no-store
// response; it carries the secret.
type Enrollment struct {
	// URI is the otpauth://totp/ URI; PNG is it as a QR code (256×256).
	URI string
	PNG []byte
	// Secret is the base32 secret, for typing in by hand.
	Secret string
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// Enroll starts an enrolment for account (the app's user ID) and label
// (what the app shows next to the issuer, usually the email): it generates
// a 160-bit secret and stores it sealed, unconfirmed. A pending enrolment
// is replaced. An account with a confirmed factor gets ErrAlreadyEnrolled.
func (a *Authenticator) Enroll(ctx context.Context, account, label string) (Enrollment, error) {
	if account == "" || label == "" {
		return Enrollment{}, errors.New("mfa: Enroll needs an account and a label")
	}
	secret := make([]byte, 20)
	_, _ = rand.Read(secret)
	key, err := totp.Generate(totp.GenerateOpts{Issuer: a.issuer, AccountName: label, Secret: secret})
	if err != nil {
		return Enrollment{}, fmt.Errorf("mfa: %w", err)
	}
	err = a.store.Update(ctx, account, func(r *Record) error {
		if r.Confirmed {
			return ErrAlreadyEnrolled
		}
		*r = Record{Account: account, Sealed: a.keys.sealSecret(account, secret), Created: a.now()}
		return nil
	})
	if err != nil {
		return Enrollment{}, err
	}
	img, err := key.Image(256, 256)
	if err != nil {
		return Enrollment{}, fmt.Errorf("mfa: QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return Enrollment{}, fmt.Errorf("mfa: QR code: %w", err)
	}
	return Enrollment{URI: key.URL(), PNG: buf.Bytes(), Secret: b32.EncodeToString(secret)}, nil
}

// Confirm completes a pending enrolment with a code from the app and
// returns the recovery codes, in clear for the only time: show them once.
func (a *Authenticator) Confirm(ctx context.Context, account, code string) ([]string, error) {
	return a.ConfirmAt(ctx, account, code, a.now())
}

// ConfirmAt is Confirm at time now.
func (a *Authenticator) ConfirmAt(ctx context.Context, account, code string, now time.Time) ([]string, error) {
	c, err := ParseCode(code)
	if err != nil {
		return nil, err
	}
	var plain []string
	err = a.store.Update(ctx, account, func(r *Record) error {
		if r.Confirmed {
			return ErrAlreadyEnrolled
		}
		if len(r.Sealed) == 0 {
			return ErrNoEnrollment
		}
		if err := a.checkTOTP(r, c, now); err != nil {
			return err
		}
		r.Confirmed = true
		plain, r.Recovery = a.newRecoveryCodes(account)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return plain, nil
}

// Import enrols account with a secret known beforehand (migration from
// another system, or a development demo account), confirmed at once, and
// returns its recovery codes. secret is base32 (as in an otpauth URI) of at
// least MinSecretBytes. It replaces any existing factor.
func (a *Authenticator) Import(ctx context.Context, account, secret string) ([]string, error) {
	raw, err := b32.DecodeString(strings.ToUpper(strings.TrimRight(strings.ReplaceAll(secret, " ", ""), "=")))
	if err != nil {
		return nil, fmt.Errorf("mfa: Import: the secret is not base32: %w", err)
	}
	if len(raw) < MinSecretBytes {
		return nil, fmt.Errorf("mfa: Import: the secret is %d bytes; use at least %d", len(raw), MinSecretBytes)
	}
	var plain []string
	err = a.store.Update(ctx, account, func(r *Record) error {
		*r = Record{Account: account, Sealed: a.keys.sealSecret(account, raw), Confirmed: true, Created: a.now()}
		plain, r.Recovery = a.newRecoveryCodes(account)
		return nil
	})
	return plain, err
}

// Enrolled reports whether account has a confirmed second factor.
func (a *Authenticator) Enrolled(ctx context.Context, account string) (bool, error) {
	r, err := a.store.Get(ctx, account)
	if errors.Is(err, ErrNotEnrolled) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return r.Confirmed, nil
}

// RecoveryCodesLeft returns how many unused recovery codes account has.
func (a *Authenticator) RecoveryCodesLeft(ctx context.Context, account string) (int, error) {
	r, err := a.store.Get(ctx, account)
	if err != nil {
		return 0, err
	}
	return len(r.Recovery), nil
}

// Remove deletes account's second factor (after identity was proven
// another way). Renew the user's sessions afterwards.
func (a *Authenticator) Remove(ctx context.Context, account string) error {
	return a.store.Delete(ctx, account)
}

// Verify checks a sign-in or step-up code for account: a TOTP code of the
// current step ±1 not used before, or an unused recovery code, which is
// then spent. It returns which method verified, or ErrMalformed,
// ErrNotEnrolled, ErrInvalidCode or ErrReplayed — all of which the client
// must see as one "wrong code" answer.
func (a *Authenticator) Verify(ctx context.Context, account, code string) (Method, error) {
	return a.VerifyAt(ctx, account, code, a.now())
}

// VerifyAt is Verify at time now.
func (a *Authenticator) VerifyAt(ctx context.Context, account, code string, now time.Time) (Method, error) {
	if c, err := ParseCode(code); err == nil {
		err = a.update(ctx, account, func(r *Record) error { return a.checkTOTP(r, c, now) })
		return MethodTOTP, err
	}
	rc, err := ParseRecoveryCode(code)
	if err != nil {
		return "", err
	}
	h := a.keys.hashRecovery(account, rc)
	err = a.update(ctx, account, func(r *Record) error {
		found := -1
		for i, stored := range r.Recovery {
			if subtle.ConstantTimeCompare(stored, h) == 1 {
				found = i
			}
		}
		if found < 0 {
			return ErrInvalidCode
		}
		r.Recovery = append(r.Recovery[:found], r.Recovery[found+1:]...)
		return nil
	})
	return MethodRecovery, err
}

// update runs fn on a confirmed record.
func (a *Authenticator) update(ctx context.Context, account string, fn func(*Record) error) error {
	if account == "" {
		return ErrNotEnrolled
	}
	return a.store.Update(ctx, account, func(r *Record) error {
		if !r.Confirmed {
			return ErrNotEnrolled
		}
		return fn(r)
	})
}

var codeOpts = hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// checkTOTP checks a parsed code against the steps around now and, when one
// matches a step after r.LastStep, records it. Every step of the window is
// computed and compared in constant time.
func (a *Authenticator) checkTOTP(r *Record, code string, now time.Time) error {
	secret, err := a.keys.openSecret(r.Account, r.Sealed)
	if err != nil {
		return err
	}
	enc := b32.EncodeToString(secret)
	cur := now.Unix() / int64(Period/time.Second)
	matched := int64(-1)
	for step := cur - Skew; step <= cur+Skew; step++ {
		if step < 0 {
			continue
		}
		want, err := hotp.GenerateCodeCustom(enc, uint64(step), codeOpts)
		if err != nil {
			return fmt.Errorf("mfa: %w", err)
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			matched = step
		}
	}
	switch {
	case matched < 0:
		return ErrInvalidCode
	case matched <= r.LastStep:
		return ErrReplayed
	}
	r.LastStep = matched
	return nil
}

// newRecoveryCodes returns fresh codes in clear (formatted) and hashed.
func (a *Authenticator) newRecoveryCodes(account string) (plain []string, hashed [][]byte) {
	plain = make([]string, a.codes)
	hashed = make([][]byte, a.codes)
	for i := range plain {
		var b [recoveryLen]byte
		for j := range b {
			b[j] = recoveryAlphabet[randIndex(len(recoveryAlphabet))]
		}
		plain[i] = formatRecovery(string(b[:]))
		hashed[i] = a.keys.hashRecovery(account, string(b[:]))
	}
	return plain, hashed
}

// randIndex returns a uniform random index below n (n divides 256).
func randIndex(n int) int {
	var b [1]byte
	_, _ = rand.Read(b[:])
	return int(b[0]) % n
}

// Code returns the TOTP code of a base32 secret at time t: what an
// authenticator app shows. It is for tests and synthetic monitors that
// sign in as a test account whose secret they hold.
func Code(secret string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(strings.ToUpper(secret), t, totp.ValidateOpts{Period: uint(Period / time.Second), Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}
