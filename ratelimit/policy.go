package ratelimit

import (
	"fmt"
	"time"

	"golang.org/x/time/rate"
)

// Kind says what a limit protects. Readiness uses it to tell a login limit
// from an export limit.
type Kind int

// The kinds of limit.
const (
	KindCustom        Kind = iota // a limit with a policy of the app's own
	KindLogin                     // login attempts
	KindPasswordReset             // password-reset requests
	KindUpload                    // uploads
	KindExport                    // exports
	KindLoginFailures             // failed logins (Failures)
	KindSecondFactor              // wrong second-factor codes (SecondFactor)
	// KindPasswordResetConfirm limits the submission of reset tokens: a
	// bucket of its own, so requesting links never blocks using one.
	KindPasswordResetConfirm
)

func (k Kind) String() string {
	switch k {
	case KindCustom:
		return "custom"
	case KindLogin:
		return "login"
	case KindPasswordReset:
		return "password-reset"
	case KindUpload:
		return "upload"
	case KindExport:
		return "export"
	case KindLoginFailures:
		return "login-failures"
	case KindSecondFactor:
		return "second-factor"
	case KindPasswordResetConfirm:
		return "password-reset-confirm"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Auth reports whether the kind protects authentication (login, password
// reset, login failures, second-factor codes): those fail closed by
// default.
func (k Kind) Auth() bool {
	return k == KindLogin || k == KindPasswordReset || k == KindLoginFailures || k == KindSecondFactor || k == KindPasswordResetConfirm
}

// Policy is one limit: Burst requests at once, refilled at Rate per second.
type Policy struct {
	// Name prefixes the stored keys; distinct limits need distinct names so
	// they never share a bucket. Letters, digits, '-' and '_'.
	Name string
	// Rate is how fast the budget refills, in requests per second
	// (rate.Every(time.Minute) is one a minute). Must be > 0 and finite.
	Rate rate.Limit
	// Burst is the budget: how many requests may pass at once. At least 1.
	Burst int
}

// Window is the time an empty budget takes to refill completely.
func (p Policy) Window() time.Duration {
	return time.Duration(float64(p.Burst) * float64(time.Second) / float64(p.Rate))
}

func (p Policy) interval() int64 { return int64(float64(time.Second) / float64(p.Rate)) }

func (p Policy) validate(field string) error {
	if p.Name == "" {
		return fmt.Errorf("ratelimit: %s.Name is empty; name the limit (it prefixes the stored keys)", field)
	}
	for _, c := range p.Name {
		if !(c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return fmt.Errorf("ratelimit: %s.Name %q has %q; use letters, digits, '-' and '_'", field, p.Name, c)
		}
	}
	if p.Burst < 1 {
		return fmt.Errorf("ratelimit: %s.Burst is %d; set it to at least 1", field, p.Burst)
	}
	if !(p.Rate > 0) || p.Rate == rate.Inf || p.interval() < 1 {
		return fmt.Errorf("ratelimit: %s.Rate is %v; set a positive finite rate such as rate.Every(time.Minute)", field, p.Rate)
	}
	return nil
}

// The documented defaults. Each is per key: a login limited ByIP and
// ByAccount allows LoginPolicy per address and LoginPolicy per account.
var (
	// LoginPolicy: 10 attempts at once, then one every 30 s (120 an hour).
	LoginPolicy = Policy{Name: "login", Rate: rate.Every(30 * time.Second), Burst: 10}
	// PasswordResetPolicy: 3 requests at once, then one every 10 min
	// (each sends an email; floods cost reputation and annoy the victim).
	PasswordResetPolicy = Policy{Name: "password-reset", Rate: rate.Every(10 * time.Minute), Burst: 3}
	// UploadPolicy: 20 uploads at once, then one every 6 s (10 a minute).
	UploadPolicy = Policy{Name: "upload", Rate: rate.Every(6 * time.Second), Burst: 20}
	// ExportPolicy: 5 exports at once, then one a minute.
	ExportPolicy = Policy{Name: "export", Rate: rate.Every(time.Minute), Burst: 5}
	// LoginFailuresPolicy: 5 failed logins, then one every 5 min — a
	// lockout that lifts by itself, per account and per address.
	LoginFailuresPolicy = Policy{Name: "login-failures", Rate: rate.Every(5 * time.Minute), Burst: 5}
	// SecondFactorPolicy: 5 wrong codes, then one every 15 min, per
	// account and per address. A 6-digit TOTP code accepted with ±1 step
	// skew has 3 right answers in 10^6, so an attacker holding the password
	// gets about 100 guesses a day: 1 chance in 3,300 per day, where an
	// unlimited verifier falls in minutes.
	SecondFactorPolicy = Policy{Name: "second-factor", Rate: rate.Every(15 * time.Minute), Burst: 5}
	// PasswordResetConfirmPolicy: 10 token submissions at once, then one a
	// minute. Its own name, so it never shares the request limit's bucket
	// (three link requests must not lock the confirm form for 10 min).
	PasswordResetConfirmPolicy = Policy{Name: "password-reset-confirm", Rate: rate.Every(time.Minute), Burst: 10}
)

// PresetPolicy returns the default policy of a kind, and false for
// KindCustom.
func PresetPolicy(k Kind) (Policy, bool) {
	switch k {
	case KindLogin:
		return LoginPolicy, true
	case KindPasswordReset:
		return PasswordResetPolicy, true
	case KindUpload:
		return UploadPolicy, true
	case KindExport:
		return ExportPolicy, true
	case KindLoginFailures:
		return LoginFailuresPolicy, true
	case KindSecondFactor:
		return SecondFactorPolicy, true
	case KindPasswordResetConfirm:
		return PasswordResetConfirmPolicy, true
	}
	return Policy{}, false
}

// FailMode says what a limit does when its store fails.
type FailMode int

const (
	// FailDefault is FailClosed for auth kinds and FailOpen otherwise.
	FailDefault FailMode = iota
	// FailClosed refuses the request with 503 while the store is down.
	FailClosed
	// FailOpen lets the request through unlimited while the store is down.
	FailOpen
)

func (m FailMode) String() string {
	switch m {
	case FailDefault:
		return "default"
	case FailClosed:
		return "fail-closed"
	case FailOpen:
		return "fail-open"
	}
	return fmt.Sprintf("failmode(%d)", int(m))
}

func (m FailMode) effective(k Kind) FailMode {
	if m != FailDefault {
		return m
	}
	if k.Auth() {
		return FailClosed
	}
	return FailOpen
}
