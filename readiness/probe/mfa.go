package probe

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/launchready/launchready/readiness"
)

// MFAProbe proves, through the app's real handler, that the routes whose
// policy requires a second factor (authz Policy.RequireMFA) hold (AUTH014):
//
//   - a session signed in with the password alone is refused on every one
//     of them (a stolen or reused staff password is not enough);
//   - completing the second step with a valid code gets the same account
//     in (the factor really counts, so the refusal above is not just a
//     broken route);
//   - the same code sent again, on a fresh password-only session, is
//     refused (replay), and that session stays refused.
//
// Account must be enrolled and hold a role the MFA routes allow; Code
// returns a code for it, computed at test time from its TOTP secret (see
// mfa.Code). A claim whose requests never reached the route's handler (the
// password step failed, a limit answered, the account's role is refused)
// is PROBE001, never a pass. It probes GET routes, which it can request
// without a body; it is a probe: Target.Checks in tests only.
type MFAProbe struct {
	// Client sends the requests: its Login is the password step, and the
	// account is Client.Accounts[Account]. Its Login.Step is not used: the
	// probe runs the second step itself.
	Client *Client
	// Account names the enrolled account in Client.Accounts.
	Account string
	// Code returns a valid code for the account now. Required.
	Code func() string
	// Step is the second sign-in step. Defaults: POST /api/login/mfa with
	// the JSON body {"code": code}.
	Step StepRequest
}

// StepRequest describes the route that takes the second factor.
type StepRequest struct {
	Method, Path string
	// Body builds the request body for a code. Default: {"code": code}
	// as JSON.
	Body func(code string) (contentType, body string)
}

var _ readiness.ProbeOnly = MFAProbe{}

// Name identifies the probe.
func (MFAProbe) Name() string { return "mfa probe" }

// ProbeOnly marks the probe as test-only.
func (MFAProbe) ProbeOnly() {}

// doOnce sends rq on s and counts it, without signing in again on a 401
// (a password-only session is meant to be refused).
func (b *bound) doOnce(ctx context.Context, rq Request, s *Session) *Response {
	res := b.send(ctx, rq, s, s.peer)
	b.c.count(b.probe, rq.Route, res)
	return res
}

