package probe

import (
	"context"
	"fmt"
	"github.com/launchready/launchready/readiness"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/launchready/launchready/authz"
)

// AuthProbe is the auth probe (AUTH005, AUTH006, AUTH007, AUTH009). It
// requests every route of the authz.Mux inventory through the app's real
// handler — global middleware included — as an anonymous client and as
// each identity the test supplies, and reports:
//
//   - AUTH005: a protected route answered 2xx to an anonymous request;
//   - AUTH006: an identity got 2xx from a route whose roles or permissions
//     it lacks;
//   - AUTH007: an identity got 2xx from a route addressing an object of
//     another tenant or owner (its Foreign values) — broken object-level
//     authorization, such as a handler that forgot its tenant check;
//   - AUTH009: a request denied in its plain form got 2xx from the same
//     route when varied: upper case, a doubled slash, "%2F" for "/", dot
//     segments, a toggled trailing slash, HEAD for GET, or an
//     X-HTTP-Method-Override header.
//
// A response counts as served when its status is 2xx and the Mux reported
// (through SetRoute on the probe's response writer) the route under test,
// so a variant answered by another, public route ("GET /") is not a bypass.
//
// A route whose policy never decided one of the probe's requests (all
// refused in front of the Mux, or the identity could not sign in) is
// reported as not exercised (PROBE001), never passed.
//
// The probe executes real handlers, mutating ones included, against whatever
// data the app has: it runs only in tests (readiness.Require), never at boot
// — it implements readiness.ProbeOnly and Gate refuses it. Point the app at test data.
//
//	c := &probe.Client{Login: probe.Login{Path: "/api/login"},
//		Accounts: map[string]probe.Account{"bob": {Username: "bob@client-b.test", Password: pw}},
//		Values:   map[string]string{"id": "client-b", "/api/tickets/{id}": "t-b1"}}
//	readiness.Require(t, readiness.Target{Server: srv, Checks: []readiness.Check{
//		&probe.AuthProbe{Client: c, Identities: []probe.Identity{
//			{Name: "client user of client-b", Principal: bob, Account: "bob",
//				Foreign: map[string]string{"id": "client-a", "/api/tickets/{id}": "t-a1"}},
//		}}}})
type AuthProbe struct {
	// Client sends the requests and signs the identities in. Nil: a zero
	// Client (the server's handler, the walked Host, no sign-in).
	Client *Client

	// Identities are the principals to probe as, besides the anonymous
	// client that is always probed: a low-privilege user, a user of another
	// tenant, staff without admin rights.
	Identities []Identity

	// Bodies are request bodies by route pattern, for mutating routes whose
	// handlers validate the body before they load the object. Default "{}"
	// as application/json.
	Bodies map[string]string
}

// Identity is a principal the probe signs in as.
type Identity struct {
	// Name appears in findings ("client user of client-b").
	Name string
	// Principal is who the identity signs in as. The probe compares its
	// roles and permissions with each route's policy to know which routes
	// it must not reach.
	Principal authz.Principal
	// Account names the Client.Accounts entry to sign in with, through the
	// app's login route. Empty: Authenticate, else anonymous.
	Account string
	// Authenticate adds credentials to a request for apps that do not sign
	// in with cookies: a bearer token, an API key.
	Authenticate func(r *http.Request)
	// Foreign are wildcard values (keys as Client.Values) naming objects
	// this identity must not reach: another tenant's client ID, another
	// user's ticket. A route allowed by role is requested with them and
	// must not answer 2xx (AUTH007).
	Foreign map[string]string
}

// Name implements readiness.Check.
func (*AuthProbe) Name() string { return "auth probe" }

// ProbeOnly marks the probe as test-only: it executes real handlers.
func (*AuthProbe) ProbeOnly() {}

type probeRequest struct {
	method, target string
	header         http.Header
}

type probeResult struct {
	status  int
	route   string
	decided bool
}

// fill builds the request path of r with values, or false when a wildcard
// listed in need has no value in values.
func fill(path string, values, fallback map[string]string) (string, bool) {
	segs := strings.Split(path, "/")
	used := false
	for i, s := range segs {
		if len(s) < 3 || s[0] != '{' || s[len(s)-1] != '}' {
			continue
		}
		name := strings.TrimSuffix(s[1:len(s)-1], "...")
		if name == "$" {
			segs[i] = ""
			continue
		}
		prefix := strings.Join(segs[:i], "/") + "/" + s
		v, ok := lookup(values, prefix, name)
		if ok {
			used = true
		} else if v, ok = lookup(fallback, prefix, name); !ok {
			v = "probe-1"
		}
		segs[i] = url.PathEscape(v)
	}
	return strings.Join(segs, "/"), used
}

func lookup(m map[string]string, prefix, name string) (string, bool) {
	if v, ok := m[prefix]; ok {
		return v, true
	}
	v, ok := m[name]
	return v, ok
}

