// Package session defends a portal's logins against session hijacking,
// fixation and sessions that never end (launch scorecard item 2, Session
// handling). It is github.com/alexedwards/scs/v2 with launch-ready defaults
// and a login/logout lifecycle:
//
//	mgr, err := session.New(session.Config{})      // hardened defaults
//	srv.Handler = mgr.Handler(mux)                   // load and save per request
//	err = mgr.Login(r.Context(), userID)             // in the login handler
//
// The zero Config gives a `__Host-session` cookie (Secure, HttpOnly,
// SameSite=Lax, Path=/, no Domain, no Max-Age so it dies with the browser),
// an idle timeout of 30 minutes, an absolute lifetime of 12 hours counted
// from login, and tokens stored in the session store only as SHA-256 hashes,
// so a leaked store dump cannot be replayed (the manager remembers, in
// process memory, the hashes of the tokens of recently found sessions and
// a copy of their small session data, so a signed-in user's requests
// neither hash the token nor parse the data each time; the store still
// decides on every request whether the session exists, the expiry is
// checked against the clock every time, and logout forgets the token). scs's own defaults (Secure off,
// no idle timeout, 24 h, raw tokens) fail the OWASP Session Management Cheat
// Sheet and ASVS V3/V7; each loosening here is an explicit `Insecure…` field
// that the readiness report shows.
//
// # Lifecycle
//
// Login renews the token (a token planted before login is worthless after
// it), stores the user ID and the authentication time. RenewToken must be
// called again at every privilege change (role granted, password or MFA
// changed). Logout destroys the session in the store and expires the
// cookie, so a copied token stops working at once. LogoutEverywhere removes
// every session of a user (after a password change): through the store's
// per-user index with a UserStore (session/redisstore, shared by every
// replica), else by listing every session of an iterable store (memstore);
// Settings().CanLogoutEverywhere tells. PasswordChanged is the call to
// make after a password change or reset: it ends every other session of the
// user (keeping the changing one, under a new token).
//
// ResetTokens issues password-reset tokens that are stored hashed, work
// once, expire within 30 minutes and revoke each other: issuing a new one
// or consuming one ends every other outstanding token of the account.
//
// # When the store is down
//
// A store that cannot be reached wraps ErrStoreUnavailable in its errors;
// a request carrying a session cookie is then answered 503 problem+json
// with Retry-After, before the handler runs: never served as anonymous,
// never a 500. Requests without a cookie (the login page, health checks)
// are served; a login cannot save its session and also gets 503. Service
// resumes on the next request once the store answers again.
//
// # Second factor
//
// The session records how its user authenticated, like OIDC's amr:
// MethodPassword at Login, MethodOTP once a second factor was verified,
// each with when it was last verified (Auth). A sign-in that needs a second
// factor is two steps: BeginLogin after the password (new token, nobody
// signed in yet, PendingTimeout to finish), CompleteLogin after the code
// (new token, both factors). StepUp adds or refreshes a factor for a user
// already signed in, and renews the token, as every privilege change must.
//
// User(r) is what an authorization layer needs: the signed-in user ID and
// when they authenticated. The app turns it into its own principal in two
// lines (see Example_authenticate); this package imports no authz code.
//
// # Expiry and the clock
//
// The store keeps each session until min(last save+IdleTimeout,
// login+Lifetime) and forgets it after; the middleware also refuses a
// session past either limit itself, whatever the store still holds. A
// request does not save the session just to push the idle deadline: that
// would cost a store write, a token hash and a Set-Cookie on every request.
// The session records when it was last saved, and a request saves it
// again only when that is a minute old or more (a tenth of IdleTimeout if
// shorter). So the effective idle timeout is between IdleTimeout−1m and
// IdleTimeout: a session saved at 10:00 and last used at 10:00:59 ends at
// 10:30. A request that changes the session saves it at once, as always.
// The idle timeout is the manager's, not the engine's: Engine().IdleTimeout
// is 0 (see Manager.Engine), and Settings().IdleTimeout reports the one in
// force.
//
// The clock is time.Now, as in scs. Tests therefore check expiry with
// testing/synctest (Go 1.25+), whose bubble runs a fake clock that time.Now
// and time.Sleep follow: a time.Sleep(31*time.Minute) inside synctest.Test
// returns at once with the clock 31 minutes later. Run
// the handler inside the bubble through an in-memory listener or transport
// (goroutines blocked on real sockets are not durably blocked, so the clock
// would not move), and build the Manager outside the bubble: scs.New starts
// a memstore cleanup goroutine that would outlive it. See expiry_test.go
// (an HTTPS httptest server on a net.Pipe listener) and probe.SessionProbe (readiness/probe).
//
// # Concurrent requests: last write wins
//
// A request that saves the session (it changed it, or the idle deadline
// was due for its once-a-minute push) saves the whole copy it loaded. Two
// requests of one session that run at the same time each load a copy, and
// the one that saves last overwrites the other's changes: a value Put by
// the first is lost. A request that only reads the session saves nothing
// (except that push). The login identity is not at risk (requests made
// with a session's token carry the same user ID and auth time), but
// application values are. Keep session data small and writes idempotent,
// and keep values that must not be lost (carts, drafts, counters) in the
// app's database keyed by user ID. A request that started before Logout or
// LogoutEverywhere can likewise save the session it loaded; the old token
// stays invalid after Logout (the browser got a new, empty cookie), but
// after LogoutEverywhere a request still in flight on another device can
// write its session back until it next expires.
//
// # Session data is trusted
//
// The store holds what the server wrote; the client only ever holds the
// token. Whoever can write the store can forge any session, so its data is
// trusted input, and the store must be protected accordingly (Redis with a
// password and TLS, never reachable from the internet). The default codec's
// own format is fuzzed against arbitrary bytes; sessions holding types it
// does not encode, and sessions saved by scs's default codec, go through
// encoding/gob, which its documentation says is not hardened against
// adversarial input (a crafted 160-byte gob stream asks for a map of
// 900 million entries).
package session