// Run runs the three claims.
func (p MFAProbe) Run(ctx context.Context, in *readiness.Inspection) []readiness.Finding {
	b := p.Client.bind(in, p.Name())
	if b.h == nil || b.m == nil {
		return nil
	}
	defer b.record()
	var routes []string // patterns
	targets := map[string]string{}
	for _, rt := range b.m.Routes() {
		if !rt.Policy.RequiresMFA() || (rt.Method != "" && rt.Method != http.MethodGet) {
			continue
		}
		target, _ := fill(rt.Path, nil, b.c.Values)
		routes = append(routes, rt.Pattern)
		targets[rt.Pattern] = target
	}
	if len(routes) == 0 {
		return nil // AUTH013 reports routes that should require MFA
	}
	var out []readiness.Finding
	notExercised := func(route, claim string) {
		out = append(out, b.notExercised(readiness.ItemAuth, route, "AUTH014 ("+claim+")"))
	}
	const fix = "require the second factor in the route's policy (authz.Role(\"admin\").RequireMFA()), fill Principal.Factors from the session's verified methods only, and refuse a code whose time step was used before (mfa.Authenticator does)"
	if p.Code == nil {
		return append(out, readiness.Finding{ID: "PROBE001", Severity: readiness.Blocker, Item: readiness.ItemAuth, Route: routes[0],
			Seen: "the mfa probe has no Code function, so no second factor was tested",
			Fix:  "set MFAProbe.Code to a function returning the enrolled account's current TOTP code (mfa.Code(secret, time.Now()))"})
	}
	step := p.Step
	if step.Method == "" {
		step.Method = http.MethodPost
	}
	if step.Path == "" {
		step.Path = "/api/login/mfa"
	}
	stepBody := step.Body
	if stepBody == nil {
		stepBody = func(code string) (string, string) {
			return "application/json", `{"code":"` + strings.ReplaceAll(code, `"`, ``) + `"}`
		}
	}

	// 1. Password only: refused everywhere.
	pwd, ok := p.passwordOnly(ctx, b)
	if !ok {
		for _, r := range routes {
			notExercised(r, "password-only session refused")
		}
		return out
	}
	for _, r := range routes {
		res := b.doOnce(ctx, Request{Target: targets[r], Route: r}, pwd)
		if !res.Decided && !res.Reached {
			notExercised(r, "password-only session refused") // refused before the route's policy
			continue
		}
		if res.Reached || res.Status >= 200 && res.Status < 300 {
			out = append(out, readiness.Finding{ID: "AUTH014", Severity: readiness.Blocker, Route: r,
				Seen: fmt.Sprintf("a session signed in with the password alone got %d from GET %s: the second factor is not enforced", res.Status, targets[r]),
				Fix:  fix})
		}
	}

	// 2. The factor gets in.
	code := p.Code()
	ct, body := stepBody(code)
	stepRoute := step.Method + " " + step.Path
	res := b.doOnce(ctx, Request{Method: step.Method, Target: step.Path, Body: body, ContentType: ct, Route: stepRoute}, pwd)
	if res.Status < 200 || res.Status >= 300 {
		if !res.Reached {
			notExercised(stepRoute, "the second factor completes the sign-in")
		} else {
			out = append(out, readiness.Finding{ID: "AUTH014", Severity: readiness.Blocker, Route: stepRoute,
				Seen: fmt.Sprintf("the second step answered %d to a valid code: the enrolled account cannot sign in", res.Status),
				Fix:  "check the account's enrolment, the server clock (codes are accepted ±1 step) and the step route"})
		}
	} else {
		for _, r := range routes {
			res := b.doOnce(ctx, Request{Target: targets[r], Route: r}, pwd)
			switch {
			case res.Reached:
			case res.Status == http.StatusUnauthorized:
				out = append(out, readiness.Finding{ID: "AUTH014", Severity: readiness.Blocker, Route: r,
					Seen: fmt.Sprintf("after a valid second factor the route still answered 401 (%s): the session does not record the factor, so staff cannot use it", res.Layer),
					Fix:  "record the factor in the session (session.Manager.CompleteLogin or StepUp) and copy it into Principal.Factors in Authenticate"})
			default:
				notExercised(r, "a completed second factor gets in")
			}
		}
	}

	// 3. Replay: the same code on a fresh password-only session.
	again, ok := p.passwordOnly(ctx, b)
	if !ok {
		notExercised(stepRoute, "replayed code refused")
		return out
	}
	res = b.doOnce(ctx, Request{Method: step.Method, Target: step.Path, Body: body, ContentType: ct, Route: stepRoute}, again)
	switch {
	case res.Status >= 200 && res.Status < 300:
		out = append(out, readiness.Finding{ID: "AUTH014", Severity: readiness.Blocker, Route: stepRoute,
			Seen: "a code that was already used was accepted again: a code seen over a shoulder or phished works a second time",
			Fix:  fix})
	case !res.Reached:
		notExercised(stepRoute, "replayed code refused")
	default:
		for _, r := range routes {
			if res := b.doOnce(ctx, Request{Target: targets[r], Route: r}, again); res.Reached {
				out = append(out, readiness.Finding{ID: "AUTH014", Severity: readiness.Blocker, Route: r,
					Seen: "after a replayed code was refused, the session still reached the route",
					Fix:  fix})
			}
		}
	}
	return out
}

// passwordOnly signs the account in with the password step alone, on a
// session of its own that is never signed in again behind the probe's back.
func (p MFAProbe) passwordOnly(ctx context.Context, b *bound) (*Session, bool) {
	c := b.c
	acct, ok := c.Accounts[p.Account]
	if !ok || c.Login.Path == "" {
		return nil, false
	}
	s := &Session{b: b, cookies: map[string]*http.Cookie{}, peer: c.addr("account " + p.Account)}
	method := c.Login.Method
	if method == "" {
		method = http.MethodPost
	}
	ct, body := c.loginBody(acct)
	route := method + " " + c.Login.Path
	res := b.doOnce(ctx, Request{Method: method, Target: c.Login.Path, Body: body, ContentType: ct, Route: route}, s)
	return s, res.Status >= 200 && res.Status < 400 && len(s.cookies) > 0
}
