package ratelimit

import (
	"io"
	"net/http"
	"time"
)

// Failures limits failed logins: before the login handler runs, the request
// is refused with 429 when its client address or the submitted account has
// no failure budget left (LoginFailuresPolicy: 5, then one every 5 min).
// After the handler, a 401 or 403 answer charges one failure to both the
// address and the account; a 2xx answer resets the account's failures.
//
// The account is counted by the submitted name whether or not it exists,
// and the refusal is the same 429 either way, so lockout does not reveal
// which accounts exist. The budget is looked at before and charged after,
// so concurrent failing attempts can overshoot it by the number in flight;
// put Login (which charges up front) in front of Failures to bound that.
//
// A successful login also sets a device cookie (see DeviceCookieName):
// when that browser comes back for the same account, the account's budget,
// which anybody can exhaust by guessing from elsewhere, is not consulted;
// the device has a failure budget of its own under the same policy. So an
// attacker cannot lock a user out of a browser they signed in from before,
// while new devices still meet the account's lockout. After a password
// reset, call ResetAccount so the owner gets in from new devices too.
func (l *Limiter) Failures(next http.Handler, account func(*http.Request) string) *Handler {
	return l.FailuresWith(LoginFailuresPolicy, next, account)
}

// FailuresWith is Failures with a policy of the app's own.
func (l *Limiter) FailuresWith(p Policy, next http.Handler, account func(*http.Request) string) *Handler {
	return l.failuresHandler(KindLoginFailures, p, next, account)
}

// SecondFactor limits wrong second-factor codes (TOTP or recovery codes)
// exactly as Failures limits wrong passwords, with SecondFactorPolicy (5,
// then one every 15 min) per client address and per account: a 401 or 403
// answer of next charges one failure to both, a 2xx resets the account's.
// account returns the account whose code is checked — at sign-in, the one
// waiting for its second factor in the session, never a name from the
// body. An empty account is keyed as such, so requests without one share
// one budget.
func (l *Limiter) SecondFactor(next http.Handler, account func(*http.Request) string) *Handler {
	return l.SecondFactorWith(SecondFactorPolicy, next, account)
}

// SecondFactorWith is SecondFactor with a policy of the app's own.
func (l *Limiter) SecondFactorWith(p Policy, next http.Handler, account func(*http.Request) string) *Handler {
	return l.failuresHandler(KindSecondFactor, p, next, account)
}

func (l *Limiter) failuresHandler(kind Kind, p Policy, next http.Handler, account func(*http.Request) string) *Handler {
	if err := p.validate("Policy"); err != nil {
		panic(err)
	}
	if account == nil {
		panic("ratelimit: " + kind.String() + " limit needs the app's account function")
	}
	h := l.handler(kind, p, next, ByIP(), []By{ByAccount(account)})
	h.failures = true
	return h
}

// statusWriter records the status the login handler answers with, and
// runs before (once) just before the header is written, so a device cookie
// can join a successful answer.
type statusWriter struct {
	http.ResponseWriter
	status int
	before func(code int)
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		if w.before != nil && code >= 200 {
			w.before(code)
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// WriteString is Write for a string (io.StringWriter), so a handler's
// io.WriteString reaches the server's writer without a copy to bytes.
func (w *statusWriter) WriteString(s string) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return io.WriteString(w.ResponseWriter, s)
}

// Unwrap lets http.ResponseController and annotation walkers reach the
// underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (h *Handler) serveFailures(w http.ResponseWriter, r *http.Request) {
	now := h.l.now()
	keys := make([]Key, len(h.keys))
	account, hasAccount := "", false
	for i, b := range h.keys {
		k, err := h.key(r, b)
		if err != nil {
			h.l.writeReject(w, r, h.policy, Decision{}, &Rejection{Status: http.StatusBadRequest, Reason: err, Kind: h.kind, Policy: h.policy}, h.policyHeader)
			return
		}
		// Device cookies belong to the password step (Failures) only: a
		// second factor's budget stays per account whatever the browser.
		if k.Kind == KeyAccount && !hasAccount && h.kind == KindLoginFailures {
			account, hasAccount = k.Name, true
			// A browser that signed in to this account before is
			// counted by its own device key, not by the account's
			// budget that strangers can exhaust.
			if dk, ok := h.l.device(r, account, now); ok {
				k = dk
			}
		}
		keys[i] = k
	}
	for _, k := range keys {
		d, err := h.l.store.Take(r.Context(), h.policy, k, 0, now)
		if err != nil {
			if h.fail == FailOpen {
				continue
			}
			h.l.writeReject(w, r, h.policy, Decision{}, &Rejection{Status: http.StatusServiceUnavailable, Reason: ErrStore, Kind: h.kind, Policy: h.policy, RetryAfter: time.Second}, h.policyHeader)
			return
		}
		if !d.Allowed {
			h.l.writeReject(w, r, h.policy, d, &Rejection{Status: http.StatusTooManyRequests, Reason: ErrLimited, Kind: h.kind, Policy: h.policy, RetryAfter: d.RetryAfter}, h.policyHeader)
			return
		}
	}
	sw := &statusWriter{ResponseWriter: w}
	if hasAccount {
		sw.before = func(code int) {
			if code >= 200 && code < 300 {
				h.l.issueDevice(w, account, now)
			}
		}
	}
	h.next.ServeHTTP(sw, r)
	switch {
	case sw.status == http.StatusUnauthorized || sw.status == http.StatusForbidden:
		for _, k := range keys {
			_, _ = h.l.store.Take(r.Context(), h.policy, k, 1, now)
		}
	case sw.status >= 200 && sw.status < 300 || sw.status == 0:
		// A success resets the bucket it was counted in: the account's
		// for a new device, the device's own for a known one (strangers
		// stay locked out while the owner signs in).
		for _, k := range keys {
			if k.Kind == KeyAccount || k.Kind == KeyDevice {
				_ = h.l.store.Reset(r.Context(), h.policy, k)
			}
		}
	}
}
