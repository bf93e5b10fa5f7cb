package probe

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/launchready/launchready/authz"
	"github.com/launchready/launchready/ratelimit"
	"github.com/launchready/launchready/readiness"
)

// Client is the one way every probe talks to the app. It sends requests in
// process through the app's real handler (global middleware included), as
// HTTPS requests to an allowed Host, from a client address of the probe's
// own, and signs in through the app's own login route. It counts, per probe
// and route, the requests that reached the route's handler and names the
// layer that refused the others, so a probe never passes a route it did not
// test.
//
// The zero Client works for apps without sign-in; its settings default to
// what the readiness walk found (the Host allowlist, trusted proxies). Share
// one Client between probes: sessions and counts are kept per Client. It is
// safe for concurrent use once the probes run.
type Client struct {
	// Handler receives every request. Nil means Target.Server.Handler, so
	// the whole middleware stack runs.
	Handler http.Handler

	// Host is the Host of every request. Empty means Target.AllowedHosts[0],
	// else the first host of a walked allowlist (a middleware with
	// AllowedHosts() []string), else "localhost".
	Host string

	// Values are sample values for path wildcards, naming objects that
	// exist. A key is a wildcard name ("id") or the route path up to and
	// including the wildcard ("/api/tickets/{id}"), which wins. A wildcard
	// without a value gets "probe-1", and a probe that needs a real object
	// there reports the route as not exercised.
	Values map[string]string

	// Login is the app's own sign-in route.
	Login Login

	// Accounts are the credentials probes sign in with, by a name probes
	// refer to (Identity.Account, SessionProbe.Account): "agent",
	// "client-a user". Build passwords at test time; never commit them.
	Accounts map[string]Account

	mu       sync.Mutex
	sessions map[string]*Session
	addrs    map[string]netip.Addr
	counts   map[string]map[string]*Reach // probe → route → reach
}

// Login describes the app's sign-in route.
type Login struct {
	// Method and Path of the route. Defaults: POST /api/login.
	Method, Path string
	// Body builds the sign-in body for an account. Default: JSON
	// {"email": Username, "password": Password}.
	Body func(Account) (contentType, body string)
	// Step completes a sign-in that needs more than the password, such as
	// an MFA code: it runs after the password step answered 2xx or 3xx,
	// with the session holding the cookies so far, and sends its requests
	// with s.Do. Nil: the password step signs in.
	Step func(ctx context.Context, s *Session, passwordStep *Response) error
}

// Account is one set of credentials.
type Account struct {
	Username, Password string
	// Extra is free for Login.Step (a TOTP secret, a recovery code).
	Extra map[string]string
}

// Request is one probe request.
type Request struct {
	Method string // default GET
	// Target is the request target: a path with an optional query.
	Target string
	Header http.Header
	// Body is sent with ContentType (default application/json when Body
	// is not empty).
	Body, ContentType string
	// Route is the route pattern the request is meant for, for counting;
	// empty counts it under whatever route the inventory matched.
	Route string
	// Prepare, if set, edits the request last: add a bearer token or an
	// API key for apps that do not sign in with cookies.
	Prepare func(*http.Request)
}

// Response is what a probe request got back, and how far it went.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	// Route is the pattern the route inventory matched, when it announced
	// one (authz.Mux does through the response writer).
	Route string
	// Decided reports that the route inventory matched Route and the
	// route's policy decided (allowed or denied) the request.
	Decided bool
	// Reached reports that the request passed every layer in front of the
	// route's handler: the Host allowlist, the path firewall, rate limits
	// and the route's policy.
	Reached bool
	// Layer names what refused the request when it did not reach the
	// handler ("Host allowlist (421)", "authorization (401)" …).
	Layer string
}

// Cookies returns the cookies the response set.
func (r *Response) Cookies() []*http.Cookie {
	return (&http.Response{Header: r.Header}).Cookies()
}

// Reach counts the requests one probe sent to one route.
type Reach = readiness.ProbeReach

// bound is a Client bound to one run and one probe.
type bound struct {
	c     *Client
	in    *readiness.Inspection
	probe string
	h     http.Handler
	host  string
	peer  netip.Addr       // the probe's client address
	proxy netip.Addr       // a trusted proxy to send through, if the app has one
	fwd   string           // the forwarding header the proxy sets
	m     *policyInventory // for reading policies
}

