package readiness

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

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
	// RemoteAddr is the probing client's address. Default 192.0.2.10:40000
	// (TEST-NET-1).
	RemoteAddr string
	// MaxAttempts bounds the attempts. Zero means the smallest burst of the
	// rate limits found in the login route's chain plus one (the first
	// refused attempt), or LoginPolicy's burst plus one when none is found.
	MaxAttempts int
}

var _ ProbeOnly = LoginRateProbe{}

// Name identifies the probe.
func (LoginRateProbe) Name() string { return "ratelimit login probe" }

// ProbeOnly marks the probe as test-only.
func (LoginRateProbe) ProbeOnly() {}

// Run sends the attempts.
func (p LoginRateProbe) Run(ctx context.Context, in *Inspection) []Finding {
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
	remote := p.RemoteAddr
	if remote == "" {
		remote = "192.0.2.10:40000"
	}
	pattern := method + " " + path
	attempts := p.MaxAttempts
	if attempts <= 0 {
		burst := 0
		limits := FindAll[*ratelimit.Handler](in.Chain)
		for _, rt := range in.Routes {
			if rt.Path == path && (rt.Method == "" || rt.Method == method) {
				limits = append(limits, FindAll[*ratelimit.Handler](rt.Chain)...)
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
	host := "portal.example.com"
	if len(in.Target.AllowedHosts) > 0 {
		host = in.Target.AllowedHosts[0]
	}
	handler := in.Target.Server.Handler
	if handler == nil {
		handler = http.DefaultServeMux
	}
	codes := map[int]int{}
	for i := 0; i < attempts; i++ {
		if ctx.Err() != nil {
			return nil
		}
		r := httptest.NewRequestWithContext(ctx, method, path, bytes.NewReader(p.Body))
		r.Host = host
		r.RemoteAddr = remote
		r.Header.Set("Content-Type", ct)
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		if w.Code == http.StatusTooManyRequests {
			return nil
		}
		codes[w.Code]++
	}
	return []Finding{{
		ID: "RATE007", Severity: Blocker, Item: ItemRateLimit, Route: pattern,
		Seen: fmt.Sprintf("%d failed login attempts from one address were never answered 429 (statuses %v)", attempts, codes),
		Fix:  "wrap the login handler with limits.Login(h, ratelimit.ByIP(), ratelimit.ByAccount(accountOf)) and limits.Failures",
	}}
}
