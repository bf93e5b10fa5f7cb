package probe

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/readiness/egress"
)

// DependencyProbe (MON007) proves that a slow or failing outbound
// dependency degrades the portal instead of freezing it. For each client in
// Target.Clients it makes the dependency, in turn, slow (Slow, 10 s by
// default), unreachable (connection refused), failing (500 with an internal
// error text) and garbled (a truncated JSON body), and replays the app's
// requests: every GET route of the inventory plus Requests (the mutating
// calls that use a dependency, such as ticket creation sending mail).
//
// Every request that made the app call the dependency — during the request,
// or within Budget after it for work that was queued — must answer within
// Budget with a clean response: a 2xx (the work queued, or a degraded
// page), a 4xx, or a 503 with Retry-After. A hang past Budget, another 5xx,
// a panic, or a body that quotes the upstream's error is MON007. A
// dependency no replayed request called is not exercised (PROBE001), never a
// pass: add a Request that makes the app call it.
//
// Faults are injected beneath the dependency's own deadline, retries and
// breaker (egress.Dependency.InjectFault), so what is tested is the app as
// it runs in production; a plain *http.Client has its Transport swapped for
// the duration of the probe. Breakers the probe opened are closed again
// afterwards. It runs real handlers and waits out slow calls, so it belongs
// in the app's tests only; readiness.Gate refuses it.
type DependencyProbe struct {
	// Client sends the requests. Nil: a zero Client.
	Client *Client
	// Account names the Client.Accounts entry to sign in as: an account
	// that may use the routes calling the dependency (staff).
	Account string
	// Requests are replayed next to every GET route: the calls that use a
	// dependency but need a method or a body (POST a ticket, request a
	// password reset).
	Requests []Request
	// Budget is how long a request may take while a dependency misbehaves.
	// Zero: 1 s.
	Budget time.Duration
	// Slow is how long the slow fault holds each call before answering.
	// Zero: 10 s.
	Slow time.Duration
}

var _ interface {
	readiness.Check
	readiness.ProbeOnly
} = DependencyProbe{}

// Name identifies the probe.
func (DependencyProbe) Name() string { return "dependency probe" }

// ProbeOnly marks DependencyProbe as a test-time probe.
func (DependencyProbe) ProbeOnly() {}

// dependencyFault is one way a dependency misbehaves.
type dependencyFault struct {
	name string
	// respond answers one call; canary marks text the app must not pass on.
	respond func(r *http.Request, slow time.Duration, canary string) (*http.Response, error)
}

var dependencyFaults = []dependencyFault{
	{"slow", func(r *http.Request, slow time.Duration, _ string) (*http.Response, error) {
		t := time.NewTimer(slow)
		defer t.Stop()
		select {
		case <-r.Context().Done():
			return nil, r.Context().Err()
		case <-t.C:
		}
		return fakeResponse(r, http.StatusOK, "application/json", `{}`), nil
	}},
	{"connection refused", func(_ *http.Request, _ time.Duration, canary string) (*http.Response, error) {
		return nil, fmt.Errorf("dial tcp 203.0.113.7:443: connect: connection refused (%s)", canary)
	}},
	{"500", func(r *http.Request, _ time.Duration, canary string) (*http.Response, error) {
		return fakeResponse(r, http.StatusInternalServerError, "text/plain",
			"internal error "+canary+": relation \"accounts\" does not exist at 10.9.8.7"), nil
	}},
	{"malformed body", func(r *http.Request, _ time.Duration, canary string) (*http.Response, error) {
		return fakeResponse(r, http.StatusOK, "application/json", `{"`+canary+`": [`), nil
	}},
}

func fakeResponse(r *http.Request, status int, contentType, body string) *http.Response {
	return &http.Response{
		StatusCode: status, Status: fmt.Sprintf("%d %s", status, http.StatusText(status)),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {contentType}},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)), Request: r,
	}
}

// faultTransport answers every call with the current fault and counts them.
type faultTransport struct {
	fault  dependencyFault
	slow   time.Duration
	canary string
	calls  atomic.Int64
}

func (f *faultTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.calls.Add(1)
	if r.Body != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
		r.Body.Close()
	}
	return f.fault.respond(r, f.slow, f.canary)
}

// injected is one dependency with a fault in place.
type injected struct {
	ft      *faultTransport
	dep     *egress.Dependency // nil for a plain client
	restore func()
}

// calls counts the app's calls: at the transport, and for a dependency also
// those its open breaker refused before reaching the transport.
func (i *injected) calls() [2]int64 {
	n := [2]int64{i.ft.calls.Load()}
	if i.dep != nil {
		n[1] = i.dep.Calls()
	}
	return n
}

var swapMu sync.Mutex // plain clients' Transport swaps

func inject(c *http.Client, ft *faultTransport) *injected {
	if dep := egress.DependencyOf(c); dep != nil {
		return &injected{ft: ft, dep: dep, restore: dep.InjectFault(ft)}
	}
	swapMu.Lock()
	orig := c.Transport
	c.Transport = ft
	swapMu.Unlock()
	return &injected{ft: ft, restore: func() {
		swapMu.Lock()
		c.Transport = orig
		swapMu.Unlock()
	}}
}

// replay is one request the probe sends under each fault.
type replay struct {
	rq    Request
	route string
}