// served reports whether res is a 2xx answer of the route under test. A
// variant also counts when a different route that is not public answered
// it (a weaker twin: "GET /x/" next to "GET /x"); a public catch-all such as
// "GET /" does not. Without a writer annotation (a middleware writer lacking
// Unwrap), a plain request's 2xx counts and a variant's does not.
func (res probeResult) served(m *policyInventory, pattern string, variant bool) bool {
	if res.status < 200 || res.status > 299 {
		return false
	}
	if res.route == "" {
		return !variant
	}
	if res.route == pattern {
		return true
	}
	if !variant {
		return false
	}
	pol, ok := m.Policy(res.route)
	return ok && !pol.IsPublic()
}

func answeredBy(got, want string) string {
	if got != "" && got != want {
		return fmt.Sprintf(", answered by the weaker route %q", got)
	}
	return ""
}

type variant struct {
	name string
	req  probeRequest
}

// variants returns the path-trick forms of a request.
func variants(method, target string) []variant {
	var out []variant
	add := func(name, m, t string, hdr http.Header) {
		if t == target && m == method && hdr == nil {
			return
		}
		out = append(out, variant{name, probeRequest{m, t, hdr}})
	}
	add("upper case", method, strings.ToUpper(target), nil)
	if len(target) > 1 {
		add("double slash", method, "/"+target, nil)
		if i := strings.IndexByte(target[1:], '/'); i >= 0 {
			add("inner double slash", method, target[:i+1]+"/"+target[i+1:], nil)
		}
		if i := strings.LastIndexByte(target, '/'); i > 0 {
			add("%2F for /", method, target[:i]+"%2F"+target[i+1:], nil)
		}
	}
	add("dot segment", method, "/."+target, nil)
	add("dot-dot segment", method, "/probe/.."+target, nil)
	if strings.HasSuffix(target, "/") && len(target) > 1 {
		add("trailing slash removed", method, strings.TrimSuffix(target, "/"), nil)
	} else {
		add("trailing slash", method, target+"/", nil)
	}
	if method == http.MethodGet || method == "" {
		add("HEAD for GET", http.MethodHead, target, nil)
	}
	via := http.MethodPost
	if method == http.MethodPost {
		via = http.MethodGet
	}
	if method != "" {
		add("X-HTTP-Method-Override", via, target, http.Header{"X-Http-Method-Override": {method}})
	}
	return out
}

type probeState struct {
	p    *AuthProbe
	m    *policyInventory
	b    *bound
	ctx  context.Context
	seen map[string]bool
	out  []readiness.Finding
	// exercised marks the routes whose policy decided a plain request.
	exercised map[string]bool
	// unrecognised counts the requests of signed-in identities answered
	// 401 even after signing in again.
	unrecognised map[string]int
	// signIn holds the sign-in error of each identity's account.
	signIn map[string]error
}

func (s *probeState) do(rt authz.Route, req probeRequest, id *Identity) probeResult {
	body := ""
	method := req.method
	if method != http.MethodGet && method != http.MethodHead {
		body = "{}"
		if bd, ok := s.p.Bodies[rt.Pattern]; ok {
			body = bd
		}
	}
	rq := Request{Method: method, Target: req.target, Header: req.header, Body: body, Route: rt.Pattern}
	var sess *Session
	if id != nil {
		rq.Prepare = id.Authenticate
		if id.Account != "" {
			var err error
			if sess, err = s.b.c.signIn(s.ctx, s.b, id.Account); err != nil {
				s.signIn[id.Name] = err
				return probeResult{}
			}
		}
	}
	res := s.b.do(s.ctx, rq, sess)
	return probeResult{status: res.Status, route: res.Route, decided: res.Decided}
}

func (s *probeState) report(id, routePattern, key string, f readiness.Finding) {
	k := id + "\x00" + routePattern + "\x00" + key
	if s.seen[k] {
		return
	}
	s.seen[k] = true
	f.ID, f.Route = id, routePattern
	if f.Severity == 0 {
		f.Severity = readiness.Blocker
	}
	s.out = append(s.out, f)
}

// denied probes a request the identity must not be served, then its
// variants.
func (s *probeState) denied(rt authz.Route, method, target string, id *Identity, who, checkID, fix string) {
	res := s.do(rt, probeRequest{method: method, target: target}, id)
	signedIn := id.Principal.Authenticated()
	if signedIn && res.decided && res.status == http.StatusUnauthorized {
		// The app did not recognise the identity: its refusal says
		// nothing about what the identity may reach.
		s.unrecognised[id.Name]++
	} else if res.decided && res.route == rt.Pattern {
		s.exercised[rt.Pattern] = true
	}
	if res.served(s.m, rt.Pattern, false) {
		s.report(checkID, rt.Pattern, who, readiness.Finding{
			Seen: fmt.Sprintf("%s got %d from %s %s", who, res.status, method, target),
			Fix:  fix,
		})
		return // already open; variants add nothing
	}
	for _, v := range variants(method, target) {
		vr := s.do(rt, v.req, id)
		if vr.served(s.m, rt.Pattern, true) {
			s.report("AUTH009", rt.Pattern, v.name, readiness.Finding{
				Seen: fmt.Sprintf("%s was denied %s %s (%d) but got %d with a path trick (%s: %s %s)",
					who, method, target, res.status, vr.status, v.name, v.req.method, v.req.target) + answeredBy(vr.route, rt.Pattern),
				Fix: "serve through authz.Mux (its firewall refuses encoded separators and method overrides, and it decides on the matched pattern), and do not rewrite paths or honour method-override headers in front of it",
			})
		}
	}
}

