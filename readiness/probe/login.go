package probe

import (
	"context"
	"fmt"
	"github.com/launchready/launchready/readiness"
	"net/http"

	"github.com/launchready/launchready/ratelimit"
)

// LoginRateProbe repeats a failing login through the server's real handler,
// from one client address, until it is answered 429 (RATE007 when it never
// is within the configured limit). It is a probe: put it in Target.Checks in
// the app's tests only; Gate refuses it.
type LoginRateProbe struct {
	// Method and Path of the login route. Defaults: POST /api/login.
	Method, Path string
	// Body is sent with every attempt (wrong credentials), with
	// ContentType (default application/json).
	Body        []byte
	ContentType string
	// Client sends the attempts, from the probe's own address. Nil: a zero
	// Client.
	Client *Client
	// MaxAttempts bounds the attempts. Zero means the smallest burst of the
	// rate limits found in the login route's chain plus one (the first
	// refused attempt), or LoginPolicy's burst plus one when none is found.
	MaxAttempts int
}

var _ readiness.ProbeOnly = LoginRateProbe{}

// Name identifies the probe.
func (LoginRateProbe) Name() string { return "ratelimit login probe" }

// readiness.ProbeOnly marks the probe as test-only.
func (LoginRateProbe) ProbeOnly() {}

// Run sends the attempts.
func (p LoginRateProbe) Run(ctx context.Context, in *readiness.Inspection) []readiness.Finding {
	method, path := p.Method, p.Path
	if method == "" {
		method = http.MethodPost
	}
	if path == "" {
		path = "/api/login"
	}
	ct := p.ContentType
	if ct == "" {
		ct = "application/json"
	}
	pattern := method + " " + path
	attempts := p.MaxAttempts
	if attempts <= 0 {
		burst := 0
		limits := readiness.FindAll[*ratelimit.Handler](in.Chain)
		for _, rt := range in.Routes {
			if rt.Path == path && (rt.Method == "" || rt.Method == method) {
				limits = append(limits, readiness.FindAll[*ratelimit.Handler](rt.Chain)...)
				pattern = rt.Pattern
			}
		}
		for _, h := range limits {
			if b := h.Policy().Burst; burst == 0 || b < burst {
				burst = b
			}
		}
		if burst == 0 {
			burst = ratelimit.LoginPolicy.Burst
		}
		attempts = burst + 1
	}
	b := p.Client.bind(in, p.Name())
	if b.h == nil {
		return nil
	}
	defer b.record()
	codes := map[int]int{}
	reached := 0
	for i := 0; i < attempts; i++ {
		if ctx.Err() != nil {
			return nil
		}
		res := b.do(ctx, Request{Method: method, Target: path, Body: string(p.Body), ContentType: ct, Route: pattern}, nil)
		if res.Status == http.StatusTooManyRequests && reached > 0 {
			return nil
		}
		if res.Reached {
			reached++
		}
		codes[res.Status]++
	}
	if reached == 0 {
		return []readiness.Finding{b.notExercised(readiness.ItemRateLimit, pattern, "RATE007 (no failed login reached the login handler before the limit)")}
	}
	return []readiness.Finding{{
		ID: "RATE007", Severity: readiness.Blocker, Item: readiness.ItemRateLimit, Route: pattern,
		Seen: fmt.Sprintf("%d failed login attempts from one address were never answered 429 (statuses %v)", attempts, codes),
		Fix:  "wrap the login handler with limits.Login(h, ratelimit.ByIP(), ratelimit.ByAccount(accountOf)) and limits.Failures",
	}}
}
