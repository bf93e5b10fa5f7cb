package probe

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/launchready/launchready/readiness"
)

// PasswordResetProbe walks the app's password reset as its user would and
// checks what an attacker with an old session or an old link could still
// do (SESS011, SESS012):
//   - the account is signed in twice (two browsers), two reset links are
//     asked for, and the older link must fail once the newer one exists;
//   - the newer link sets a new password and must work once only;
//   - afterwards both sessions of the old password must be dead.
//
// It changes the account's password, then resets it back to
// Client.Accounts[Account].Password with a third link, so probes after it
// still sign in. The app's reset limits must allow three requests for the
// account. Token reads the link the app mailed (the test's outbox). It is a
// probe: tests only.
type PasswordResetProbe struct {
	// Client sends the requests and signs in. Required: with Login and
	// Accounts[Account].
	Client *Client
	// Account names the Client.Accounts entry whose password is reset.
	Account string
	// RequestPath and ConfirmPath are the reset routes (POST). Defaults:
	// /api/password-reset ({"email": Username}) and
	// /api/password-reset/confirm ({"token", "password"}).
	RequestPath, ConfirmPath string
	// CheckPath answers 2xx only to a signed-in user. Default /api/me.
	CheckPath string
	// Token returns the token of the newest reset link the app sent to
	// account, after the request answered. Required.
	Token func(ctx context.Context, account Account) (string, error)
}

// Name identifies the probe.
func (PasswordResetProbe) Name() string { return "password reset probe" }

// ProbeOnly marks the probe as test-only.
func (PasswordResetProbe) ProbeOnly() {}

var _ readiness.ProbeOnly = PasswordResetProbe{}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// Run runs the probe.
func (p PasswordResetProbe) Run(ctx context.Context, in *readiness.Inspection) []readiness.Finding {
	reqPath := orDefault(p.RequestPath, "/api/password-reset")
	confPath := orDefault(p.ConfirmPath, "/api/password-reset/confirm")
	check := orDefault(p.CheckPath, "/api/me")
	confRoute := "POST " + confPath
	b := p.Client.bind(in, p.Name())
	defer b.record()
	acct, ok := b.c.Accounts[p.Account]
	if p.Token == nil || !ok {
		return []readiness.Finding{{ID: "PROBE001", Severity: readiness.Blocker, Item: readiness.ItemSession, Route: confRoute,
			Seen: "the password reset probe has no Token function or no Client.Accounts entry for its Account; SESS011 and SESS012 were not verified",
			Fix:  "set PasswordResetProbe.Token (read the mailed link) and Account (a Client.Accounts name)"}}
	}
	notRun := func(why string) []readiness.Finding {
		f := b.notExercised(readiness.ItemSession, confRoute, "SESS011/SESS012 (old sessions and old links after a reset)")
		f.Seen += "; " + why
		return []readiness.Finding{f}
	}
	var sessions []*Session
	for range 2 {
		s, err := b.c.newSession(ctx, b, p.Account)
		if err != nil {
			return notRun(err.Error())
		}
		sessions = append(sessions, s)
	}
	token := func() (string, error) {
		body, _ := json.Marshal(map[string]string{"email": acct.Username})
		res := b.do(ctx, Request{Method: http.MethodPost, Target: reqPath, Body: string(body), Route: "POST " + reqPath}, nil)
		if res.Status < 200 || res.Status >= 300 {
			return "", fmt.Errorf("the reset request answered %d (%s)", res.Status, refusal(res))
		}
		return p.Token(ctx, acct)
	}
	confirm := func(tok, password string) *Response {
		body, _ := json.Marshal(map[string]string{"token": tok, "password": password})
		return b.do(ctx, Request{Method: http.MethodPost, Target: confPath, Body: string(body), Route: confRoute}, nil)
	}
	ok2xx := func(r *Response) bool { return r.Status >= 200 && r.Status < 300 }

	older, err := token()
	if err != nil {
		return notRun(err.Error())
	}
	newer, err := token()
	if err != nil {
		return notRun(err.Error())
	}
	fresh := "probe-" + rand.Text()
	var out []readiness.Finding
	if r := confirm(older, fresh); ok2xx(r) {
		out = append(out, readiness.Finding{ID: "SESS012", Severity: readiness.Blocker, Item: readiness.ItemSession, Route: confRoute,
			Seen: "an older reset link still set a password after a newer one was issued: a link in an old, forwarded or leaked mail keeps working",
			Fix:  "issue and consume reset tokens with session.ResetTokens (issuing or consuming one revokes the account's others)"})
	}
	r := confirm(newer, fresh)
	if !r.Reached {
		return append(out, notRun("the newest reset link was refused before the handler")...)
	}
	if !ok2xx(r) {
		return append(out, notRun(fmt.Sprintf("the newest reset link answered %d", r.Status))...)
	}
	if r := confirm(newer, fresh+"x"); ok2xx(r) {
		out = append(out, readiness.Finding{ID: "SESS012", Severity: readiness.Blocker, Item: readiness.ItemSession, Route: confRoute,
			Seen: "a reset link set a password twice",
			Fix:  "delete the token when it is used (session.ResetTokens.Consume)"})
	}
	alive := 0
	for _, s := range sessions {
		if r := b.send(ctx, Request{Target: check, Route: "GET " + check}, s, s.peer); ok2xx(r) {
			alive++
		}
	}
	if alive > 0 {
		out = append(out, readiness.Finding{ID: "SESS011", Severity: readiness.Blocker, Item: readiness.ItemSession, Route: confRoute,
			Seen: fmt.Sprintf("%d of 2 sessions signed in before the password reset still worked after it: whoever knew the old password or stole a cookie stays in", alive),
			Fix:  "after setting the new password call sessions.PasswordChanged(ctx, userID) (session), which ends every other session of the user"})
	}
	// Put the password back for the probes after this one.
	back, err := token()
	if err == nil {
		if r := confirm(back, acct.Password); !ok2xx(r) {
			err = fmt.Errorf("the restoring link answered %d", r.Status)
		}
	}
	if err != nil {
		out = append(out, readiness.Finding{ID: "PROBE001", Severity: readiness.Blocker, Item: readiness.ItemSession, Route: confRoute,
			Seen: "the password reset probe could not restore the account's password (" + err.Error() + "); later probes signing in as it will fail",
			Fix:  "let the reset limits allow three requests for the probe's account, or give the probe an account of its own"})
	}
	return out
}

