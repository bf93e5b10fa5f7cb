package attack_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// sessionCookie finds the session cookie a login set (the one HttpOnly
// cookie whose name mentions session).
func sessionCookie(t *testing.T, res *response) *http.Cookie {
	t.Helper()
	for _, line := range res.header.Values("Set-Cookie") {
		ck, err := http.ParseSetCookie(line)
		if err == nil && strings.Contains(strings.ToLower(ck.Name), "session") {
			return ck
		}
	}
	t.Fatalf("no session cookie in %v", res.header.Values("Set-Cookie"))
	return nil
}

// whoAmI asks /api/me with exactly the given Cookie header, outside any jar.
func whoAmI(t *testing.T, p *portal, cookie string) (int, string) {
	t.Helper()
	c := p.client()
	res := c.must(t, http.MethodGet, "/api/me", nil, "Cookie", cookie)
	if res.status != http.StatusOK {
		return res.status, ""
	}
	var me struct {
		Email string `json:"email"`
	}
	require.NoError(t, json.Unmarshal(res.body, &me))
	return res.status, me.Email
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// TestSessionCookieAttributes (SESS001-004): over HTTPS the session cookie
// is __Host- prefixed, Secure, HttpOnly, SameSite Lax or Strict, Path=/,
// without Domain, so a sibling subdomain cannot toss one.
func TestSessionCookieAttributes(t *testing.T) {
	p := startPortal(t, portalOpts{tls: true})
	g := newTally(t, "session-cookie")
	res := p.client().login(t, aliceEmail, demoPassword)
	require.Equal(t, http.StatusOK, res.status, "%s", res)
	ck := sessionCookie(t, res)
	g.check(strings.HasPrefix(ck.Name, "__Host-"), "cookie %q has no __Host- prefix", ck.Name)
	g.check(ck.Secure, "cookie not Secure")
	g.check(ck.HttpOnly, "cookie not HttpOnly")
	g.check(ck.SameSite == http.SameSiteLaxMode || ck.SameSite == http.SameSiteStrictMode, "SameSite %v", ck.SameSite)
	g.check(ck.Path == "/", "Path %q", ck.Path)
	g.check(ck.Domain == "", "Domain %q", ck.Domain)
}

// TestSessionFixation (SESS007): a token the attacker chose or obtained
// before the victim signed in never becomes the victim's session.
func TestSessionFixation(t *testing.T) {
	p := startPortal(t, portalOpts{tls: true})
	g := newTally(t, "session-fixation")
	// The attacker's own valid session, and an invented token.
	att := p.client().login(t, bobEmail, demoPassword)
	require.Equal(t, http.StatusOK, att.status)
	name := sessionCookie(t, att).Name
	attackerToken := sessionCookie(t, att).Value
	for _, planted := range []string{attackerToken, randomToken()} {
		victim := p.client()
		res := victim.login(t, aliceEmail, demoPassword, "Cookie", name+"="+planted)
		require.Equal(t, http.StatusOK, res.status, "%s", res)
		fresh := sessionCookie(t, res).Value
		g.check(fresh != planted, "login kept the planted token")
		st, who := whoAmI(t, p, name+"="+planted)
		g.check(who != aliceEmail, "the planted token is signed in as the victim (status %d)", st)
		st, who = whoAmI(t, p, name+"="+fresh)
		g.check(st == http.StatusOK && who == aliceEmail, "the renewed token works for the victim: %d %q", st, who)
	}
	// Renewal also at a second login inside one session (privilege change).
	c := p.client()
	r1 := c.login(t, aliceEmail, demoPassword)
	r2 := c.login(t, adminEmail, demoPassword)
	require.Equal(t, http.StatusOK, r2.status)
	t1, t2 := sessionCookie(t, r1).Value, sessionCookie(t, r2).Value
	g.check(t1 != t2, "token not renewed when another account signs in on the same session")
	st, who := whoAmI(t, p, name+"="+t1)
	g.check(who != adminEmail, "the pre-login token carries the new privileges (%d %q)", st, who)
}

// TestSessionReplayAfterLogout (SESS008): a copied session cookie is dead
// once its owner logs out, on every route; the logout response expires
// the cookie in the browser too.
func TestSessionReplayAfterLogout(t *testing.T) {
	p := startPortal(t, portalOpts{tls: true})
	g := newTally(t, "session-replay")
	for _, email := range []string{aliceEmail, adminEmail} {
		c := p.client()
		res := c.signIn(t, email) // the admin completes the second factor
		require.Equal(t, http.StatusOK, res.status)
		ck := sessionCookie(t, res)
		stolen := ck.Name + "=" + ck.Value
		st, who := whoAmI(t, p, stolen)
		require.Equal(t, email, who, "control: the stolen cookie works before logout (%d)", st)

		out := c.must(t, http.MethodPost, "/api/logout", nil)
		g.check(is2xx(out.status), "logout answered %s", out)
		expired := false
		for _, line := range out.header.Values("Set-Cookie") {
			if x, err := http.ParseSetCookie(line); err == nil && x.Name == ck.Name {
				expired = x.MaxAge < 0 || (!x.Expires.IsZero() && x.Expires.Before(time.Now())) || x.Value == ""
			}
		}
		g.check(expired, "logout did not expire the cookie: %v", out.header.Values("Set-Cookie"))
		for _, path := range []string{"/api/me", "/api/clients/client-a", "/api/clients/client-a/tickets", "/api/admin/audit", "/admin/readiness"} {
			r := p.client().must(t, http.MethodGet, path, nil, "Cookie", stolen)
			g.check(r.status == http.StatusUnauthorized, "%s replayed after logout on %s: %s", email, path, r)
		}
		r := p.client().must(t, http.MethodPost, "/api/clients/client-a/tickets", map[string]string{"subject": "after logout"}, "Cookie", stolen)
		g.check(r.status == http.StatusUnauthorized, "%s replayed POST after logout: %s", email, r)
		// Logging out again with the dead cookie changes nothing.
		r = p.client().must(t, http.MethodPost, "/api/logout", nil, "Cookie", stolen)
		g.check(!is2xx(r.status) || r.status == http.StatusNoContent, "second logout: %s", r)
		st, _ = whoAmI(t, p, stolen)
		g.check(st == http.StatusUnauthorized, "dead cookie revived: %d", st)
	}
}

// TestCookieTossing (SESS004): cookies a sibling subdomain or a network
// attacker could plant never authenticate: the prefix-less name (what a
// Domain= cookie from a sibling would carry), a forged token ahead of the
// real one, and a forged token with the real name.
func TestCookieTossing(t *testing.T) {
	p := startPortal(t, portalOpts{tls: true})
	g := newTally(t, "cookie-tossing")
	att := p.client().login(t, bobEmail, demoPassword)
	require.Equal(t, http.StatusOK, att.status)
	name := sessionCookie(t, att).Name
	attacker := sessionCookie(t, att).Value
	vic := p.client().login(t, aliceEmail, demoPassword)
	require.Equal(t, http.StatusOK, vic.status)
	victim := sessionCookie(t, vic).Value
	bare := strings.TrimPrefix(name, "__Host-")
	bare = strings.TrimPrefix(bare, "__Secure-")
	forged := randomToken()

	cases := []struct {
		cookie string
		okAs   string // "" = must not authenticate
	}{
		// What a sibling subdomain can set (Domain=, no __Host- prefix possible).
		{bare + "=" + attacker, ""},
		{"__Secure-" + bare + "=" + attacker, ""},
		{strings.ToLower(name) + "=" + attacker, ""},
		{strings.ToUpper(name) + "=" + attacker, ""},
		// Forged values under the real name, alone and ahead of the real one.
		{name + "=" + forged, ""},
		{name + "=" + forged + "; " + name + "=" + victim, ""},
		{name + "=" + attacker + "x", ""},
		{name + "=" + `"` + forged + `"`, ""},
		{name + "=", ""},
		// The victim's real cookie with a tossed prefix-less one beside it:
		// still the victim, never the attacker.
		{bare + "=" + attacker + "; " + name + "=" + victim, aliceEmail},
		{name + "=" + victim + "; " + bare + "=" + attacker, aliceEmail},
	}
	for _, c := range cases {
		st, who := whoAmI(t, p, c.cookie)
		if c.okAs == "" {
			g.check(st == http.StatusUnauthorized || (st >= 400 && st < 500), "cookie %q authenticated as %q (%d)", redactTok(c.cookie), who, st)
			continue
		}
		g.check(who == c.okAs, "cookie %q: got %q (%d), want %q", redactTok(c.cookie), who, st, c.okAs)
	}
	// Two valid same-name cookies (impossible from a browser for a __Host-
	// name: same name, path and host overwrite each other): the portal
	// reads one, the first, and never mixes identities.
	st, who := whoAmI(t, p, name+"="+attacker+"; "+name+"="+victim)
	g.check(st == http.StatusUnauthorized || who == bobEmail, "two valid cookies: %d %q (want the first or none)", st, who)
	t.Logf("two valid same-name cookies: status %d, identity %q (first cookie wins)", st, who)
}

func redactTok(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