// bind prepares c for probe on in; a nil c is a zero Client.
func (c *Client) bind(in *readiness.Inspection, probe string) *bound {
	if c == nil {
		c = &Client{}
	}
	b := &bound{c: c, in: in, probe: probe, h: c.Handler, host: c.Host}
	if b.h == nil && in.Target.Server != nil {
		b.h = in.Target.Server.Handler
	}
	if b.host == "" {
		b.host = defaultHost(in)
	}
	b.peer = c.addr("probe " + probe)
	for _, h := range findEverywhere[*ratelimit.Handler](in) {
		if ps := h.TrustedProxies(); len(ps) > 0 && !b.proxy.IsValid() {
			b.proxy, b.fwd = ps[0].Addr(), h.ForwardedHeader()
		}
	}
	b.m, _ = authMux(in)
	return b
}

// defaultHost is Target.AllowedHosts[0], else a walked allowlist's first
// host, else "localhost".
func defaultHost(in *readiness.Inspection) string {
	if len(in.Target.AllowedHosts) > 0 {
		return in.Target.AllowedHosts[0]
	}
	for _, a := range findEverywhere[interface {
		http.Handler
		AllowedHosts() []string
	}](in) {
		if hs := a.AllowedHosts(); len(hs) > 0 {
			return hs[0]
		}
	}
	return "localhost"
}

// addr gives each name (a probe, an account) its own client address in
// 198.18.0.0/15 (RFC 2544, benchmarking), stable across runs, so one
// probe's limit spend never starves another.
func (c *Client) addr(name string) netip.Addr {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.addrs == nil {
		c.addrs = map[string]netip.Addr{}
	}
	if a, ok := c.addrs[name]; ok {
		return a
	}
	used := map[netip.Addr]bool{}
	for _, a := range c.addrs {
		used[a] = true
	}
	f := fnv.New32a()
	_, _ = io.WriteString(f, name)
	n := f.Sum32() % (1 << 17)
	for {
		a := netip.AddrFrom4([4]byte{198, 18 + byte(n>>16&1), byte(n >> 8), byte(n)})
		if !used[a] && byte(n) != 0 && byte(n) != 255 {
			c.addrs[name] = a
			return a
		}
		n = (n + 1) % (1 << 17)
	}
}

// probeWriter records the response and the route inventory's annotations.
type probeWriter struct {
	*httptest.ResponseRecorder
	route    string
	decided  bool
	decision authz.Decision
}

func (w *probeWriter) SetRoute(p string)           { w.route = p }
func (w *probeWriter) SetPrincipal(string, string) {}
func (w *probeWriter) SetDecision(p string, d authz.Decision) {
	w.route, w.decided, w.decision = p, true, d
}
func (w *probeWriter) Unwrap() http.ResponseWriter { return w.ResponseRecorder }

// maxBody bounds the response body a probe keeps.
const maxBody = 1 << 20

// do sends rq with the session's cookies (nil: anonymous) and counts it.
func (b *bound) do(ctx context.Context, rq Request, s *Session) *Response {
	resp := b.send(ctx, rq, s, b.peer)
	if s != nil && resp.Status == http.StatusUnauthorized && s.account != "" {
		// The session died (a probe signed it out): sign in again once.
		if fresh, err := b.c.renew(ctx, b, s); err == nil {
			resp = b.send(ctx, rq, fresh, b.peer)
		}
	}
	b.c.count(b.probe, rq.Route, resp)
	return resp
}

