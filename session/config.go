package session

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
)

// Defaults of the zero Config.
const (
	// DefaultCookieName is the cookie name over HTTPS. The __Host- prefix
	// makes browsers refuse the cookie unless it is Secure, has Path=/ and
	// no Domain, so a sibling subdomain cannot set or overwrite it.
	DefaultCookieName = "__Host-session"
	// DefaultInsecureCookieName is the cookie name with InsecurePlainHTTP,
	// where browsers would reject the __Host- prefix.
	DefaultInsecureCookieName = "session"
	// DefaultIdleTimeout ends a session after 30 minutes without a request.
	DefaultIdleTimeout = 30 * time.Minute
	// DefaultLifetime ends a session 12 hours after login however active.
	DefaultLifetime = 12 * time.Hour
)

// Config configures a Manager. The zero value is the hardened setting;
// every field documents its default.
type Config struct {
	// Store persists sessions. Nil: an in-memory store (scs memstore), right
	// for one instance. With more than one replica use a shared store
	// (session/redisstore, which also indexes sessions by user for
	// LogoutEverywhere): readiness reports memstore with Replicas > 1
	// (SESS010).
	Store scs.Store

	// CookieName is the session cookie's name. Default "__Host-session"
	// ("session" with InsecurePlainHTTP). A name without the __Host- prefix
	// is reported (SESS004).
	CookieName string

	// Domain sets the cookie's Domain attribute. Default empty: the cookie
	// goes back only to the host that set it. A Domain shares it with every
	// subdomain (reported, SESS004) and cannot be combined with __Host-.
	Domain string

	// SameSite is the cookie's SameSite attribute: http.SameSiteLaxMode
	// (the default, also for zero and SameSiteDefaultMode) or
	// SameSiteStrictMode. SameSiteNoneMode needs InsecureSameSiteNone.
	SameSite http.SameSite

	// IdleTimeout ends a session after this long without a request. Zero
	// means 30 minutes; to have none, set InsecureNoIdleTimeout. A request
	// pushes the deadline forward only once a minute (a tenth of
	// IdleTimeout if shorter), so a session may end up to a minute early:
	// see "Expiry and the clock" in the package doc.
	IdleTimeout time.Duration

	// Lifetime ends a session this long after login (or after the last
	// RenewToken), however active it is. Zero means 12 hours. Longer than
	// 12 h is reported (SESS006).
	Lifetime time.Duration

	// PersistentCookie gives the cookie Expires/Max-Age so it survives a
	// browser restart. Default false: the cookie lives as long as the
	// browser session, and the server-side expiry applies either way. The
	// cookie expires at the absolute lifetime; the idle timeout is enforced
	// by the server, which refuses the cookie of an idle session.
	PersistentCookie bool

	// InsecurePlainHTTP serves the cookie without Secure and without the
	// __Host- prefix, for development over http://localhost. Readiness
	// reports it (SESS001, a blocker in production; SESS004).
	InsecurePlainHTTP bool

	// InsecureSameSiteNone sends the cookie on cross-site requests too
	// (SameSite=None), for portals embedded in another site. It exposes
	// every route to cross-site request forgery unless CSRF protection
	// is in place; readiness reports it (SESS003).
	InsecureSameSiteNone bool

	// InsecureNoIdleTimeout disables the idle timeout: an unattended
	// browser stays signed in until Lifetime. Readiness reports it (SESS005).
	InsecureNoIdleTimeout bool

	// InsecureRawTokensInStore stores tokens as they are, for a store that
	// already holds sessions of a manager without hashing. Anyone who can
	// read the store can then replay every session. Reported (SESS009).
	InsecureRawTokensInStore bool

	// Codec encodes session data for the store. Nil: a compact binary
	// codec for string, int, int64, bool, float64, []byte and time.Time
	// values, using scs's gob codec (scs.GobCodec) for sessions holding any
	// other type; it also reads sessions saved with gob. It saves the ~230
	// allocations per request of gob's per-session type descriptions. Set
	// scs.GobCodec{} to write gob only (e.g. before rolling back to a
	// version without this codec).
	Codec scs.Codec

	// ErrorHandler answers a request whose session could not be loaded or
	// saved (store down, corrupt data). Nil: a problem+json response with
	// no internal detail, 503 with Retry-After when the store wraps
	// ErrStoreUnavailable (it is down: retry), 500 otherwise. The error is logged to Logger either way.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)

	// Logger receives store errors. Nil discards them.
	Logger *slog.Logger
}

