package probe

import (
	"context"
	"fmt"
	"github.com/launchready/launchready/readiness"
	"net/http"
	"net/url"
	"strings"

	"github.com/launchready/launchready/validate"
)

// InputProbe (INPUT005) sends hostile bodies to every route that takes one
// (POST, PUT, PATCH, or any method): malformed JSON, a body one byte over
// the route's cap (1 MB + 1 when it has none), a JSON body declared as
// text/plain, and a body with an unknown field. Each must be refused by the
// body checks (400, 411, 413, 415 or 422): a 2xx means the handler acted on
// bad input, a 5xx means it broke on it. A request refused before the body
// was read — by the Host allowlist, a limit, the route's policy, or a 401,
// 403 or 404 (no such object: set Client.Values) — proves nothing, and a
// route no case reached is reported as not exercised (PROBE001).
//
// It runs real handlers, so it belongs in the app's tests (Target.Checks in
// a test calling readiness.Require); Gate refuses it at boot.
type InputProbe struct {
	// Client sends the requests. Nil: a zero Client.
	Client *Client
	// Account names the Client.Accounts entry to sign in as: an account
	// allowed on the routes that take bodies (staff).
	Account string
	// Direct calls each route's own handler (its chain below the route
	// inventory) with its path values set, skipping global middleware and
	// the route's policy, so apps without a sign-in still get their body
	// checks exercised.
	Direct bool
}

