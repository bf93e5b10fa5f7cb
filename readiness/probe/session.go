package probe

import (
	"bytes"
	"context"
	"fmt"
	"github.com/launchready/launchready/readiness"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"time"
)

// SessionRequest is one request of the app's session routes, as the
// SessionProbe sends it.
type SessionRequest struct {
	Method string // default GET, POST for Login and Logout
	Path   string // "/api/login"
	Body   string // sent as is, e.g. `{"email":"agent@acme.test","password":"…"}`
	Header http.Header
}

// SessionProbe signs in through the app's real login route, in process,
// and checks what a browser would get (SESS001–SESS008):
//   - the token changes at login, and the token the browser had before no
//     longer works (fixation, SESS007);
//   - after logout the token no longer works (replay, SESS008), and the
//     cookie is expired;
//   - with Advance set, the session ends after the idle timeout (SESS005)
//     and at the absolute lifetime despite activity (SESS006);
//   - when the handler tree holds no *session.Handler (a session layer
//     readiness cannot read), the login's Set-Cookie attributes
//     (SESS001–SESS004).
//
// Requests go through the Client (the server's handler, as HTTPS requests
// to an allowed Host, from the probe's own address), with a cookie jar. It
// is a probe: put it in Target.Checks in tests only (readiness.Require);
// Gate refuses it.
type SessionProbe struct {
	// Client sends the requests. Nil: a zero Client.
	Client *Client
	// Account names the Client.Accounts entry to sign in with through
	// Client.Login; it replaces Login.
	Account string
	// Login signs a test user in: 2xx or 3xx means success. Method
	// defaults to POST.
	Login SessionRequest
	// Logout signs the user out. Method defaults to POST.
	Logout SessionRequest
	// Check is a route that answers 2xx only to a signed-in user, such as
	// GET /api/me.
	Check SessionRequest
	// CookieName is the session cookie's name. Default: the walked session
	// manager's, else the first cookie the login sets.
	CookieName string
	// Advance moves the clock forward. Nil: expiry is not probed. Run the
	// probe inside testing/synctest.Test and pass time.Sleep, which returns
	// at once on the bubble's fake clock.
	Advance func(time.Duration)
	// IdleTimeout and Lifetime are the expected limits. Default: the walked
	// session manager's settings.
	IdleTimeout, Lifetime time.Duration
}

// Name identifies the probe in reports.
func (p SessionProbe) Name() string { return "session probe" }

// readiness.ProbeOnly marks the probe as test-only.
func (p SessionProbe) ProbeOnly() {}

// sessionTransport is an http.RoundTripper that sends each request
// through the probe's Client.
type sessionTransport struct{ b *bound }

// layerHeader carries, on the responses the transport hands the probe, the
// layer that refused the request (never sent to the app).
const layerHeader = "Launchready-Probe-Refused-By"

func (t sessionTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		_ = req.Body.Close()
	}
	res := t.b.do(req.Context(), Request{
		Method: req.Method, Target: req.URL.RequestURI(), Header: req.Header,
		Body: string(body), ContentType: req.Header.Get("Content-Type"),
	}, nil)
	hdr := res.Header.Clone()
	if !res.Reached && res.Layer != "" {
		hdr.Set(layerHeader, res.Layer)
	}
	return &http.Response{
		Status: fmt.Sprintf("%d %s", res.Status, http.StatusText(res.Status)), StatusCode: res.Status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: hdr, Body: io.NopCloser(bytes.NewReader(res.Body)),
		ContentLength: int64(len(res.Body)), Request: req,
	}, nil
}

type sessionRun struct {
	p        SessionProbe
	ctx      context.Context
	b        *bound
	base     string
	name     string
	route    string
	findings []readiness.Finding
}

func (s *sessionRun) add(id string, sev readiness.Severity, seen, fix string) {
	s.findings = append(s.findings, readiness.Finding{ID: id, Severity: sev, Item: readiness.ItemSession, Route: s.route, Seen: seen, Fix: fix})
}

