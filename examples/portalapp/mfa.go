package portalapp

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"

	"github.com/launchready/launchready/mfa"
	"github.com/launchready/launchready/session"
)

// DemoTOTPSecret is the published TOTP secret of the demo admin, enrolled
// in development only (production refuses to boot while demo accounts
// exist, AUTH010). Add it to an authenticator app by hand, or compute the
// code with `oathtool --totp -b DEMODEMODEMODEMODEMODEMODEMODEMO`.
const DemoTOTPSecret = "DEMODEMODEMODEMODEMODEMODEMODEMO"

// MFAKeyEnv is the environment variable holding the key that seals the
// TOTP secrets in production: 32 random bytes in base64.
const MFAKeyEnv = "PORTAL_MFA_KEY"

// CodeInput is the body of POST /api/login/mfa, /api/mfa/confirm and
// /api/mfa/step-up: a 6-digit code, or (sign-in and step-up) a recovery
// code.
type CodeInput struct {
	Code string `json:"code" validate:"required,min=6,max=32"`
}

// SecondFactor is what the API needs from the second-factor layer
// (*mfa.Authenticator).
type SecondFactor interface {
	Enrolled(ctx context.Context, account string) (bool, error)
	Enroll(ctx context.Context, account, label string) (mfa.Enrollment, error)
	Confirm(ctx context.Context, account, code string) ([]string, error)
	Verify(ctx context.Context, account, code string) (mfa.Method, error)
}

var _ SecondFactor = (*mfa.Authenticator)(nil)

// enrolled reports whether userID must give a second factor at sign-in.
// A store failure counts as enrolled: the sign-in then fails closed at the
// second step instead of skipping it.
func (a *API) enrolled(r *http.Request, userID string) bool {
	if a.MFA == nil {
		return false
	}
	ok, err := a.MFA.Enrolled(r.Context(), userID)
	if err != nil {
		a.logger().ErrorContext(r.Context(), "reading the second factor failed", "error", err)
		return true
	}
	return ok
}

// failReason names a verification failure for the audit trail; the client
// always gets the same answer.
func failReason(err error) string {
	switch {
	case errors.Is(err, mfa.ErrReplayed):
		return "replayed"
	case errors.Is(err, mfa.ErrMalformed):
		return "malformed"
	case errors.Is(err, mfa.ErrNotEnrolled):
		return "not-enrolled"
	case errors.Is(err, mfa.ErrInvalidCode):
		return "invalid"
	}
	return "error"
}

func wrongCode(w http.ResponseWriter) {
	writeProblem(w, http.StatusUnauthorized, "Unauthorized", "the code is not valid")
}

// LoginMFA completes a two-step sign-in (POST /api/login/mfa): the session
// must hold a sign-in whose password was verified less than
// session.PendingTimeout ago; the code may be a recovery code.
func (a *API) LoginMFA(w http.ResponseWriter, r *http.Request, in *CodeInput) {
	userID, ok := a.Sessions.PendingLogin(r.Context())
	if !ok || a.MFA == nil {
		a.Events.MFAFailed(r, "", "no-pending-sign-in")
		writeProblem(w, http.StatusUnauthorized, "Unauthorized", "sign in with your email and password first")
		return
	}
	method, err := a.MFA.Verify(r.Context(), userID, in.Code)
	if err != nil {
		a.Events.MFAFailed(r, userID, failReason(err))
		wrongCode(w)
		return
	}
	if _, err := a.Sessions.CompleteLogin(r.Context(), session.MethodOTP); err != nil {
		a.internalError(w, r, err)
		return
	}
	u, err := a.Store.UserByID(r.Context(), userID)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	a.Events.MFAVerified(r, userID, string(method), false)
	a.Events.LoginSucceeded(r, u.Email, userID)
	writeJSON(w, http.StatusOK, meView(u, "verified"))
}

// EnrollMFA starts an enrolment for the signed-in user (POST
// /api/mfa/enroll): the otpauth URI, its QR code as a PNG data URL, and
// the secret for typing in. An enrolled account gets 409.
func (a *API) EnrollMFA(w http.ResponseWriter, r *http.Request) {
	me, ok := a.CurrentUser(r)
	if !ok || a.MFA == nil {
		writeProblem(w, http.StatusUnauthorized, "Unauthorized", "sign in first")
		return
	}
	u, err := a.Store.UserByID(r.Context(), me.ID)
	if err != nil {
		writeProblem(w, http.StatusUnauthorized, "Unauthorized", "sign in first")
		return
	}
	enr, err := a.MFA.Enroll(r.Context(), me.ID, u.Email)
	if errors.Is(err, mfa.ErrAlreadyEnrolled) {
		writeProblem(w, http.StatusConflict, "Conflict", "two-factor sign-in is set up already")
		return
	}
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	a.Events.MFAEnrollStarted(r, me.ID)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]string{
		"otpauth_uri": enr.URI,
		"qr_code":     "data:image/png;base64," + base64.StdEncoding.EncodeToString(enr.PNG),
		"secret":      enr.Secret,
	})
}

// ConfirmMFA completes the enrolment with a code from the app (POST
// /api/mfa/confirm) and answers the recovery codes, the only time they
// are shown. The session counts the second factor as verified (a step-up,
// so the token is renewed).
func (a *API) ConfirmMFA(w http.ResponseWriter, r *http.Request, in *CodeInput) {
	me, ok := a.CurrentUser(r)
	if !ok || a.MFA == nil {
		writeProblem(w, http.StatusUnauthorized, "Unauthorized", "sign in first")
		return
	}
	codes, err := a.MFA.Confirm(r.Context(), me.ID, in.Code)
	switch {
	case errors.Is(err, mfa.ErrNoEnrollment):
		writeProblem(w, http.StatusConflict, "Conflict", "start the enrolment first (POST /api/mfa/enroll)")
		return
	case errors.Is(err, mfa.ErrAlreadyEnrolled):
		writeProblem(w, http.StatusConflict, "Conflict", "two-factor sign-in is set up already")
		return
	case err != nil:
		a.Events.MFAFailed(r, me.ID, failReason(err))
		wrongCode(w)
		return
	}
	if err := a.Sessions.StepUp(r.Context(), session.MethodOTP); err != nil {
		a.internalError(w, r, err)
		return
	}
	a.Events.MFAEnrolled(r, me.ID)
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string][]string{"recovery_codes": codes})
}

// StepUpMFA verifies a code for a user signed in with a password alone
// (POST /api/mfa/step-up), or whose verification is too old for a Fresh
// route; the session gets the factor and a new token.
func (a *API) StepUpMFA(w http.ResponseWriter, r *http.Request, in *CodeInput) {
	me, ok := a.CurrentUser(r)
	if !ok || a.MFA == nil {
		writeProblem(w, http.StatusUnauthorized, "Unauthorized", "sign in first")
		return
	}
	method, err := a.MFA.Verify(r.Context(), me.ID, in.Code)
	if err != nil {
		a.Events.MFAFailed(r, me.ID, failReason(err))
		wrongCode(w)
		return
	}
	if err := a.Sessions.StepUp(r.Context(), session.MethodOTP); err != nil {
		a.internalError(w, r, err)
		return
	}
	a.Events.MFAVerified(r, me.ID, string(method), true)
	w.WriteHeader(http.StatusNoContent)
}
