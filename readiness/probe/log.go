package probe

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"github.com/launchready/launchready/readiness"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// LogCapture collects the app's log output during tests. Make the app's
// logger write to it too (io.MultiWriter(os.Stderr, capture)) and give it to
// a LogCanary probe. It is safe for concurrent use.
type LogCapture struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write implements io.Writer.
func (c *LogCapture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Write(p)
}

// String returns everything captured so far.
func (c *LogCapture) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

// LogCanary is a probe (LOG002): it sends canary secrets through every route
// of the app — a password in JSON and form bodies, a bearer token in the
// Authorization header, a session cookie, and token/password query
// parameters — and reports every canary that reached the captured logs.
// A canary refused before it reached a route's handler (Host allowlist,
// rate limit, the route's policy) still passes the layers in front of it,
// which may log; but if no canary reached any handler, the probe reports it
// as not exercised (PROBE001) instead of passing.
//
// It runs real handlers, so it belongs in the app's tests (readiness.Require),
// never at boot.
type LogCanary struct {
	// Capture receives the app's log output. Required.
	Capture *LogCapture
	// MaxRoutes bounds the routes probed; zero means 100.
	MaxRoutes int
	// Client sends the canaries, from the probe's own address. Nil: a zero
	// Client.
	Client *Client
}

// Name implements readiness.Check.
func (p LogCanary) Name() string { return "log canary probe" }

// readiness.ProbeOnly marks the probe as test-only.
func (LogCanary) ProbeOnly() {}

type canary struct{ where, value string }

func newCanaries() []canary {
	r := func(n int) string {
		b := make([]byte, n)
		_, _ = rand.Read(b)
		return b64(b)
	}
	enc := base64.RawURLEncoding
	jwt := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." +
		enc.EncodeToString([]byte(`{"sub":"canary-`+r(6)+`"}`)) + "." + r(32)
	return []canary{
		{"password field in the request body", "Cn-" + r(12)},
		{"Authorization header", jwt},
		{"session cookie", r(24)},
		{"token query parameter", "tk" + r(18)},
		{"password query parameter", "pw" + r(12)},
		{"X-Api-Key header", "ak" + hexStr(16)},
	}
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func hexStr(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Run implements readiness.Check.
func (p LogCanary) Run(ctx context.Context, in *readiness.Inspection) []readiness.Finding {
	if p.Capture == nil {
		return []readiness.Finding{{ID: "LOG002", Severity: readiness.Warning, Seen: "the log canary probe has no LogCapture, so it cannot see the logs",
			Fix: "create a probe.LogCapture, make the app logger write to it, and pass it as LogCanary.Capture"}}
	}
	b := p.Client.bind(in, p.Name())
	if b.h == nil {
		return nil
	}
	defer b.record()
	c := newCanaries()
	type target struct{ method, path, route string }
	var targets []target
	for _, r := range in.Routes {
		m := r.Method
		if m == "" {
			m = http.MethodPost
		}
		path := r.Path
		if path == "" {
			path = "/"
		}
		filled, _ := fill(path, nil, b.c.Values)
		targets = append(targets, target{m, filled, r.Pattern})
	}
	if len(targets) == 0 {
		targets = append(targets, target{http.MethodPost, "/", ""}, target{http.MethodGet, "/", ""})
	}
	max := p.MaxRoutes
	if max == 0 {
		max = 100
	}
	if len(targets) > max {
		targets = targets[:max]
	}
	reached := 0
	for _, t := range targets {
		if ctx.Err() != nil {
			break
		}
		q := url.Values{"token": {c[3].value}, "password": {c[4].value}}
		body := fmt.Sprintf(`{"email":"canary@example.test","password":%q}`, c[0].value)
		res := b.do(ctx, Request{Method: t.method, Target: t.path + "?" + q.Encode(), Body: body, Route: t.route, Header: http.Header{
			"Authorization": {"Bearer " + c[1].value}, "X-Api-Key": {c[5].value}, "Cookie": {"session=" + c[2].value}}}, nil)
		if res.Reached {
			reached++
		}
		form := url.Values{"email": {"canary@example.test"}, "password": {c[0].value}}
		res = b.do(ctx, Request{Method: t.method, Target: t.path, Body: form.Encode(), ContentType: "application/x-www-form-urlencoded", Route: t.route}, nil)
		if res.Reached {
			reached++
		}
	}
	logs := p.Capture.String()
	var out []readiness.Finding
	for _, k := range c {
		if strings.Contains(logs, k.value) {
			out = append(out, readiness.Finding{ID: "LOG002", Severity: readiness.Blocker,
				Seen: fmt.Sprintf("a canary secret sent as the %s reached the logs", k.where),
				Fix:  "log through redact.NewHandler, never log request bodies, headers, cookies or raw URLs; log the route pattern and IDs instead"})
		}
	}
	if reached == 0 && len(targets) > 0 {
		out = append(out, b.notExercised(readiness.ItemLogging, targets[0].route, "LOG002 (no canary reached a handler)"))
	}
	return out
}
