// Package ratelimit defends the cheap-to-attack routes of a client portal —
// login, password reset, upload and export — against credential stuffing,
// reset-mail flooding and resource exhaustion, without letting an attacker
// spoof its way around the limit (leftmost X-Forwarded-For) or exhaust memory
// (key-rotation floods). It serves scorecard item 5, Rate limiting.
//
// Use it in three lines:
//
//	limits, err := ratelimit.New(ratelimit.Config{TrustedProxies: []string{"10.0.0.0/8"}})
//	mux.Handle("POST /api/login", limits.Login(loginHandler, ratelimit.ByIP(), ratelimit.ByAccount(accountOf)))
//	mux.Handle("GET /api/clients/{id}/export", limits.Export(exportHandler, ratelimit.ByPrincipal(principalOf)))
//
// Every limit states what it is keyed by (a required argument): the client
// IP, the submitted account name, the authenticated principal, or the route.
// The client IP is RemoteAddr unless the peer is a configured trusted proxy;
// then the rightmost untrusted X-Forwarded-For (or Forwarded, or X-Real-IP)
// entry is used, repeated header lines are merged, an unparseable entry fails
// closed, v4-mapped addresses are folded and IPv6 clients are keyed by their
// /64 (configurable), so rotating addresses inside one prefix does not help.
//
// Decisions use GCRA, the token bucket of golang.org/x/time/rate expressed as
// one "theoretical arrival time" per key: a rate (rate.Limit) refills a burst.
// The same arithmetic runs in the in-memory store and in the Redis store
// (ratelimit/redisstore, its own module), so limits mean the same on both.
// The in-memory store holds at most Config.MaxKeys keys with CLOCK (second
// chance, approximately least-recently-used) eviction and drops idle keys
// first, so a flood of unique keys cannot grow memory; a decision on a known
// key takes no lock (compare-and-swap on the key's state).
//
// A rejected request gets 429 with an exact Retry-After (whole seconds,
// rounded up) and the IETF draft RateLimit / RateLimit-Policy fields, and an
// RFC 9457 problem+json body from a replaceable handler. Client addresses are
// never echoed. When the store fails, auth limits (login, password reset,
// login failures, second-factor codes) fail closed with 503 by default; others fail open.
//
// Failures counts failed logins per account and per IP and answers 429 once
// either is exhausted, for existing and unknown accounts alike; a successful
// login resets the account's count. SecondFactor does the same for
// second-factor codes (TOTP, recovery codes), with a longer lockout
// (SecondFactorPolicy: 5 wrong codes, then one every 15 minutes), keyed by
// the account whose code is checked, so a 6-digit code cannot be guessed
// within the lockout window.
//
// Every handler is walkable (Unwrap plus accessors), so the readiness package
// finds each limit in a route's chain and checks RATE001–RATE008.
package ratelimit
