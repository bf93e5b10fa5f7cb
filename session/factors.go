package session

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Authentication methods, as in OIDC's amr claim (RFC 8176).
const (
	// MethodPassword: the user gave their password (Login).
	MethodPassword = "pwd"
	// MethodOTP: the user gave a one-time code or a recovery code of their
	// second factor (CompleteLogin, StepUp).
	MethodOTP = "otp"
)

// Keys of the second-factor state.
const (
	keyOTPTime     = "launchready.otp"      // when the second factor was last verified, Unix ns
	keyPending     = "launchready.pending"  // user ID whose password was verified, awaiting the second factor
	keyPendingTime = "launchready.pendingt" // when, Unix ns
)

// PendingTimeout is how long a password-verified sign-in waits for its
// second factor (BeginLogin to CompleteLogin).
const PendingTimeout = 5 * time.Minute

// Errors of the second-factor lifecycle.
var (
	// ErrNotSignedIn: StepUp on an anonymous session.
	ErrNotSignedIn = errors.New("session: no user is signed in")
	// ErrNoPendingLogin: CompleteLogin without a BeginLogin in the last
	// PendingTimeout.
	ErrNoPendingLogin = errors.New("session: no sign-in is waiting for a second factor")
	// ErrMethod: a method this package does not record.
	ErrMethod = errors.New("session: unknown authentication method; use MethodPassword or MethodOTP")
)

// A Factor is one verified authentication method and when it was last
// verified.
type Factor struct {
	Method string
	At     time.Time
}

// Auth is how the session's user authenticated.
type Auth struct {
	// User is the signed-in user ID.
	User string
	// Time is when the password was last verified: at sign-in (Login,
	// CompleteLogin) or at a password step-up (StepUp(MethodPassword)).
	Time time.Time
	// Factors are the methods verified in this session, password first,
	// each with the time it was last verified.
	Factors []Factor
}

// Methods returns the authentication methods, like OIDC's amr.
func (a Auth) Methods() []string {
	out := make([]string, len(a.Factors))
	for i, f := range a.Factors {
		out[i] = f.Method
	}
	return out
}

// Verified returns when method was last verified, and false if it was not.
func (a Auth) Verified(method string) (time.Time, bool) {
	for _, f := range a.Factors {
		if f.Method == method {
			return f.At, true
		}
	}
	return time.Time{}, false
}

// Auth returns how the request's user authenticated; ok is false for an
// anonymous session (and a session waiting for its second factor).
func (m *Manager) Auth(r *http.Request) (Auth, bool) { return m.AuthContext(r.Context()) }

// AuthContext is Auth for a context that came from a request behind
// Handler.
func (m *Manager) AuthContext(ctx context.Context) (a Auth, ok bool) {
	id, at, ok := m.UserContext(ctx)
	if !ok {
		return Auth{}, false
	}
	a = Auth{User: id, Time: at, Factors: make([]Factor, 1, 2)}
	a.Factors[0] = Factor{Method: MethodPassword, At: at}
	if otp := m.otpTime(ctx); otp != 0 {
		a.Factors = append(a.Factors, Factor{Method: MethodOTP, At: time.Unix(0, otp)})
	}
	return a, true
}

// otpTime reads the second factor's time as UserContext reads the user:
// from what the middleware peeked when the session is not loaded.
func (m *Manager) otpTime(ctx context.Context) (ns int64) {
	if rq, _ := ctx.Value(ctxKey{m}).(*request); rq != nil {
		sctx := rq.loaded()
		if sctx == nil {
			return rq.otp
		}
		ctx = sctx
	}
	defer func() {
		if recover() != nil {
			ns = 0
		}
	}()
	ns, _ = m.sm.Get(ctx, keyOTPTime).(int64)
	return ns
}

// BeginLogin records that userID gave the right password but must still
// give a second factor: the session gets a new token (fixation), any user
// signed in on it is signed out, and userID waits PendingTimeout for
// CompleteLogin. Until then the session is anonymous: User and Auth report
// no one.
func (m *Manager) BeginLogin(ctx context.Context, userID string) error {
	if userID == "" {
		return ErrNoUserID
	}
	if err := m.sm.RenewToken(ctx); err != nil {
		return fmt.Errorf("session: renewing the token at sign-in: %w", err)
	}
	m.sm.Remove(ctx, keyUser)
	m.sm.Remove(ctx, keyAuthTime)
	m.sm.Remove(ctx, keyOTPTime)
	m.sm.Put(ctx, keyPending, userID)
	m.sm.Put(ctx, keyPendingTime, time.Now().UnixNano())
	return nil
}

// PendingLogin returns the user waiting for their second factor on this
// session (BeginLogin less than PendingTimeout ago).
func (m *Manager) PendingLogin(ctx context.Context) (userID string, ok bool) {
	defer func() {
		if recover() != nil { // not behind Handler
			userID, ok = "", false
		}
	}()
	userID, _ = m.sm.Get(ctx, keyPending).(string)
	at, _ := m.sm.Get(ctx, keyPendingTime).(int64)
	if userID == "" || time.Since(time.Unix(0, at)) > PendingTimeout {
		return "", false
	}
	return userID, true
}

// CompleteLogin signs in the pending user once their second factor
// (method, normally MethodOTP) was verified: like Login, it renews the
// token and records the user and the time, plus the second factor.
func (m *Manager) CompleteLogin(ctx context.Context, method string) (userID string, err error) {
	if method != MethodOTP {
		return "", ErrMethod
	}
	userID, ok := m.PendingLogin(ctx)
	if !ok {
		return "", ErrNoPendingLogin
	}
	if err := m.Login(ctx, userID); err != nil {
		return "", err
	}
	m.sm.Remove(ctx, keyPending)
	m.sm.Remove(ctx, keyPendingTime)
	m.sm.Put(ctx, keyOTPTime, time.Now().UnixNano())
	return userID, nil
}

// StepUp records that the signed-in user verified method again (a second
// factor they had not given at sign-in, or a password re-entered for a
// dangerous action) and renews the token: a step-up is a privilege change.
func (m *Manager) StepUp(ctx context.Context, method string) error {
	key := ""
	switch method {
	case MethodOTP:
		key = keyOTPTime
	case MethodPassword:
		key = keyAuthTime
	default:
		return ErrMethod
	}
	if _, _, ok := m.UserContext(ctx); !ok {
		return ErrNotSignedIn
	}
	if err := m.sm.RenewToken(ctx); err != nil {
		return fmt.Errorf("session: renewing the token at step-up: %w", err)
	}
	m.sm.Put(ctx, key, time.Now().UnixNano())
	return nil
}
