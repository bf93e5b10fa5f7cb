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

// CookieFindings grades a cookie as a server really set it (a Set-Cookie
// header) with the SESS001–SESS004 rules of the in-process session check:
// Secure (a production-only blocker), HttpOnly and SameSite Lax or Strict
// (blockers), and the __Host- prefix without Domain (a warning). The
// launchready command applies it to the cookies of a deployed portal.
func CookieFindings(c *http.Cookie) []Finding {
	return sessionSettingFindings(sessionSettingsFromCookie(c), "", 1)
}
