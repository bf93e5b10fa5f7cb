package readiness

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/launchready/launchready/validate"
)

// InputProbe (INPUT005) sends hostile bodies to every route that takes one
// (POST, PUT, PATCH, or any method): malformed JSON, a body one byte over
// the route's cap (1 MB + 1 when it has none), a JSON body declared as
// text/plain, and a body with an unknown field. Each must be answered 4xx:
// a 2xx means the handler acted on bad input, a 5xx means it broke on it.
//
// It runs real handlers, so it belongs in the app's tests (Target.Checks in
// a test calling readiness.Require); Gate refuses it at boot.
type InputProbe struct {
	// Via, if set, receives every probe request with the route's real path
	// (usually the server's handler, with Prepare authenticating). Nil calls
	// each route's own handler directly with its path values set, which
	// skips authentication so the body checks themselves are exercised.
	Via http.Handler
	// Prepare, if set, is called on each request before it is sent: add a
	// session cookie or an Authorization header for Via.
	Prepare func(*http.Request)
	// PathValues gives wildcard values by name. Without one, the probe uses
	// the example of the route's validate.Path rule, or "1".
	PathValues map[string]string
	// Host is the request's Host. Empty means "localhost".
	Host string
}

var _ interface {
	Check
	ProbeOnly
} = InputProbe{}

// Name identifies the probe.
func (InputProbe) Name() string { return "input probe" }

// ProbeOnly marks InputProbe as a test-time probe.
func (InputProbe) ProbeOnly() {}

// inputProbeMaxBody bounds the oversized probe body.
const inputProbeMaxBody = 16 << 20

type inputProbeCase struct {
	name        string
	contentType string
	body        func(limit int64) string
}

var inputProbeCases = []inputProbeCase{
	{"malformed JSON", "application/json", func(int64) string { return `{"launchready_probe":` }},
	{"oversized body", "application/json", func(limit int64) string {
		n := limit + 1
		if n > inputProbeMaxBody {
			n = inputProbeMaxBody
		}
		const head, tail = `{"launchready_probe":"`, `"}`
		pad := n - int64(len(head)+len(tail))
		if pad < 0 {
			pad = 0
		}
		return head + strings.Repeat("x", int(pad)) + tail
	}},
	{"wrong content type", "text/plain", func(int64) string { return `{}` }},
	{"unknown field", "application/json", func(int64) string { return `{"launchready_probe_unknown_field":true}` }},
}

// Run probes every body-taking route.
func (p InputProbe) Run(ctx context.Context, in *Inspection) []Finding {
	var out []Finding
	for _, rt := range in.Routes {
		if !inputTakesBody(rt) {
			continue
		}
		if ctx.Err() != nil {
			return out
		}
		// One byte over the tightest cap in the chain; over 1 MB without one.
		limit := int64(0)
		for _, c := range FindAll[inputSizeCap](rt.Chain) {
			if n := c.MaxBytes(); n > 0 && (limit == 0 || n < limit) {
				limit = n
			}
		}
		if limit == 0 {
			limit = validate.DefaultMaxBytes
		}
		var bad []string
		for _, pc := range inputProbeCases {
			if code := p.send(ctx, rt, pc, limit); code < 400 || code >= 500 {
				bad = append(bad, fmt.Sprintf("%s answered %d", pc.name, code))
			}
		}
		if len(bad) > 0 {
			out = append(out, Finding{
				ID: "INPUT005", Severity: Blocker, Route: inputRouteName(rt),
				Seen: strings.Join(bad, "; "),
				Fix:  "decode the body with validate.JSON[T] (or validate.Decode) so bad bodies are refused with 400/413/415/422 before the handler acts",
			})
		}
	}
	return out
}

func (p InputProbe) pathValue(rt Route, name string) string {
	if v, ok := p.PathValues[name]; ok {
		return v
	}
	for _, h := range rt.Chain {
		if ph, ok := h.(*validate.PathHandler); ok {
			if ex, ok := ph.PathExample(name); ok {
				return ex
			}
		}
	}
	return "1"
}

func (p InputProbe) send(ctx context.Context, rt Route, pc inputProbeCase, limit int64) (code int) {
	method := rt.Method
	if method == "" {
		method = http.MethodPost
	}
	values := map[string]string{}
	var segs []string
	for _, seg := range strings.Split(rt.Path, "/") {
		if len(seg) > 2 && seg[0] == '{' && seg[len(seg)-1] == '}' {
			name := strings.TrimSuffix(seg[1:len(seg)-1], "...")
			if name == "$" {
				continue
			}
			values[name] = p.pathValue(rt, name)
			seg = values[name]
		}
		segs = append(segs, seg)
	}
	path := strings.Join(segs, "/")
	if path == "" {
		path = "/"
	}
	req := httptest.NewRequestWithContext(ctx, method, path, strings.NewReader(pc.body(limit)))
	req.Host = p.Host
	if req.Host == "" {
		req.Host = "localhost"
	}
	req.Header.Set("Content-Type", pc.contentType)
	h := p.Via
	if h == nil {
		h = rt.Handler
		for k, v := range values {
			req.SetPathValue(k, v)
		}
		req.Pattern = rt.Pattern
	}
	if p.Prepare != nil {
		p.Prepare(req)
	}
	w := httptest.NewRecorder()
	defer func() {
		if recover() != nil {
			code = http.StatusInternalServerError
		}
	}()
	h.ServeHTTP(w, req)
	return w.Code
}
