package probe

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"

	"github.com/launchready/launchready/flows"
	"github.com/launchready/launchready/readiness"
)

// FlowProbe (MON006) runs the app's synthetic flows — the same definition
// `launchready verify` runs after each deploy and `launchready monitor`
// every five minutes — through the app's real handler in its tests, and
// reports MON006 for every flow that fails, naming the step and what went
// wrong. The flows sign in through the app's own login route (their first
// step), from the probe's own client address, with a cookie jar per run.
//
// A flow whose failing step was refused before the route's handler (Host
// allowlist, path firewall, rate limit, the route's policy) tested nothing
// there: that step's route is reported as not exercised (PROBE001), never
// as a pass or a MON006.
//
// It runs real handlers (a flow creates tickets), so it belongs in the
// app's tests; Gate refuses it.
type FlowProbe struct {
	// Client sends the requests. Nil: a zero Client.
	Client *Client
	// Flows to run. Nil: Target.Release.Flows.
	Flows []flows.Flow
	// Env resolves the flows' ${NAME} references (the flow account). Nil:
	// the process environment.
	Env map[string]string
}

var _ interface {
	readiness.Check
	readiness.ProbeOnly
} = FlowProbe{}

// Name identifies the probe.
func (FlowProbe) Name() string { return "flow probe" }

// ProbeOnly marks FlowProbe as a test-time probe.
func (FlowProbe) ProbeOnly() {}

// Run implements readiness.Check.
func (p FlowProbe) Run(ctx context.Context, in *readiness.Inspection) []readiness.Finding {
	fl := p.Flows
	if fl == nil {
		fl = in.Target.Release.Flows
	}
	if len(fl) == 0 {
		return nil // MON005 reports the missing flows
	}
	b := p.Client.bind(in, p.Name())
	if b.h == nil {
		return nil
	}
	defer b.record()
	lookup := os.LookupEnv
	if p.Env != nil {
		lookup = func(k string) (string, bool) { v, ok := p.Env[k]; return v, ok }
	}
	var out []readiness.Finding
	for _, f := range fl {
		tr := &flowTransport{ctx: ctx, b: b}
		rn := flows.Runner{BaseURL: "https://" + b.host, Transport: tr, LookupEnv: lookup}
		res := rn.Run(ctx, f)
		if res.OK() {
			continue
		}
		if resp := tr.failing(res); resp != nil && !resp.Reached {
			route := resp.Route
			if route == "" {
				route = "(no route)"
			}
			out = append(out, b.notExercised(readiness.ItemMonitoring, route, fmt.Sprintf("flow %q (MON006)", f.Name)))
			continue
		}
		out = append(out, readiness.Finding{
			ID: "MON006", Severity: readiness.Blocker,
			Seen: res.Err.Error(),
			Fix:  "fix the step (or the flow, if the app changed on purpose): `launchready verify` would fail this release and `launchready monitor` would alert on it",
		})
	}
	return out
}

// flowTransport sends a flow's requests through the probe Client and keeps
// what each got.
type flowTransport struct {
	ctx   context.Context
	b     *bound
	mu    sync.Mutex
	resps []*Response
}

func (t *flowTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(io.LimitReader(req.Body, maxBody))
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	rq := Request{Method: req.Method, Target: req.URL.RequestURI(), Header: req.Header.Clone(), Body: string(body), ContentType: req.Header.Get("Content-Type")}
	resp := t.b.do(req.Context(), rq, nil)
	t.mu.Lock()
	t.resps = append(t.resps, resp)
	t.mu.Unlock()
	return &http.Response{
		StatusCode: resp.Status, Status: fmt.Sprintf("%d %s", resp.Status, http.StatusText(resp.Status)),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: resp.Header.Clone(), Body: io.NopCloser(bytes.NewReader(resp.Body)),
		ContentLength: int64(len(resp.Body)), Request: req,
	}, nil
}

// failing returns the response of the flow's failing step: steps that got
// an answer consumed one response each, in order (after any redirects).
func (t *flowTransport) failing(res flows.Result) *Response {
	t.mu.Lock()
	defer t.mu.Unlock()
	i := 0
	failed := res.FailedStep()
	for _, s := range res.Steps {
		if s.Skipped || s.Status == 0 {
			continue
		}
		for i < len(t.resps) && t.resps[i].Status != s.Status {
			i++
		}
		if i >= len(t.resps) {
			return nil
		}
		if s.Name == failed {
			return t.resps[i]
		}
		i++
	}
	return nil
}