// AccountFoldingProbe locks an account with failed logins from many
// addresses, then signs in with spellings of the same account that the
// app's lookup treats as the same person (upper case, "ſ" for "s", the
// Kelvin sign for "k", a fullwidth letter, surrounding spaces): each must
// meet the same lockout (RATE011). A spelling that reaches the login
// handler unrefused has a failure budget of its own: the lockout is
// bypassed by rewriting the name. It is a probe: tests only.
type AccountFoldingProbe struct {
	// Client sends the attempts. Nil: a zero Client.
	Client *Client
	// Method and Path of the login route. Defaults: POST /api/login.
	Method, Path string
	// Account is the account name locked by the probe; an unknown one
	// works (lockouts cover unknown accounts alike). Default
	// "lockout-probe@example.test".
	Account string
	// Body builds an attempt. Default JSON {"email", "password"}.
	Body func(account, password string) (contentType, body string)
	// MaxAttempts bounds the attempts that lock the account. Default 20.
	MaxAttempts int
}

// Name identifies the probe.
func (AccountFoldingProbe) Name() string { return "account folding probe" }

// ProbeOnly marks the probe as test-only.
func (AccountFoldingProbe) ProbeOnly() {}

// FoldingVariants returns spellings of account that Unicode case folding
// and NFKC make equal to it.
func FoldingVariants(account string) []string {
	var out []string
	add := func(s string) {
		if s != account && s != "" {
			out = append(out, s)
		}
	}
	add(strings.ToUpper(account))
	add(strings.Replace(account, "s", "\u017f", 1)) // ſ LATIN SMALL LETTER LONG S
	add(strings.Replace(account, "k", "\u212a", 1)) // K KELVIN SIGN
	if r, n := utf8.DecodeRuneInString(account); r >= 'a' && r <= 'z' {
		add(string(r-'a'+'ａ') + account[n:]) // fullwidth first letter
	}
	add(" " + account + " ")
	return out
}