func (s *sessionRun) client(jar bool) *http.Client {
	c := &http.Client{
		Transport:     sessionTransport{s.b},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if jar {
		c.Jar, _ = cookiejar.New(nil)
	}
	return c
}

// do sends rq with c; a non-nil token is sent as the only session cookie.
func (s *sessionRun) do(c *http.Client, rq SessionRequest, defMethod string, token *string) (*http.Response, error) {
	m := rq.Method
	if m == "" {
		m = defMethod
	}
	req, err := http.NewRequestWithContext(s.ctx, m, s.base+rq.Path, strings.NewReader(rq.Body))
	if err != nil {
		return nil, err
	}
	for k, v := range rq.Header {
		req.Header[k] = append([]string(nil), v...)
	}
	if token != nil {
		req.AddCookie(&http.Cookie{Name: s.name, Value: *token})
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	_ = resp.Body.Close()
	return resp, nil
}

func (s *sessionRun) cookie(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if s.name == "" || c.Name == s.name {
			return c
		}
	}
	return nil
}

func sessOK2xx(resp *http.Response) bool   { return resp.StatusCode >= 200 && resp.StatusCode < 300 }
func sessOKLogin(resp *http.Response) bool { return resp.StatusCode >= 200 && resp.StatusCode < 400 }

// Run runs the probe.
func (p SessionProbe) Run(ctx context.Context, in *readiness.Inspection) []readiness.Finding {
	b := p.Client.bind(in, p.Name())
	defer b.record()
	if p.Account != "" {
		login, err := b.c.loginRequest(p.Account)
		if err != nil {
			return []readiness.Finding{{ID: "PROBE001", Severity: readiness.Blocker, Item: readiness.ItemSession,
				Seen: "the session probe could not build its sign-in: " + err.Error() + "; fixation, logout and expiry were not verified",
				Fix:  "set Client.Login and Client.Accounts[SessionProbe.Account]"}}
		}
		p.Login = login
	}
	s := &sessionRun{p: p, ctx: ctx, b: b, route: strings.TrimSpace(sessOrDefault(p.Login.Method, "POST") + " " + p.Login.Path)}
	if b.h == nil || p.Login.Path == "" || p.Check.Path == "" {
		s.findings = append(s.findings, readiness.Finding{ID: "PROBE001", Severity: readiness.Blocker, Item: readiness.ItemSession, Route: s.route,
			Seen: "the session probe has no server handler, Login path or Check path, so fixation, logout and expiry were not verified",
			Fix:  "set SessionProbe.Account (or Login) and SessionProbe.Check (and Logout) to the app's routes"})
		return s.findings
	}
	s.base = "https://" + b.host
	hs := sessionHandlers(in)
	idle, life := p.IdleTimeout, p.Lifetime
	s.name = p.CookieName
	if len(hs) > 0 {
		st := hs[0].Settings()
		if s.name == "" {
			s.name = st.CookieName
		}
		if idle == 0 {
			idle = st.IdleTimeout
		}
		if life == 0 {
			life = st.Lifetime
		}
	}
	unverified := func(what string, res *http.Response) []readiness.Finding {
		f := readiness.Finding{ID: "PROBE001", Severity: readiness.Blocker, Item: readiness.ItemSession, Route: s.route,
			Seen: "the session probe could not run: " + what + "; fixation (SESS007), logout (SESS008) and expiry were not verified",
			Fix:  "fix SessionProbe's sign-in (Client.Login, Client.Accounts, Account) and its Check and Logout requests so a test user can sign in"}
		if res != nil {
			if l := res.Header.Get(layerHeader); l != "" {
				f.Seen += " (refused by " + l + ")"
				f.Fix = setupFix(map[string]int{l: 1}) + "; " + f.Fix
			}
		}
		s.findings = append(s.findings, f)
		return s.findings
	}

	anon, err := s.do(s.client(false), p.Check, http.MethodGet, nil)
	if err != nil {
		return unverified("check request failed: "+err.Error(), nil)
	}
	if sessOK2xx(anon) {
		return unverified(fmt.Sprintf("%s answered %d to an anonymous request, so it cannot tell a live session from a dead one", p.Check.Path, anon.StatusCode), nil)
	}

	// First login: a fresh browser.
	c := s.client(true)
	resp, err := s.do(c, p.Login, http.MethodPost, nil)
	if err != nil {
		return unverified("login request failed: "+err.Error(), nil)
	}
	if !sessOKLogin(resp) {
		return unverified(fmt.Sprintf("login answered %d", resp.StatusCode), resp)
	}
	first := s.cookie(resp)
	if first == nil {
		return unverified("login set no session cookie", resp)
	}
	s.name = first.Name
	if len(hs) == 0 {
		s.cookieAttributes(first)
	}
	if r, err := s.do(c, p.Check, http.MethodGet, nil); err != nil || !sessOK2xx(r) {
		return unverified(fmt.Sprintf("after login, %s did not answer 2xx", p.Check.Path), r)
	}

	// Second login in the same browser, carrying the first token: the token
	// an attacker planted (from their own login) must be replaced and dead.
	resp, err = s.do(c, p.Login, http.MethodPost, nil)
	if err != nil || !sessOKLogin(resp) {
		return unverified("second login failed", resp)
	}
	second := s.cookie(resp)
	current := first.Value
	if second == nil || second.Value == first.Value {
		s.add("SESS007", readiness.Blocker, "login kept the session token the browser already had: a token planted before login becomes a signed-in session (session fixation)",
			"call session.Manager.Login (it renews the token) or RenewToken in the login handler after verifying the credentials")
	} else {
		current = second.Value
		if r, err := s.do(s.client(false), p.Check, http.MethodGet, &first.Value); err == nil && sessOK2xx(r) {
			s.add("SESS007", readiness.Blocker, "the token from before login still works after login: it was renewed but the old one was not invalidated",
				"delete the old session from the store when renewing (session.Manager.Login does)")
		}
	}

	// Logout, then replay the token.
	if p.Logout.Path != "" {
		s.route = strings.TrimSpace(sessOrDefault(p.Logout.Method, "POST") + " " + p.Logout.Path)
		resp, err = s.do(c, p.Logout, http.MethodPost, nil)
		if err != nil || !sessOKLogin(resp) {
			code := 0
			if resp != nil {
				code = resp.StatusCode
			}
			s.add("SESS008", readiness.Blocker, fmt.Sprintf("logout answered %d, so the session could not be ended", code),
				"make the logout route answer 2xx and call session.Manager.Logout")
		} else {
			if r, err := s.do(s.client(false), p.Check, http.MethodGet, &current); err == nil && sessOK2xx(r) {
				s.add("SESS008", readiness.Blocker, "the session token still works after logout: a copied token outlives the user's logout",
					"destroy the session server-side at logout (session.Manager.Logout), not only the cookie")
			}
			if ck := s.cookie(resp); ck == nil || ck.MaxAge >= 0 {
				s.add("SESS008", readiness.Warning, "logout did not expire the session cookie in the browser",
					"expire the cookie at logout (session.Manager.Logout does)")
			}
		}
	}

	if p.Advance != nil {
		s.expiry(idle, life)
	}
	return s.findings
}

func (s *sessionRun) cookieAttributes(c *http.Cookie) {
	s.findings = append(s.findings, readiness.CookieFindings(c, s.route)...)
}

func (s *sessionRun) login() (*http.Client, bool) {
	c := s.client(true)
	resp, err := s.do(c, s.p.Login, http.MethodPost, nil)
	return c, err == nil && sessOKLogin(resp)
}

func (s *sessionRun) alive(c *http.Client) bool {
	r, err := s.do(c, s.p.Check, http.MethodGet, nil)
	return err == nil && sessOK2xx(r)
}

// expiry checks the idle timeout and the absolute lifetime on the clock
// Advance moves.
func (s *sessionRun) expiry(idle, life time.Duration) {
	s.route = strings.TrimSpace(sessOrDefault(s.p.Check.Method, "GET") + " " + s.p.Check.Path)
	if idle > 0 {
		if c, ok := s.login(); ok {
			s.p.Advance(idle + time.Minute)
			if s.alive(c) {
				s.add("SESS005", readiness.Blocker, fmt.Sprintf("the session still worked after %v without a request (idle timeout %v)", idle+time.Minute, idle),
					"enforce the idle timeout server-side (session.Config.IdleTimeout)")
			}
		}
	}
	if life <= 0 {
		return
	}
	c, ok := s.login()
	if !ok {
		return
	}
	step := life / 8
	if idle > 0 && idle/2 < step {
		step = idle / 2
	}
	if step <= 0 {
		step = time.Second
	}
	elapsed := time.Duration(0)
	for elapsed+step < life {
		s.p.Advance(step)
		elapsed += step
		if !s.alive(c) {
			s.add("SESS005", readiness.Warning, fmt.Sprintf("an active session (a request every %v) ended after %v, before its lifetime of %v", step, elapsed, life),
				"let each request push the idle deadline forward (scs does with IdleTimeout set)")
			return
		}
	}
	s.p.Advance(life - elapsed + time.Minute)
	if s.alive(c) {
		s.add("SESS006", readiness.Blocker, fmt.Sprintf("an active session still worked %v after login (absolute lifetime %v)", life+time.Minute, life),
			"enforce the absolute lifetime server-side (session.Config.Lifetime), counted from login")
	}
}

func sessOrDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
