package probe

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"

	"github.com/launchready/launchready/ratelimit"
	"github.com/launchready/launchready/readiness"
)

// LoginRateProbe attacks the login route the three ways a limit must stop
// (RATE007), each from fresh client addresses and fresh account names so it
// neither spends nor depends on another probe's budget:
//
//   - repeat: one failing login again and again from one address;
//   - spray: failing logins for many accounts (30 without an IP-keyed limit
//     to size it) from one address — password spraying, which a limit keyed
//     by account alone never sees;
//   - distributed: failing logins for one account from many addresses — a
//     botnet guessing one password, which a limit keyed by IP alone never
//     sees.
//
// Each attack gets the walked limit's burst plus one attempts (its first
// refused one) and must meet a 429 after at least one attempt reached the
// login handler; an attack none of whose attempts reached the handler is
// reported as not exercised (PROBE001). It is a probe: put it in
// Target.Checks in the app's tests only; Gate refuses it.
type LoginRateProbe struct {
	// Client sends the attempts and builds their bodies (Client.Login.Body,
	// default JSON email and password). Nil: a zero Client.
	Client *Client
	// Method and Path of the login route. Defaults: Client.Login, else
	// POST /api/login.
	Method, Path string
	// Body is sent with every repeat attempt (wrong credentials), with
	// ContentType (default application/json). Default: the Client's login
	// body for an unknown account.
	Body        []byte
	ContentType string
	// MaxAttempts bounds the attempts of each attack. Zero sizes each one
	// from the walked limits (smallest burst plus one), and 30 when no
	// limit is keyed the way the attack needs.
	MaxAttempts int
}

var _ readiness.ProbeOnly = LoginRateProbe{}

// Name identifies the probe.
func (LoginRateProbe) Name() string { return "ratelimit login probe" }

// ProbeOnly marks the probe as test-only.
func (LoginRateProbe) ProbeOnly() {}

// sprayAccounts is the number of accounts (and addresses) an attack uses
// when no limit sizes it.
const sprayAccounts = 30

// loginAttack is one way to guess passwords.
type loginAttack struct {
	name, what string
	key        ratelimit.KeyKind // the limit that must stop it; 0: any
	account    func(i int) string
	peer       func(i int) netip.Addr
}

// Run sends the attacks.
func (p LoginRateProbe) Run(ctx context.Context, in *readiness.Inspection) []readiness.Finding {
	b := p.Client.bind(in, p.Name())
	if b.h == nil {
		return nil
	}
	defer b.record()
	method, path := p.Method, p.Path
	if method == "" {
		method = b.c.Login.Method
	}
	if method == "" {
		method = http.MethodPost
	}
	if path == "" {
		path = b.c.Login.Path
	}
	if path == "" {
		path = "/api/login"
	}
	pattern := method + " " + path
	limits := readiness.FindAll[*ratelimit.Handler](in.Chain)
	for _, rt := range in.Routes {
		if rt.Path == path && (rt.Method == "" || rt.Method == method) {
			limits = append(limits, readiness.FindAll[*ratelimit.Handler](rt.Chain)...)
			pattern = rt.Pattern
		}
	}
	same := func(name string) func(int) netip.Addr {
		a := b.c.addr(p.Name() + " " + name)
		return func(int) netip.Addr { return a }
	}
	attacks := []loginAttack{
		{name: "repeat", what: "failed logins for one account from one address",
			account: func(int) string { return "probe-repeat@example.invalid" }, peer: same("repeat")},
		{name: "spray", what: "failed logins across %d accounts from one address", key: ratelimit.KeyIP,
			account: func(i int) string { return fmt.Sprintf("probe-spray-%d@example.invalid", i) }, peer: same("spray")},
		{name: "distributed", what: "failed logins for one account from %d addresses", key: ratelimit.KeyAccount,
			account: func(int) string { return "probe-target@example.invalid" },
			peer:    func(i int) netip.Addr { return b.c.addr(fmt.Sprintf("%s distributed %d", p.Name(), i)) }},
	}
	var out []readiness.Finding
	for _, a := range attacks {
		if ctx.Err() != nil {
			return out
		}
		n := p.attempts(limits, a.key)
		codes := map[int]int{}
		reached, limited := 0, false
		for i := 0; i < n && !limited; i++ {
			ct, body := b.c.loginBody(Account{Username: a.account(i), Password: "not-the-password"})
			if a.name == "repeat" && p.Body != nil {
				ct, body = p.ContentType, string(p.Body)
				if ct == "" {
					ct = "application/json"
				}
			}
			own := *b
			own.peer = a.peer(i)
			res := own.do(ctx, Request{Method: method, Target: path, Body: body, ContentType: ct, Route: pattern}, nil)
			if res.Status == http.StatusTooManyRequests && reached > 0 {
				limited = true
				break
			}
			if res.Reached {
				reached++
			}
			codes[res.Status]++
		}
		what := a.what
		if a.key != 0 {
			what = fmt.Sprintf(a.what, n)
		}
		switch {
		case limited:
		case reached == 0:
			out = append(out, b.notExercised(readiness.ItemRateLimit, pattern, fmt.Sprintf("RATE007 (%s: no attempt reached the login handler)", a.name)))
		default:
			out = append(out, readiness.Finding{
				ID: "RATE007", Severity: readiness.Blocker, Item: readiness.ItemRateLimit, Route: pattern,
				Seen: fmt.Sprintf("%s: %d %s were never answered 429 (statuses %v)", a.name, n, what, codes),
				Fix:  "limit login by IP and by account: limits.Login(h, ratelimit.ByIP(), ratelimit.ByAccount(accountOf)), plus limits.Failures(h, accountOf)",
			})
		}
	}
	return out
}

// attempts sizes an attack: the smallest burst among the limits keyed by
// key (any limit when key is 0) plus one, else sprayAccounts (or the
// login preset's burst plus one for the repeat attack).
func (p LoginRateProbe) attempts(limits []*ratelimit.Handler, key ratelimit.KeyKind) int {
	if p.MaxAttempts > 0 {
		return p.MaxAttempts
	}
	burst := 0
	for _, h := range limits {
		keyed := key == 0
		for _, k := range h.KeyKinds() {
			keyed = keyed || k == key
		}
		if b := h.Policy().Burst; keyed && (burst == 0 || b < burst) {
			burst = b
		}
	}
	switch {
	case burst > 0:
		return burst + 1
	case key == 0:
		return ratelimit.LoginPolicy.Burst + 1
	}
	return sprayAccounts
}