// Run implements readiness.Check.
func (p *AuthProbe) Run(ctx context.Context, in *readiness.Inspection) []readiness.Finding {
	m, ok := authMux(in)
	b := p.Client.bind(in, p.Name())
	if !ok || b.h == nil {
		return []readiness.Finding{{
			ID: "PROBE001", Severity: readiness.Blocker, Item: readiness.ItemAuth,
			Seen: "the auth probe found no authz.Mux behind the server handler, so no route could be probed (AUTH005–AUTH007, AUTH009 unverified)",
			Fix:  "serve an authz.Mux (see AUTH001)",
		}}
	}
	defer b.record()
	s := &probeState{p: p, m: m, b: b, ctx: ctx, seen: map[string]bool{}, signIn: map[string]error{}, exercised: map[string]bool{}, unrecognised: map[string]int{}}
	anon := &Identity{Name: "anonymous client"}
	host := b.host
	var probed []authz.Route
	for _, rt := range m.Routes() {
		if ctx.Err() != nil {
			break
		}
		method := rt.Method
		if method == "" {
			method = http.MethodGet
		}
		b.host = host
		if rt.Host != "" {
			b.host = rt.Host
		}
		target, _ := fill(rt.Path, nil, b.c.Values)
		claims := false
		if !rt.Policy.IsPublic() {
			claims = true
			s.denied(rt, method, target, anon, anon.Name, "AUTH005",
				"give the route a policy that requires authentication (authz.Authenticated, Role, Permission) and make sure nothing in front of the Mux answers for it")
		}
		for i := range p.Identities {
			id := &p.Identities[i]
			if !id.Principal.Authenticated() {
				if !rt.Policy.IsPublic() {
					s.denied(rt, method, target, id, id.Name, "AUTH005",
						"require authentication on the route; an identity without a principal must be treated as anonymous")
				}
				continue
			}
			switch rt.Policy.AllowsPrincipal(id.Principal) {
			case authz.Allow:
				if len(id.Foreign) == 0 {
					continue
				}
				foreign, used := fill(rt.Path, id.Foreign, b.c.Values)
				if !used {
					continue
				}
				claims = true
				s.denied(rt, method, foreign, id, id.Name, "AUTH007",
					"check the object against the principal on the server: add .Object(loader, authz.SameTenant) (or authz.Owner) to the route's policy, and scope the handler's queries by tenant")
			default:
				claims = true
				s.denied(rt, method, target, id, fmt.Sprintf("%s (roles %v)", id.Name, id.Principal.Roles), "AUTH006",
					"restrict the route with the role or permission it needs (authz.Role, authz.Permission), and make sure the handler does not serve requests the policy should refuse")
			}
		}
		if claims {
			probed = append(probed, rt)
		}
	}
	b.host = host
	for _, rt := range probed {
		if !s.exercised[rt.Pattern] {
			s.out = append(s.out, b.notExercised(readiness.ItemAuth, rt.Pattern, "its authorization (AUTH005–AUTH007, AUTH009)"))
		}
	}
	for i := range p.Identities {
		id := &p.Identities[i]
		if id.Principal.Authenticated() && id.Account == "" && id.Authenticate == nil {
			s.out = append(s.out, readiness.Finding{
				ID: "PROBE001", Severity: readiness.Blocker, Item: readiness.ItemAuth,
				Seen: fmt.Sprintf("the identity %s has a principal but no credentials (Account or Authenticate), so its requests went out anonymous and what it must not reach was not verified", id.Name),
				Fix:  "set Identity.Account to a Client.Accounts entry (or Identity.Authenticate for token auth)",
			})
		} else if n := s.unrecognised[id.Name]; n > 0 && s.signIn[id.Name] == nil {
			s.out = append(s.out, readiness.Finding{
				ID: "PROBE001", Severity: readiness.Blocker, Item: readiness.ItemAuth,
				Seen: fmt.Sprintf("%d request(s) as %s were answered 401: the app did not recognise the identity's credentials, so what it must not reach was not verified on those routes", n, id.Name),
				Fix:  "check the identity's credentials (Client.Accounts, Client.Login, Identity.Authenticate) and that the session survives the probe's requests",
			})
		}
	}
	names := make([]string, 0, len(s.signIn))
	for n := range s.signIn {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s.out = append(s.out, readiness.Finding{
			ID: "PROBE001", Severity: readiness.Blocker, Item: readiness.ItemAuth,
			Seen: fmt.Sprintf("the auth probe could not sign in as %s (%v), so what that identity must not reach was not verified", n, s.signIn[n]),
			Fix:  "set Client.Login to the app's login route and Client.Accounts[Identity.Account] to working test credentials",
		})
	}
	return s.out
}