var _ interface {
	readiness.Check
	readiness.ProbeOnly
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

// inputEvidence are the statuses that show the body checks refused a case.
var inputEvidence = map[int]bool{
	http.StatusBadRequest: true, http.StatusLengthRequired: true, http.StatusRequestEntityTooLarge: true,
	http.StatusUnsupportedMediaType: true, http.StatusUnprocessableEntity: true,
}

// Run probes every body-taking route.
func (p InputProbe) Run(ctx context.Context, in *readiness.Inspection) []readiness.Finding {
	b := p.Client.bind(in, p.Name())
	defer b.record()
	var sess *Session
	if p.Account != "" {
		var err error
		if sess, err = b.c.signIn(ctx, b, p.Account); err != nil {
			return []readiness.Finding{{ID: "PROBE001", Severity: readiness.Blocker, Item: readiness.ItemInput,
				Seen: "the input probe could not sign in: " + err.Error() + "; INPUT005 was not verified on any route",
				Fix:  "set Client.Login and Client.Accounts[InputProbe.Account] to working test credentials"}}
		}
	}
	var out []readiness.Finding
	for _, rt := range in.Routes {
		if !takesBody(rt) {
			continue
		}
		if ctx.Err() != nil {
			return out
		}
		// One byte over the tightest cap in the chain; over 1 MB without one.
		limit := int64(0)
		for _, c := range readiness.FindAll[sizeCap](rt.Chain) {
			if n := c.MaxBytes(); n > 0 && (limit == 0 || n < limit) {
				limit = n
			}
		}
		if limit == 0 {
			limit = validate.DefaultMaxBytes
		}
		var bad, unreached, proven []string
		status := map[string]int{}
		for _, pc := range inputProbeCases {
			res := p.send(ctx, b, sess, rt, pc, limit)
			if res.Reached && inputEvidence[res.Status] {
				status[pc.name] = res.Status
				proven = append(proven, fmt.Sprintf("%s → %d", pc.name, res.Status))
			}
			switch {
			case (res.Status < 400 || res.Status >= 500) && res.Reached:
				bad = append(bad, fmt.Sprintf("%s answered %d", pc.name, res.Status))
			case !res.Reached:
				unreached = append(unreached, fmt.Sprintf("%s (refused by %s)", pc.name, res.Layer))
			case !inputEvidence[res.Status]:
				unreached = append(unreached, fmt.Sprintf("%s (answered %d by the handler, not by a body check)", pc.name, res.Status))
			}
		}
		if len(bad) == 0 {
			in.RecordEvidence(inputEvidenceOf(routeName(rt), limit, status, proven)...)
		}
		if len(bad) > 0 {
			out = append(out, readiness.Finding{
				ID: "INPUT005", Severity: readiness.Blocker, Route: routeName(rt),
				Seen: strings.Join(bad, "; "),
				Fix:  "decode the body with validate.JSON[T] (or validate.Decode) so bad bodies are refused with 400/413/415/422 before the handler acts",
			})
		}
		if len(unreached) > 0 && len(bad) == 0 {
			f := b.notExercised(readiness.ItemInput, routeName(rt), "INPUT005")
			f.Seen = "the input probe could not show that the body checks refuse bad bodies, so INPUT005 was not verified: " + strings.Join(unreached, "; ")
			f.Fix += "; set Client.Values to objects that exist and InputProbe.Account to an account the route allows, so the body checks are what answers"
			out = append(out, f)
		}
	}
	return out
}

// inputEvidenceOf turns what the probe proved on a route into evidence
// against the static findings (evidence beats declaration): an oversized
// body answered 413 resolves INPUT002 (no size cap), an unknown field
// answered 400/422 resolves INPUT003, and every case refused by a body
// check resolves INPUT001 (no declared body schema).
func inputEvidenceOf(route string, limit int64, status map[string]int, proven []string) []readiness.Evidence {
	var out []readiness.Evidence
	if status["oversized body"] == http.StatusRequestEntityTooLarge {
		out = append(out, readiness.Evidence{ID: "INPUT002", Route: route,
			Proof: fmt.Sprintf("a body of %d bytes was answered 413", limit+1)})
	}
	if s := status["unknown field"]; s == http.StatusBadRequest || s == http.StatusUnprocessableEntity {
		out = append(out, readiness.Evidence{ID: "INPUT003", Route: route,
			Proof: fmt.Sprintf("a body with an unknown field was answered %d", s)})
	}
	if len(status) == len(inputProbeCases) {
		out = append(out, readiness.Evidence{ID: "INPUT001", Route: route,
			Proof: strings.Join(proven, ", ")})
	}
	return out
}

// pathValue is the probe's value for a wildcard: Client.Values, else the
// example of the route's validate.Path rule, else "1".
func (p InputProbe) pathValue(b *bound, rt readiness.Route, prefix, name string) string {
	if v, ok := lookup(b.c.Values, prefix, name); ok {
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

func (p InputProbe) send(ctx context.Context, b *bound, sess *Session, rt readiness.Route, pc inputProbeCase, limit int64) *Response {
	method := rt.Method
	if method == "" {
		method = http.MethodPost
	}
	values := map[string]string{}
	var segs []string
	for i, seg := range strings.Split(rt.Path, "/") {
		if len(seg) > 2 && seg[0] == '{' && seg[len(seg)-1] == '}' {
			name := strings.TrimSuffix(seg[1:len(seg)-1], "...")
			if name == "$" {
				continue
			}
			prefix := strings.Join(strings.Split(rt.Path, "/")[:i], "/") + "/" + seg
			values[name] = p.pathValue(b, rt, prefix, name)
			seg = url.PathEscape(values[name])
		}
		segs = append(segs, seg)
	}
	path := strings.Join(segs, "/")
	if path == "" {
		path = "/"
	}
	rq := Request{Method: method, Target: path, Body: pc.body(limit), ContentType: pc.contentType, Route: routeName(rt)}
	// Each case comes from its own address, so a tight limit on the route
	// (password reset: a few per hour) does not refuse the later cases.
	own := *b
	own.peer = b.c.addr(b.probe + " " + pc.name)
	if !p.Direct {
		return own.do(ctx, rq, sess)
	}
	direct := own
	direct.h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range values {
			r.SetPathValue(k, v)
		}
		r.Pattern = rt.Pattern
		rt.Handler.ServeHTTP(w, r)
	})
	direct.m = nil
	return direct.do(ctx, rq, sess)
}
