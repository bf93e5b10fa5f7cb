package portalapp

import (
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Me is who is signed in, as the handlers see it. The wiring fills it from
// the authorization layer's principal.
type Me struct {
	ID     string
	Role   string
	Tenant string
	// MFA is true when the session verified a second factor.
	MFA bool
}

// Staff reports whether the user works for the support team.
func (m Me) Staff() bool { return m.Role == RoleAdmin || m.Role == RoleSupport }

// Sessions is what the API needs from the session layer.
type Sessions interface {
	Login(ctx context.Context, userID string) error
	Logout(ctx context.Context) error
	// The two-step sign-in and step-up of session.Manager.
	BeginLogin(ctx context.Context, userID string) error
	PendingLogin(ctx context.Context) (userID string, ok bool)
	CompleteLogin(ctx context.Context, method string) (userID string, err error)
	StepUp(ctx context.Context, method string) error
	// PasswordChanged ends every other session of the user (after a
	// password change or reset) and returns how many ended.
	PasswordChanged(ctx context.Context, userID string) (int, error)
}

// ResetTokens issues and consumes password-reset tokens: stored hashed,
// single use, short-lived, and one outstanding per account (issuing or
// consuming one revokes the others). session.ResetTokens is one.
type ResetTokens interface {
	Issue(ctx context.Context, account string) (string, error)
	Consume(ctx context.Context, token string) (string, error)
}

// Events receives the security events handlers know about (login success
// and failure, password change, export) for the audit trail and the
// failure-based login limits.
type Events interface {
	LoginFailed(r *http.Request, account string)
	LoginSucceeded(r *http.Request, account, userID string)
	PasswordChanged(r *http.Request, userID string)
	Exported(r *http.Request, clientID string, rows int)
	// Second factor: the password of an enrolled account was right and
	// the code is awaited; an enrolment started or completed; a code (or
	// recovery code: method "recovery") verified at sign-in or step-up; a
	// code refused, with why (for the audit trail only).
	LoginNeedsSecondFactor(r *http.Request, userID string)
	MFAEnrollStarted(r *http.Request, userID string)
	MFAEnrolled(r *http.Request, userID string)
	MFAVerified(r *http.Request, userID, method string, stepUp bool)
	MFAFailed(r *http.Request, userID, reason string)
}

// API holds the portal's JSON handlers. It knows nothing of the kit: the
// wiring puts authorization, validation, limits and logging around it.
type API struct {
	Store    Store
	Sessions Sessions
	Mailer   Mailer
	Events   Events
	// MFA enrols and verifies second factors. Nil: no account has one.
	MFA    SecondFactor
	Logger *slog.Logger
	// CurrentUser returns the signed-in user of a request.
	CurrentUser func(*http.Request) (Me, bool)
	// PublicURL is the portal's public base URL for links in emails. Never
	// built from r.Host, which the client controls.
	PublicURL string
	Now       func() time.Time
	// ResetTTL is how long a password-reset link works.
	ResetTTL time.Duration
	// Enrichment, when set, looks a client up in the external CRM. A
	// failure is shown as "unavailable", never as an error page.
	Enrichment func(ctx context.Context, clientID string) (Enrichment, error)
	// NotifyTickets mails a client's contact about each new ticket,
	// through Defer: the ticket is created whether or not mail works.
	NotifyTickets bool
	// Resets issues the reset tokens. Nil falls back to the Store's
	// SaveResetToken/ConsumeResetToken, which keep older tokens alive.
	Resets ResetTokens
	// Defer runs work after the response (a queue with retries), so the
	// reset form answers in the same time for every address. Nil runs it
	// in the request.
	Defer func(task func(ctx context.Context))

	dummyHash []byte
}

// LoginInput is the body of POST /api/login.
type LoginInput struct {
	Email    string `json:"email" validate:"required,email,max=254"`
	Password string `json:"password" validate:"required,min=1,max=256"`
}

// ResetInput is the body of POST /api/password-reset.
type ResetInput struct {
	Email string `json:"email" validate:"required,email,max=254"`
}

// ResetConfirmInput is the body of POST /api/password-reset/confirm.
type ResetConfirmInput struct {
	Token    string `json:"token" validate:"required,min=20,max=128"`
	Password string `json:"password" validate:"required,min=12,max=256"`
}

// TicketInput is the body of POST /api/clients/{id}/tickets.
type TicketInput struct {
	Subject  string `json:"subject" validate:"required,min=3,max=200"`
	Priority string `json:"priority" validate:"omitempty,oneof=low normal high urgent"`
	Note     string `json:"note" validate:"omitempty,max=4000"`
}

// TicketPatchInput is the body of PATCH /api/tickets/{id}.
type TicketPatchInput struct {
	Status   *string `json:"status" validate:"omitempty,oneof=open pending closed"`
	Priority *string `json:"priority" validate:"omitempty,oneof=low normal high urgent"`
	Note     *string `json:"note" validate:"omitempty,min=1,max=4000"`
}

func (a *API) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *API) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Logger
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeProblem answers with an RFC 9457 problem document.
func writeProblem(w http.ResponseWriter, status int, title, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"type": "about:blank", "title": title, "status": status, "detail": detail})
}