func (b *bound) send(ctx context.Context, rq Request, s *Session, peer netip.Addr) *Response {
	method := rq.Method
	if method == "" {
		method = http.MethodGet
	}
	target := rq.Target
	if target == "" {
		target = "/"
	}
	r := httptest.NewRequestWithContext(ctx, method, "/", strings.NewReader(rq.Body))
	if u, err := url.ParseRequestURI(target); err == nil {
		r.URL = u
	} else {
		r.URL = &url.URL{Path: target}
	}
	r.RequestURI = target
	r.Host = b.host
	r.TLS = &tls.ConnectionState{Version: tls.VersionTLS13, HandshakeComplete: true, ServerName: b.host}
	if rq.Body != "" {
		ct := rq.ContentType
		if ct == "" {
			ct = "application/json"
		}
		r.Header.Set("Content-Type", ct)
	}
	for k, vs := range rq.Header {
		r.Header[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
	}
	if b.proxy.IsValid() {
		r.RemoteAddr = netip.AddrPortFrom(b.proxy, 40000).String()
		if b.fwd == ratelimit.HeaderForwarded {
			r.Header.Set("Forwarded", "for="+peer.String())
		} else {
			r.Header.Set(b.fwd, peer.String())
		}
	} else {
		r.RemoteAddr = netip.AddrPortFrom(peer, 40000).String()
	}
	if s != nil {
		s.apply(r)
	}
	if rq.Prepare != nil {
		rq.Prepare(r)
	}
	w := &probeWriter{ResponseRecorder: httptest.NewRecorder()}
	panicked := false
	func() {
		defer func() {
			if recover() != nil {
				panicked = true
			}
		}()
		b.h.ServeHTTP(w, r)
	}()
	res := &Response{Status: w.Code, Header: w.Header(), Route: w.route, Decided: w.decided}
	if panicked {
		res.Status = http.StatusInternalServerError
	}
	if body := w.Body.Bytes(); len(body) > maxBody {
		res.Body = body[:maxBody]
	} else {
		res.Body = body
	}
	res.Reached, res.Layer = b.classify(w, res.Status)
	if s != nil {
		s.update(res)
	}
	return res
}

// classify decides whether the request reached the route's handler and,
// if not, which layer refused it.
func (b *bound) classify(w *probeWriter, status int) (bool, string) {
	switch {
	case w.decided && w.decision != authz.Allow:
		return false, fmt.Sprintf("authorization (%d)", int(w.decision))
	case w.decided && status == http.StatusTooManyRequests:
		return false, "rate limit (429)"
	case w.decided:
		return true, ""
	case w.route != "":
		// An inventory that announces routes but not decisions.
		return status != http.StatusTooManyRequests, layerOf(status)
	}
	if b.m != nil {
		return false, layerOf(status) // the Mux never saw it as a route
	}
	// No inventory that reports: only the status can tell.
	switch status {
	case http.StatusMisdirectedRequest, http.StatusTooManyRequests:
		return false, layerOf(status)
	}
	return true, ""
}

func layerOf(status int) string {
	switch status {
	case http.StatusMisdirectedRequest:
		return "Host allowlist (421)"
	case http.StatusTooManyRequests:
		return "rate limit (429)"
	case http.StatusBadRequest, http.StatusMethodNotAllowed:
		return fmt.Sprintf("path firewall or router (%d)", status)
	case http.StatusNotFound:
		return "router: no route matched (404)"
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Sprintf("a layer in front of the routes (%d)", status)
	}
	return fmt.Sprintf("a layer in front of the route's handler (%d)", status)
}

// count records one request of probe.
func (c *Client) count(probe, route string, res *Response) {
	if route == "" {
		route = res.Route
	}
	if route == "" {
		route = "(no route)"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts == nil {
		c.counts = map[string]map[string]*Reach{}
	}
	byRoute := c.counts[probe]
	if byRoute == nil {
		byRoute = map[string]*Reach{}
		c.counts[probe] = byRoute
	}
	r := byRoute[route]
	if r == nil {
		r = &Reach{Probe: probe, Route: route}
		byRoute[route] = r
	}
	r.Sent++
	if res.Reached {
		r.Reached++
		return
	}
	if r.Refused == nil {
		r.Refused = map[string]int{}
	}
	r.Refused[res.Layer]++
}

// Reaches returns what probe sent to each route, sorted by route.
func (c *Client) Reaches(probe string) []Reach {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Reach
	for _, r := range c.counts[probe] {
		cp := *r
		cp.Refused = map[string]int{}
		for k, v := range r.Refused {
			cp.Refused[k] = v
		}
		out = append(out, cp)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Route < out[j].Route })
	return out
}

// Session is a signed-in (or anonymous) browser: the cookies the app set.
type Session struct {
	b       *bound
	account string
	mu      sync.Mutex
	cookies map[string]*http.Cookie
	peer    netip.Addr
}

// Do sends rq within the session, from the account's own address. Login
// steps (Login.Step) use it.
func (s *Session) Do(ctx context.Context, rq Request) *Response {
	return s.b.send(ctx, rq, s, s.peer)
}

func (s *Session) apply(r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.cookies))
	for n := range s.cookies {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		r.AddCookie(&http.Cookie{Name: n, Value: s.cookies[n].Value})
	}
}

