package readiness

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
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
// It runs real handlers, so it belongs in the app's tests (readiness.Require),
// never at boot.
type LogCanary struct {
	// Capture receives the app's log output. Required.
	Capture *LogCapture
	// MaxRoutes bounds the routes probed; zero means 100.
	MaxRoutes int
}

// Name implements Check.
func (p LogCanary) Name() string { return "log canary probe" }

// ProbeOnly marks the probe as test-only.
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

// Run implements Check.
func (p LogCanary) Run(ctx context.Context, in *Inspection) []Finding {
	if p.Capture == nil {
		return []Finding{{ID: "LOG002", Severity: Warning, Seen: "the log canary probe has no LogCapture, so it cannot see the logs",
			Fix: "create a readiness.LogCapture, make the app logger write to it, and pass it as LogCanary.Capture"}}
	}
	if in.Target.Server == nil || in.Target.Server.Handler == nil {
		return nil
	}
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
		targets = append(targets, target{m, concretePath(path), r.Pattern})
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
	h := in.Target.Server.Handler
	for _, t := range targets {
		if ctx.Err() != nil {
			break
		}
		q := url.Values{"token": {c[3].value}, "password": {c[4].value}}
		body := fmt.Sprintf(`{"email":"canary@example.test","password":%q}`, c[0].value)
		req := httptest.NewRequestWithContext(ctx, t.method, t.path+"?"+q.Encode(), strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+c[1].value)
		req.Header.Set("X-Api-Key", c[5].value)
		req.AddCookie(&http.Cookie{Name: "session", Value: c[2].value})
		serveQuietly(h, req)
		form := url.Values{"email": {"canary@example.test"}, "password": {c[0].value}}
		req = httptest.NewRequestWithContext(ctx, t.method, t.path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		serveQuietly(h, req)
	}
	logs := p.Capture.String()
	var out []Finding
	for _, k := range c {
		if strings.Contains(logs, k.value) {
			out = append(out, Finding{ID: "LOG002", Severity: Blocker,
				Seen: fmt.Sprintf("a canary secret sent as the %s reached the logs", k.where),
				Fix:  "log through redact.NewHandler, never log request bodies, headers, cookies or raw URLs; log the route pattern and IDs instead"})
		}
	}
	return out
}

// serveQuietly serves one probe request; a panicking handler is the monitor
// checks' business, not this probe's.
func serveQuietly(h http.Handler, r *http.Request) {
	defer func() { _ = recover() }()
	h.ServeHTTP(httptest.NewRecorder(), r)
}

// concretePath fills wildcards with a harmless value: /a/{id} → /a/1.
func concretePath(p string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(p, '{')
		if i < 0 {
			b.WriteString(p)
			break
		}
		j := strings.IndexByte(p[i:], '}')
		if j < 0 {
			b.WriteString(p)
			break
		}
		b.WriteString(p[:i])
		b.WriteString("1")
		p = p[i+j+1:]
	}
	s := b.String()
	if strings.HasSuffix(s, "/") && len(s) > 1 && strings.Contains(s, "...") {
		s = strings.TrimSuffix(s, "/")
	}
	return s
}