func notFound(w http.ResponseWriter) {
	writeProblem(w, http.StatusNotFound, "Not Found", "no such object")
}

func (a *API) internalError(w http.ResponseWriter, r *http.Request, err error) {
	a.logger().ErrorContext(r.Context(), "request failed", "error", err)
	writeProblem(w, http.StatusInternalServerError, "Internal Server Error", "the request could not be completed")
}

// Login checks the credentials, renews the session and signs the user in.
// Unknown accounts cost the same bcrypt comparison as known ones, so the
// answer's timing does not reveal which accounts exist.
func (a *API) Login(w http.ResponseWriter, r *http.Request, in *LoginInput) {
	u, err := a.Store.UserByEmail(r.Context(), in.Email)
	hash := u.PasswordHash
	if err != nil {
		hash = a.dummy()
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(in.Password)) != nil || err != nil {
		a.Events.LoginFailed(r, in.Email)
		writeProblem(w, http.StatusUnauthorized, "Unauthorized", "email or password is wrong")
		return
	}
	if a.enrolled(r, u.ID) {
		// The password was right; the session is nobody's until the
		// second factor is (POST /api/login/mfa).
		if err := a.Sessions.BeginLogin(r.Context(), u.ID); err != nil {
			a.internalError(w, r, err)
			return
		}
		a.Events.LoginNeedsSecondFactor(r, u.ID)
		writeJSON(w, http.StatusOK, map[string]bool{"mfa_required": true})
		return
	}
	if err := a.Sessions.Login(r.Context(), u.ID); err != nil {
		a.internalError(w, r, err)
		return
	}
	a.Events.LoginSucceeded(r, in.Email, u.ID)
	writeJSON(w, http.StatusOK, meView(u, "none"))
}

func (a *API) dummy() []byte {
	if a.dummyHash == nil {
		a.dummyHash, _ = bcrypt.GenerateFromPassword([]byte(rand.Text()), bcrypt.DefaultCost)
	}
	return a.dummyHash
}

// Init prepares what the handlers need before serving.
func (a *API) Init() { a.dummy() }

// meView is the user as the API shows it. mfa is "verified" (this session
// verified the second factor), "enrolled" (set up, not verified in this
// session) or "none".
func meView(u User, mfa string) map[string]string {
	return map[string]string{"id": u.ID, "email": u.Email, "name": u.Name, "role": u.Role, "tenant": u.Tenant, "mfa": mfa}
}