func (c Config) validate() error {
	if c.IdleTimeout < 0 {
		return fmt.Errorf("session: Config.IdleTimeout is %v; leave it 0 for 30 minutes or set a positive duration", c.IdleTimeout)
	}
	if c.InsecureNoIdleTimeout && c.IdleTimeout != 0 {
		return fmt.Errorf("session: Config.IdleTimeout is %v but InsecureNoIdleTimeout is set; choose one", c.IdleTimeout)
	}
	if c.Lifetime < 0 {
		return fmt.Errorf("session: Config.Lifetime is %v; leave it 0 for 12 hours or set a positive duration", c.Lifetime)
	}
	if c.IdleTimeout > 0 && c.Lifetime > 0 && c.IdleTimeout > c.Lifetime {
		return fmt.Errorf("session: Config.IdleTimeout (%v) is longer than Config.Lifetime (%v); make it shorter", c.IdleTimeout, c.Lifetime)
	}
	switch c.SameSite {
	case 0, http.SameSiteDefaultMode, http.SameSiteLaxMode, http.SameSiteStrictMode:
		if c.InsecureSameSiteNone {
			return fmt.Errorf("session: Config.InsecureSameSiteNone is set but Config.SameSite is %v; set SameSite to http.SameSiteNoneMode or drop InsecureSameSiteNone", sameSiteName(c.SameSite))
		}
	case http.SameSiteNoneMode:
		if !c.InsecureSameSiteNone {
			return fmt.Errorf("session: Config.SameSite is None, which sends the cookie on cross-site requests; use Lax or Strict, or set InsecureSameSiteNone to accept the risk")
		}
	default:
		return fmt.Errorf("session: Config.SameSite is %d; use http.SameSiteLaxMode or http.SameSiteStrictMode", int(c.SameSite))
	}
	name := c.cookieName()
	if !validCookieName(name) {
		return fmt.Errorf("session: Config.CookieName %q is not a valid cookie name; use letters, digits and -_. only", name)
	}
	if strings.HasPrefix(name, "__Host-") {
		if c.InsecurePlainHTTP {
			return fmt.Errorf("session: Config.CookieName %q has the __Host- prefix, which browsers refuse without Secure; drop the prefix or InsecurePlainHTTP", name)
		}
		if c.Domain != "" {
			return fmt.Errorf("session: Config.Domain is %q but the cookie name has the __Host- prefix, which forbids a Domain; drop Domain (recommended) or rename the cookie", c.Domain)
		}
	}
	if strings.HasPrefix(name, "__Secure-") && c.InsecurePlainHTTP {
		return fmt.Errorf("session: Config.CookieName %q has the __Secure- prefix, which browsers refuse without Secure; drop the prefix or InsecurePlainHTTP", name)
	}
	return nil
}

func (c Config) cookieName() string {
	switch {
	case c.CookieName != "":
		return c.CookieName
	case c.InsecurePlainHTTP:
		return DefaultInsecureCookieName
	}
	return DefaultCookieName
}

func validCookieName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
		if !ok {
			return false
		}
	}
	return true
}

func sameSiteName(s http.SameSite) string {
	switch s {
	case http.SameSiteLaxMode:
		return "Lax"
	case http.SameSiteStrictMode:
		return "Strict"
	case http.SameSiteNoneMode:
		return "None"
	}
	return "unset"
}
