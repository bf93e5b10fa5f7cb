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