// Logout destroys the session server-side.
func (a *API) Logout(w http.ResponseWriter, r *http.Request) {
	if err := a.Sessions.Logout(r.Context()); err != nil {
		a.internalError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// CurrentUserInfo answers GET /api/me.
func (a *API) CurrentUserInfo(w http.ResponseWriter, r *http.Request) {
	me, ok := a.CurrentUser(r)
	if !ok {
		writeProblem(w, http.StatusUnauthorized, "Unauthorized", "sign in first")
		return
	}
	u, err := a.Store.UserByID(r.Context(), me.ID)
	if err != nil {
		writeProblem(w, http.StatusUnauthorized, "Unauthorized", "sign in first")
		return
	}
	state := "none"
	switch {
	case me.MFA:
		state = "verified"
	case a.enrolled(r, me.ID):
		state = "enrolled"
	}
	writeJSON(w, http.StatusOK, meView(u, state))
}

// PasswordReset always answers 202, whether or not the account exists; a
// known account gets an email with a single-use link. The lookup, the token
// and the mail happen after the response (Defer), so the answer takes the
// same time for every address and reveals nothing.
func (a *API) PasswordReset(w http.ResponseWriter, r *http.Request, in *ResetInput) {
	email := in.Email
	if a.Defer == nil {
		a.sendReset(r.Context(), email)
	} else {
		a.Defer(func(ctx context.Context) { a.sendReset(ctx, email) })
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "if the account exists, an email is on its way"})
}

func (a *API) sendReset(ctx context.Context, email string) {
	u, err := a.Store.UserByEmail(ctx, email)
	if err != nil {
		return
	}
	ttl := a.ResetTTL
	if ttl == 0 {
		ttl = 30 * time.Minute
	}
	var token string
	if a.Resets != nil {
		token, err = a.Resets.Issue(ctx, u.ID)
	} else {
		token = rand.Text() + rand.Text() // 52 base32 characters, 256 bits
		err = a.Store.SaveResetToken(ctx, HashToken(token), u.ID, a.now().Add(ttl))
	}
	if err != nil {
		a.logger().ErrorContext(ctx, "saving reset token failed", "error", err)
		return
	}
	link := strings.TrimRight(a.PublicURL, "/") + "/#reset=" + token
	err = a.Mailer.Send(ctx, Mail{To: u.Email, Subject: "Reset your portal password",
		Body: "Someone asked to reset your password. The link works once, for " + ttl.String() + ":\n\n" + link + "\n\nIgnore this email if it was not you."})
	if err != nil {
		a.logger().ErrorContext(ctx, "sending reset email failed", "error", err)
		return
	}
	// The email address is PII and the link is a credential: the log gets
	// neither in clear (the redacting handler masks the address).
	a.logger().InfoContext(ctx, "password reset email sent", "email", u.Email)
}

// PasswordResetConfirm sets a new password with a valid token, then ends
// every session of the account (whoever knew the old password or held a
// stolen cookie is out) and reports the change, which lifts a lockout.
func (a *API) PasswordResetConfirm(w http.ResponseWriter, r *http.Request, in *ResetConfirmInput) {
	var userID string
	var err error
	if a.Resets != nil {
		userID, err = a.Resets.Consume(r.Context(), in.Token)
	} else {
		userID, err = a.Store.ConsumeResetToken(r.Context(), HashToken(in.Token), a.now())
	}
	if err != nil {
		writeProblem(w, http.StatusBadRequest, "Bad Request", "the reset link is invalid or has expired; ask for a new one")
		return
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(in.Password), bcrypt.DefaultCost)
	if err != nil {
		writeProblem(w, http.StatusUnprocessableEntity, "Unprocessable Entity", "choose another password")
		return
	}
	if err := a.Store.SetPasswordHash(r.Context(), userID, hash); err != nil {
		a.internalError(w, r, err)
		return
	}
	if _, err := a.Sessions.PasswordChanged(r.Context(), userID); err != nil {
		// The password changed but old sessions may live on: say so
		// rather than report success.
		a.internalError(w, r, err)
		return
	}
	a.Events.PasswordChanged(r, userID)
	w.WriteHeader(http.StatusNoContent)
}

// ListClients answers GET /api/clients (staff only; the route says so).
func (a *API) ListClients(w http.ResponseWriter, r *http.Request) {
	cs, err := a.Store.Clients(r.Context())
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, cs)
}

// GetClient answers GET /api/clients/{id}.
func (a *API) GetClient(w http.ResponseWriter, r *http.Request) {
	c, err := a.Store.Client(r.Context(), r.PathValue("id"))
	if err != nil {
		notFound(w)
		return
	}
	if a.Enrichment == nil {
		writeJSON(w, http.StatusOK, c)
		return
	}
	// The CRM is optional: a slow or failing CRM costs at most its
	// deadline and degrades the panel, never the page.
	e, err := a.Enrichment(r.Context(), c.ID)
	if err != nil {
		a.logger().WarnContext(r.Context(), "client enrichment unavailable", "client", c.ID, "error", err)
	}
	writeJSON(w, http.StatusOK, ClientView{Client: c, Enrichment: &e})
}

// ListTickets answers GET /api/clients/{id}/tickets.
func (a *API) ListTickets(w http.ResponseWriter, r *http.Request) {
	ts, err := a.Store.Tickets(r.Context(), r.PathValue("id"))
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	if ts == nil {
		ts = []Ticket{}
	}
	writeJSON(w, http.StatusOK, ts)
}

// CreateTicket answers POST /api/clients/{id}/tickets.
func (a *API) CreateTicket(w http.ResponseWriter, r *http.Request, in *TicketInput) {
	me, _ := a.CurrentUser(r)
	now := a.now()
	t := Ticket{ClientID: r.PathValue("id"), Subject: in.Subject, Status: "open", Priority: in.Priority,
		CreatedBy: me.ID, CreatedAt: now, UpdatedAt: now}
	if t.Priority == "" {
		t.Priority = "normal"
	}
	if in.Note != "" {
		t.Notes = []Note{{Author: me.ID, Text: in.Note, At: now}}
	}
	t, err := a.Store.CreateTicket(r.Context(), t)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	if a.NotifyTickets && a.Defer != nil {
		a.Defer(func(ctx context.Context) { a.notifyTicket(ctx, t) })
	}
	w.Header().Set("Location", "/api/tickets/"+strconv.FormatInt(t.ID, 10))
	writeJSON(w, http.StatusCreated, t)
}