func (p DependencyProbe) replays(b *bound, in *readiness.Inspection) []replay {
	var out []replay
	for _, rt := range in.Routes {
		if rt.Method != http.MethodGet {
			continue
		}
		path, _ := fill(rt.Path, b.c.Values, nil)
		if path == "" {
			path = "/"
		}
		out = append(out, replay{Request{Method: http.MethodGet, Target: path, Route: routeName(rt)}, routeName(rt)})
	}
	for _, rq := range p.Requests {
		m := rq.Method
		if m == "" {
			m = http.MethodGet
		}
		route := rq.Route
		if route == "" {
			route = m + " " + rq.Target
		}
		rq.Route = route
		out = append(out, replay{rq, route})
	}
	return out
}

// Run injects each fault into each dependency and replays the requests.
func (p DependencyProbe) Run(ctx context.Context, in *readiness.Inspection) []readiness.Finding {
	b := p.Client.bind(in, p.Name())
	defer b.record()
	budget, slow := p.Budget, p.Slow
	if budget <= 0 {
		budget = time.Second
	}
	if slow <= 0 {
		slow = 10 * time.Second
	}
	names := make([]string, 0, len(in.Target.Clients))
	for name, c := range in.Target.Clients {
		if c != nil && c != http.DefaultClient {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil
	}
	var sess *Session
	if p.Account != "" {
		var err error
		if sess, err = b.c.signIn(ctx, b, p.Account); err != nil {
			return []readiness.Finding{{ID: "PROBE001", Severity: readiness.Blocker, Item: readiness.ItemMonitoring,
				Seen: "the dependency probe could not sign in: " + err.Error() + "; MON007 was not verified for " + strings.Join(names, ", "),
				Fix:  "set Client.Login and Client.Accounts[DependencyProbe.Account] to working test credentials"}}
		}
	}
	replays := p.replays(b, in)
	var out []readiness.Finding
	for _, name := range names {
		client := in.Target.Clients[name]
		exercised := false
		problems := map[string][]string{} // route → what went wrong
		var routes []string
		for _, fault := range dependencyFaults {
			ft := &faultTransport{fault: fault, slow: slow, canary: "launchready-upstream-" + rand.Text()[:10]}
			inj := inject(client, ft)
			for _, rp := range replays {
				if ctx.Err() != nil {
					inj.restore()
					return out
				}
				called, problem := p.replayOne(ctx, b, sess, inj, rp, budget)
				if !called {
					continue
				}
				exercised = true
				if problem != "" {
					if _, ok := problems[rp.route]; !ok {
						routes = append(routes, rp.route)
					}
					problems[rp.route] = append(problems[rp.route], fault.name+": "+problem)
				}
			}
			inj.restore()
			if inj.dep != nil {
				inj.dep.ResetBreaker()
			}
		}
		for _, route := range routes {
			out = append(out, readiness.Finding{
				ID: "MON007", Severity: readiness.Blocker, Item: readiness.ItemMonitoring, Route: route,
				Seen: fmt.Sprintf("while dependency %q misbehaved, this route did not degrade cleanly: %s", name, strings.Join(problems[route], "; ")),
				Fix:  fmt.Sprintf("build %q with egress.NewDependency (a Deadline under %s, a breaker) and serve the fallback: queue the work, answer without the dependency's part, or a 503 problem+json with Retry-After; never pass the upstream's error text on", name, budget),
			})
		}
		if !exercised {
			out = append(out, readiness.Finding{
				ID: "PROBE001", Severity: readiness.Blocker, Item: readiness.ItemMonitoring,
				Seen: fmt.Sprintf("no request the dependency probe replayed (%d GET routes and Requests) made the app call dependency %q, so MON007 was not verified for it", len(replays), name),
				Fix:  fmt.Sprintf("add the request that uses %q to DependencyProbe.Requests (e.g. the ticket creation that sends mail), and set Client.Values and DependencyProbe.Account so it reaches its handler", name),
			})
		}
	}
	return out
}

// replayOne sends one request under the injected fault. It reports whether
// the app called the dependency for it (during the request, or within
// budget after it for queued work), and what was wrong with the answer.
func (p DependencyProbe) replayOne(ctx context.Context, b *bound, sess *Session, inj *injected, rp replay, budget time.Duration) (called bool, problem string) {
	before := inj.calls()
	start := time.Now()
	res := b.do(ctx, rp.rq, sess)
	elapsed := time.Since(start)
	called = inj.calls() != before
	if !called && res.Reached && res.Status < 300 {
		// Queued work calls the dependency after the response.
		deadline := time.Now().Add(budget)
		for !called && time.Now().Before(deadline) && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
			called = inj.calls() != before
		}
	}
	if !called {
		return false, ""
	}
	var issues []string
	if elapsed > budget {
		issues = append(issues, fmt.Sprintf("answered after %s (budget %s)", elapsed.Round(time.Millisecond), budget))
	}
	switch {
	case res.Status == http.StatusServiceUnavailable:
		if res.Header.Get("Retry-After") == "" {
			issues = append(issues, "503 without Retry-After")
		}
	case res.Status >= 500:
		issues = append(issues, fmt.Sprintf("answered %d", res.Status))
	}
	if bytes.Contains(res.Body, []byte(inj.ft.canary)) || bytes.Contains(res.Body, []byte("10.9.8.7")) || bytes.Contains(res.Body, []byte("connection refused")) {
		issues = append(issues, "the body quotes the upstream's error")
	}
	return true, strings.Join(issues, ", ")
}
