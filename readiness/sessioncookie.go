package readiness

import (
	"net/http"

	"github.com/launchready/launchready/session"
)

// sessionSettingsFromCookie reads the attributes a Set-Cookie really had,
// for session layers readiness cannot walk. Only the cookie fields are set;
// the rest are the hardened values so they raise nothing.
func sessionSettingsFromCookie(c *http.Cookie) session.Settings {
	return session.Settings{
		CookieName:   c.Name,
		Domain:       c.Domain,
		Path:         c.Path,
		Secure:       c.Secure,
		HttpOnly:     c.HttpOnly,
		SameSite:     c.SameSite,
		IdleTimeout:  session.DefaultIdleTimeout,
		Lifetime:     session.DefaultLifetime,
		HashedTokens: true,
	}
}

// CookieFindings judges a session cookie as a browser received it (a
// Set-Cookie read by a probe) and returns the cookie-attribute findings
// SESS001–SESS004 for route. Probes use it when the session layer is not
// one readiness can walk; `launchready check` uses it on the cookies a
// deployed portal sets.
func CookieFindings(c *http.Cookie, route string) []Finding {
	var out []Finding
	for _, f := range sessionSettingFindings(sessionSettingsFromCookie(c), route, 1) {
		if f.ID <= "SESS004" {
			out = append(out, f)
		}
	}
	return out
}