func (s *Session) update(res *Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range res.Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(s.cookies, c.Name)
			continue
		}
		s.cookies[c.Name] = c
	}
}

// signIn returns the kept session of account, signing in when there is none.
func (c *Client) signIn(ctx context.Context, b *bound, account string) (*Session, error) {
	c.mu.Lock()
	s := c.sessions[account]
	c.mu.Unlock()
	if s != nil {
		return s, nil
	}
	return c.newSession(ctx, b, account)
}

// renew replaces a dead session with a fresh sign-in.
func (c *Client) renew(ctx context.Context, b *bound, old *Session) (*Session, error) {
	c.mu.Lock()
	if c.sessions[old.account] == old {
		delete(c.sessions, old.account)
	}
	c.mu.Unlock()
	s, err := c.signIn(ctx, b, old.account)
	if err == nil && s != old {
		s.mu.Lock()
		fresh := make(map[string]*http.Cookie, len(s.cookies))
		for k, v := range s.cookies {
			fresh[k] = v
		}
		s.mu.Unlock()
		old.mu.Lock()
		old.cookies = fresh // holders of the old session continue signed in
		old.mu.Unlock()
	}
	return s, err
}

// ErrNoLogin is returned when a probe needs to sign in and the Client has
// no such account or no login route.
var ErrNoLogin = fmt.Errorf("probe: Client has no Login.Path or no such account; set Client.Login and Client.Accounts")

func (c *Client) newSession(ctx context.Context, b *bound, account string) (*Session, error) {
	acct, ok := c.Accounts[account]
	if !ok || c.Login.Path == "" {
		return nil, fmt.Errorf("%w (account %q)", ErrNoLogin, account)
	}
	s := &Session{b: b, account: account, cookies: map[string]*http.Cookie{}, peer: c.addr("account " + account)}
	method := c.Login.Method
	if method == "" {
		method = http.MethodPost
	}
	ct, body := c.loginBody(acct)
	res := s.Do(ctx, Request{Method: method, Target: c.Login.Path, Body: body, ContentType: ct})
	if res.Status < 200 || res.Status >= 400 {
		return nil, fmt.Errorf("probe: sign-in of %q through %s %s answered %d (%s)", account, method, c.Login.Path, res.Status, refusal(res))
	}
	if c.Login.Step != nil {
		if err := c.Login.Step(ctx, s, res); err != nil {
			return nil, fmt.Errorf("probe: sign-in step of %q: %w", account, err)
		}
	}
	if len(s.cookies) == 0 {
		return nil, fmt.Errorf("probe: sign-in of %q through %s %s set no cookie", account, method, c.Login.Path)
	}
	c.mu.Lock()
	if c.sessions == nil {
		c.sessions = map[string]*Session{}
	}
	c.sessions[account] = s
	c.mu.Unlock()
	return s, nil
}

func refusal(res *Response) string {
	if res.Layer != "" {
		return "refused by " + res.Layer
	}
	return "reached the handler"
}

// loginRequest is the sign-in request of account as a SessionRequest.
func (c *Client) loginRequest(account string) (SessionRequest, error) {
	acct, ok := c.Accounts[account]
	if !ok || c.Login.Path == "" {
		return SessionRequest{}, fmt.Errorf("%w (account %q)", ErrNoLogin, account)
	}
	ct, body := c.loginBody(acct)
	return SessionRequest{Method: c.Login.Method, Path: c.Login.Path, Body: body,
		Header: http.Header{"Content-Type": {ct}}}, nil
}

func (c *Client) loginBody(acct Account) (contentType, body string) {
	if c.Login.Body != nil {
		return c.Login.Body(acct)
	}
	j, _ := json.Marshal(map[string]string{"email": acct.Username, "password": acct.Password})
	return "application/json", string(j)
}