// notifyTicket mails the client's contact about a new ticket. It runs on
// the mail queue, after the response.
func (a *API) notifyTicket(ctx context.Context, t Ticket) {
	c, err := a.Store.Client(ctx, t.ClientID)
	if err != nil || c.Contact == "" {
		return
	}
	msg := Mail{To: c.Contact, Subject: fmt.Sprintf("Ticket #%d opened: %s", t.ID, t.Subject),
		Body: fmt.Sprintf("A support ticket was opened for %s.\n\n#%d %s (priority %s)\n", c.Name, t.ID, t.Subject, t.Priority)}
	if err := a.Mailer.Send(ctx, msg); err != nil {
		a.logger().WarnContext(ctx, "ticket notification not sent", "ticket", t.ID, "error", err)
	}
}

// GetTicket answers GET /api/tickets/{id}.
func (a *API) GetTicket(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		notFound(w)
		return
	}
	t, err := a.Store.Ticket(r.Context(), id)
	if err != nil {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

// PatchTicket answers PATCH /api/tickets/{id}. Client users may add notes
// but only staff change status or priority.
func (a *API) PatchTicket(w http.ResponseWriter, r *http.Request, in *TicketPatchInput) {
	me, _ := a.CurrentUser(r)
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		notFound(w)
		return
	}
	if !me.Staff() && (in.Status != nil || in.Priority != nil) {
		writeProblem(w, http.StatusForbidden, "Forbidden", "only support staff change status or priority")
		return
	}
	p := TicketPatch{Status: in.Status, Priority: in.Priority}
	if in.Note != nil {
		p.Note = &Note{Author: me.ID, Text: *in.Note, At: a.now()}
	}
	t, err := a.Store.UpdateTicket(r.Context(), id, p, a.now())
	if errors.Is(err, ErrNotFound) {
		notFound(w)
		return
	}
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

// ListInvoices answers GET /api/clients/{id}/invoices.
func (a *API) ListInvoices(w http.ResponseWriter, r *http.Request) {
	inv, err := a.Store.Invoices(r.Context(), r.PathValue("id"))
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	if inv == nil {
		inv = []Invoice{}
	}
	writeJSON(w, http.StatusOK, inv)
}

// Export answers GET /api/clients/{id}/export with the client's tickets and
// invoices as CSV. Cells that a spreadsheet would run as a formula are
// prefixed with a quote (CSV injection).
func (a *API) Export(w http.ResponseWriter, r *http.Request) {
	clientID := r.PathValue("id")
	ts, err := a.Store.Tickets(r.Context(), clientID)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	inv, err := a.Store.Invoices(r.Context(), clientID)
	if err != nil {
		a.internalError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", clientID+"-export.csv"))
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"kind", "id", "subject_or_period", "status", "amount_cents"})
	for _, t := range ts {
		_ = cw.Write([]string{"ticket", strconv.FormatInt(t.ID, 10), csvSafe(t.Subject), t.Status, ""})
	}
	for _, i := range inv {
		_ = cw.Write([]string{"invoice", i.ID, i.Period, i.Status, strconv.FormatInt(i.Cents, 10)})
	}
	cw.Flush()
	a.Events.Exported(r, clientID, len(ts)+len(inv))
}

// csvSafe neutralises formulas (CSV injection): a quote goes before every
// '=', '+', '-', '@', tab or CR that starts the cell or follows a ';', ',',
// tab, CR or LF, because spreadsheets split unquoted cells on the locale's
// separator (';' in much of Europe) and on line breaks, and evaluate each
// piece that starts like a formula: "x;=1+1;y" becomes "x;'=1+1;y".
func csvSafe(s string) string {
	const triggers, separators = "=+-@\t\r", ";,\t\r\n"
	var b strings.Builder
	last, start := 0, true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if start && strings.IndexByte(triggers, c) >= 0 {
			b.WriteString(s[last:i])
			b.WriteByte('\'')
			last = i
		}
		start = strings.IndexByte(separators, c) >= 0
	}
	if last == 0 && b.Len() == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// Uploaded is what the upload handler receives after the upload limits
// checked size and sniffed type.
type Uploaded struct {
	Name        string
	ContentType string
	Size        int64
	Body        io.Reader
}

// SaveUpload records an upload for the client of the route.
func (a *API) SaveUpload(w http.ResponseWriter, r *http.Request, files []Uploaded) {
	var out []Upload
	for _, f := range files {
		n, err := io.Copy(io.Discard, f.Body) // the example keeps metadata only
		if err != nil {
			writeProblem(w, http.StatusBadRequest, "Bad Request", "the upload could not be read")
			return
		}
		u, err := a.Store.AddUpload(r.Context(), Upload{ClientID: r.PathValue("id"), Name: f.Name,
			ContentType: f.ContentType, Size: n, At: a.now()})
		if err != nil {
			a.internalError(w, r, err)
			return
		}
		out = append(out, u)
	}
	writeJSON(w, http.StatusCreated, out)
}