// Run runs the probe.
func (p AccountFoldingProbe) Run(ctx context.Context, in *readiness.Inspection) []readiness.Finding {
	method := orDefault(p.Method, http.MethodPost)
	path := orDefault(p.Path, "/api/login")
	route := method + " " + path
	account := orDefault(p.Account, "lockout-probe@example.test")
	body := p.Body
	if body == nil {
		body = func(a, pw string) (string, string) {
			b, _ := json.Marshal(map[string]string{"email": a, "password": pw})
			return "application/json", string(b)
		}
	}
	max := p.MaxAttempts
	if max <= 0 {
		max = 20
	}
	b := p.Client.bind(in, p.Name())
	if b.h == nil {
		return nil
	}
	defer b.record()
	wrong := "wrong-" + rand.Text()
	attempt := func(name string, n int) *Response {
		ct, bd := body(name, wrong)
		res := b.send(ctx, Request{Method: method, Target: path, Body: bd, ContentType: ct, Route: route}, nil,
			b.c.addr(fmt.Sprintf("%s %d", p.Name(), n)))
		b.c.count(b.probe, route, res)
		return res
	}
	n := 0
	locked, reached := false, 0
	for ; n < max && !locked; n++ {
		res := attempt(account, n)
		if res.Reached {
			reached++
		}
		locked = res.Status == http.StatusTooManyRequests
	}
	if !locked || reached == 0 {
		return []readiness.Finding{b.notExercised(readiness.ItemRateLimit, route,
			fmt.Sprintf("RATE011 (%d failed logins for one account from as many addresses never locked it, so its spellings could not be compared)", n))}
	}
	var bypass []string
	for _, v := range FoldingVariants(account) {
		n++
		res := attempt(v, n)
		// A bypass is a spelling whose credentials were checked (401, 403
		// or a sign-in); input validation refusing it (400, 422) is not.
		checked := res.Status == http.StatusUnauthorized || res.Status == http.StatusForbidden || res.Status >= 200 && res.Status < 300
		if checked && res.Reached {
			bypass = append(bypass, fmt.Sprintf("%q (%d)", v, res.Status))
		}
	}
	if len(bypass) == 0 {
		return nil
	}
	return []readiness.Finding{{ID: "RATE011", Severity: readiness.Blocker, Item: readiness.ItemRateLimit, Route: route,
		Seen: fmt.Sprintf("account %q was locked, but spellings the account lookup may treat as the same account reached the login handler: %s", account, strings.Join(bypass, ", ")),
		Fix:  "key the limits and match the account lookup by one canonical form: ratelimit.AccountKey (NFKC + Unicode case folding); ByAccount applies it"}}
}

// CrossSiteReadProbe follows a link from another site to every export and
// download route (GET, path naming export or download) as a signed-in
// user, the way a browser does (Sec-Fetch-Site: cross-site, a top-level
// navigation, the session cookie attached), and checks the handler did not
// serve it (CORS010). A same-origin request of the same user must be
// served first, else the route is reported not exercised: a refusal for
// every request proves nothing about cross-site ones. It is a probe: tests
// only.
type CrossSiteReadProbe struct {
	// Client sends the requests and signs in. Required, with Account.
	Client *Client
	// Account names the Client.Accounts entry allowed to export.
	Account string
}

// Name identifies the probe.
func (CrossSiteReadProbe) Name() string { return "cross-site read probe" }

// ProbeOnly marks the probe as test-only.
func (CrossSiteReadProbe) ProbeOnly() {}

func sensitiveRead(rt readiness.Route) bool {
	if rt.Method != "" && rt.Method != http.MethodGet {
		return false
	}
	for _, seg := range strings.Split(strings.ToLower(rt.Path), "/") {
		if !strings.HasPrefix(seg, "{") && (strings.Contains(seg, "export") || strings.Contains(seg, "download")) {
			return true
		}
	}
	return false
}

// Run runs the probe.
func (p CrossSiteReadProbe) Run(ctx context.Context, in *readiness.Inspection) []readiness.Finding {
	b := p.Client.bind(in, p.Name())
	if b.h == nil {
		return nil
	}
	defer b.record()
	var out []readiness.Finding
	for _, rt := range in.Routes {
		if !sensitiveRead(rt) {
			continue
		}
		s, err := b.c.signIn(ctx, b, p.Account)
		if err != nil {
			f := b.notExercised(readiness.ItemCORS, rt.Pattern, "CORS010 (cross-site navigation to an export)")
			f.Seen += "; " + err.Error()
			out = append(out, f)
			continue
		}
		target, _ := fill(rt.Path, b.c.Values, nil)
		same := b.do(ctx, Request{Target: target, Route: rt.Pattern,
			Header: http.Header{"Sec-Fetch-Site": {"same-origin"}, "Sec-Fetch-Mode": {"navigate"}}}, s)
		if !same.Reached || same.Status < 200 || same.Status > 299 {
			f := b.notExercised(readiness.ItemCORS, rt.Pattern, "CORS010 (cross-site navigation to an export)")
			f.Seen += fmt.Sprintf("; the same-origin request of %q answered %d", p.Account, same.Status)
			out = append(out, f)
			continue
		}
		cross := b.do(ctx, Request{Target: target, Route: rt.Pattern,
			Header: http.Header{"Sec-Fetch-Site": {"cross-site"}, "Sec-Fetch-Mode": {"navigate"}, "Sec-Fetch-Dest": {"document"}}}, s)
		if cross.Status >= 200 && cross.Status < 300 {
			out = append(out, readiness.Finding{ID: "CORS010", Severity: readiness.Blocker, Item: readiness.ItemCORS, Route: rt.Pattern,
				Seen: fmt.Sprintf("a cross-site navigation with the user's session was served (%d): a link on any site runs this export in the user's name", cross.Status),
				Fix:  "wrap the route's handler with policy.SensitiveRead(h) (cors)"})
		}
	}
	return out
}
