package ratelimit

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"sync/atomic"
	"time"
)

// ErrLimited is the reason of a Rejection when a budget is exhausted.
var ErrLimited = errors.New("ratelimit: limit exceeded")

// ErrStore wraps a store error in a Rejection of a fail-closed limit.
var ErrStore = errors.New("ratelimit: limit store unavailable")

// Config configures a Limiter. The zero value is valid and hardened: no
// trusted proxies (RemoteAddr only), an in-memory store of at most 100,000
// keys, auth limits failing closed, problem+json rejections.
type Config struct {
	// Store keeps the buckets. Nil means a new in-memory store with
	// MaxKeys. Use ratelimit/redisstore when more than one replica serves.
	Store Store
	// MaxKeys caps the in-memory store created when Store is nil (default
	// 100,000, about 30 MB of heap when full). Ignored with an explicit Store.
	MaxKeys int
	// TrustedProxies, ForwardedHeader and IPv6PrefixBits configure client
	// address extraction; see IPConfig. Empty TrustedProxies (the default)
	// means RemoteAddr only.
	TrustedProxies  []string
	ForwardedHeader string
	IPv6PrefixBits  int
	// InsecureTrustAnyPeer reads the forwarding header from any peer; see
	// IPConfig.InsecureTrustAnyPeer (readiness RATE005).
	InsecureTrustAnyPeer bool
	// FailMode applies when the store fails. FailDefault (the zero value)
	// fails closed on auth limits and open on the others.
	FailMode FailMode
	// Reject writes the response for a refused request, after the
	// Retry-After and RateLimit headers are set. Nil writes RFC 9457
	// problem+json (429, 503 for a store failure, 400 for an undeterminable
	// client address) without echoing anything from the request.
	Reject func(w http.ResponseWriter, r *http.Request, rej *Rejection)
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
	// Logger records store failures. Nil discards.
	Logger *slog.Logger
	// DeviceKey signs the device cookies of Failures (at least 32 bytes).
	// Nil means a random key per Limiter: set one shared key when more
	// than one replica serves, or devices are known to one replica only.
	DeviceKey []byte
	// InsecureDeviceCookieHTTP names the device cookie "lr-device" without
	// Secure, for development over plain HTTP. The default is
	// "__Host-lr-device", Secure.
	InsecureDeviceCookieHTTP bool
}

// Rejection describes why a request was refused.
type Rejection struct {
	// Status is the HTTP status the default handler writes.
	Status int
	// Reason is ErrLimited, or wraps ErrStore or ErrClientIP.
	Reason error
	// Kind is the refusing limit's kind; Policy its policy.
	Kind   Kind
	Policy Policy
	// RetryAfter is the exact wait (0 when unknown).
	RetryAfter time.Duration
}

// Limiter builds limit handlers that share one store, clock, client-address
// resolver and rejection handler.
type Limiter struct {
	store  Store
	ip     *IPResolver
	fail   FailMode
	reject func(http.ResponseWriter, *http.Request, *Rejection)
	now    func() time.Time
	log    *slog.Logger

	deviceKey          []byte
	deviceKeySet       bool // Config.DeviceKey was given (shared across replicas)
	insecureDeviceHTTP bool

	// The fast path: the memory store called directly, on the monotonic
	// clock in nanoseconds, without building a time.Time per decision.
	mem     *MemoryStore
	mono    bool
	epoch   time.Time // wall time at construction, with its monotonic reading
	epochNS int64
}

// New validates c and returns a Limiter.
func New(c Config) (*Limiter, error) {
	ip, err := NewIPResolver(IPConfig{TrustedProxies: c.TrustedProxies, Header: c.ForwardedHeader, IPv6PrefixBits: c.IPv6PrefixBits, InsecureTrustAnyPeer: c.InsecureTrustAnyPeer})
	if err != nil {
		return nil, fmt.Errorf("%w (Config.TrustedProxies/ForwardedHeader/IPv6PrefixBits)", err)
	}
	if c.FailMode < FailDefault || c.FailMode > FailOpen {
		return nil, fmt.Errorf("ratelimit: Config.FailMode is %d; use FailDefault, FailClosed or FailOpen", int(c.FailMode))
	}
	l := &Limiter{store: c.Store, ip: ip, fail: c.FailMode, reject: c.Reject, now: c.Now, log: c.Logger,
		deviceKey: c.DeviceKey, deviceKeySet: c.DeviceKey != nil, insecureDeviceHTTP: c.InsecureDeviceCookieHTTP}
	if l.deviceKey == nil {
		l.deviceKey = make([]byte, 32)
		_, _ = rand.Read(l.deviceKey)
	} else if len(l.deviceKey) < 32 {
		return nil, fmt.Errorf("ratelimit: Config.DeviceKey has %d bytes; use at least 32 random bytes, or nil for a random key", len(c.DeviceKey))
	}
	if l.store == nil {
		if c.MaxKeys < 0 {
			return nil, fmt.Errorf("ratelimit: Config.MaxKeys is %d; use a positive cap or 0 for the default 100,000", c.MaxKeys)
		}
		l.store, _ = NewMemoryStore(MemoryConfig{MaxKeys: c.MaxKeys})
	}
	if l.reject == nil {
		l.reject = WriteProblem
	}
	if l.now == nil {
		l.now = time.Now
		if !l.store.Shared() {
			l.mono, l.epoch = true, time.Now()
			l.epochNS = l.epoch.UnixNano()
			l.now = func() time.Time { return time.Unix(0, l.nowNS()) }
		}
	}
	l.mem, _ = l.store.(*MemoryStore)
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	return l, nil
}

// Store returns the limiter's store.
func (l *Limiter) Store() Store { return l.store }

// IPResolver returns the limiter's client-address resolver.
func (l *Limiter) IPResolver() *IPResolver { return l.ip }

// By says what a limit is keyed by. Build one with ByIP, ByAccount,
// ByPrincipal or ByRoute.
type By struct {
	kind KeyKind
	fn   func(*http.Request) string
}

// Kind is the key kind.
func (b By) Kind() KeyKind { return b.kind }

// ByIP keys by the client address (see IPResolver).
func ByIP() By { return By{kind: KeyIP} }

// ByAccount keys by the account name the client submitted, read by the
// app's function (a form value, or a field the app decoded earlier). Names
// are made canonical by AccountKey (trimmed, NFKC, Unicode case folding,
// cut at 256 bytes), so "Alice ", "alice" and "ａlice" share a bucket; the
// app's account lookup must match by the same AccountKey. Unknown accounts are limited like known ones, so the
// limit reveals nothing about which accounts exist.
func ByAccount(account func(*http.Request) string) By { return By{kind: KeyAccount, fn: account} }

// ByPrincipal keys by the authenticated principal's ID, returned by the
// app's function ("" for anonymous requests, which then share one bucket).
func ByPrincipal(principal func(*http.Request) string) By {
	return By{kind: KeyPrincipal, fn: principal}
}

// ByRoute keys by the matched route pattern (r.Pattern): one budget for the
// route as a whole, whoever calls it.
func ByRoute() By { return By{kind: KeyRoute} }

const maxNameLen = 256

// Login limits login attempts with LoginPolicy, keyed by every given key
// (ByIP and ByAccount together is the usual choice).
func (l *Limiter) Login(next http.Handler, by By, more ...By) *Handler {
	return l.handler(KindLogin, LoginPolicy, next, by, more)
}

// PasswordReset limits password-reset requests with PasswordResetPolicy.
func (l *Limiter) PasswordReset(next http.Handler, by By, more ...By) *Handler {
	return l.handler(KindPasswordReset, PasswordResetPolicy, next, by, more)
}

// PasswordResetConfirm limits the submission of password-reset tokens with
// PasswordResetConfirmPolicy, a bucket distinct from PasswordReset's.
func (l *Limiter) PasswordResetConfirm(next http.Handler, by By, more ...By) *Handler {
	return l.handler(KindPasswordResetConfirm, PasswordResetConfirmPolicy, next, by, more)
}

// Upload limits uploads with UploadPolicy.
func (l *Limiter) Upload(next http.Handler, by By, more ...By) *Handler {
	return l.handler(KindUpload, UploadPolicy, next, by, more)
}

// Export limits exports with ExportPolicy.
func (l *Limiter) Export(next http.Handler, by By, more ...By) *Handler {
	return l.handler(KindExport, ExportPolicy, next, by, more)
}

// Limit limits next with a policy of the app's own. kind may be a preset
// kind with a stricter (or, reported by readiness, looser) policy, or
// KindCustom. It panics on an invalid policy: policies are code, not input.
func (l *Limiter) Limit(kind Kind, p Policy, next http.Handler, by By, more ...By) *Handler {
	if err := p.validate("Policy"); err != nil {
		panic(err)
	}
	return l.handler(kind, p, next, by, more)
}

func (l *Limiter) handler(kind Kind, p Policy, next http.Handler, by By, more []By) *Handler {
	keys := append([]By{by}, more...)
	for _, b := range keys {
		if b.kind < KeyIP || b.kind > KeyRoute || (b.kind == KeyAccount || b.kind == KeyPrincipal) && b.fn == nil {
			panic("ratelimit: a By value must come from ByIP, ByAccount(fn), ByPrincipal(fn) or ByRoute with a non-nil fn")
		}
	}
	if next == nil {
		panic("ratelimit: nil next handler")
	}
	h := &Handler{l: l, kind: kind, policy: p, keys: keys, next: next, fail: l.fail.effective(kind)}
	h.policyHeader = newHeaderSet(p)
	return h
}

// Handler is one limit in front of a handler. It is walkable: Unwrap and
// the accessors report its effective settings to readiness.
type Handler struct {
	l            *Limiter
	kind         Kind
	policy       Policy
	keys         []By
	next         http.Handler
	fail         FailMode
	policyHeader *headerSet
	failures     bool
}

// Unwrap returns the limited handler.
func (h *Handler) Unwrap() http.Handler { return h.next }

// Kind says what the limit protects.
func (h *Handler) Kind() Kind { return h.kind }

// Policy returns the limit's rate, burst and name.
func (h *Handler) Policy() Policy { return h.policy }

// KeyKinds lists what the limit is keyed by.
func (h *Handler) KeyKinds() []KeyKind {
	out := make([]KeyKind, len(h.keys))
	for i, b := range h.keys {
		out[i] = b.kind
	}
	return out
}

// DeviceKeyConfigured reports whether the device cookies of Failures are
// signed with Config.DeviceKey (one key every replica shares) rather than
// a random key of this process (readiness RATE012 with several replicas).
func (h *Handler) DeviceKeyConfigured() bool { return h.l.deviceKeySet }

// FailMode is the effective fail mode (never FailDefault).
func (h *Handler) FailMode() FailMode { return h.fail }

// StoreShared reports whether the store is shared across replicas.
func (h *Handler) StoreShared() bool { return h.l.store.Shared() }

// StoreKind names the store's type ("memory" for the in-memory store).
func (h *Handler) StoreKind() string {
	if _, ok := h.l.store.(*MemoryStore); ok {
		return "memory"
	}
	return fmt.Sprintf("%T", h.l.store)
}

// TrustedProxies returns the proxies whose forwarding headers are believed.
func (h *Handler) TrustedProxies() []netip.Prefix { return h.l.ip.TrustedProxies() }

// TrustsAnyPeer reports whether forwarding headers are believed from any
// peer (Config.InsecureTrustAnyPeer).
func (h *Handler) TrustsAnyPeer() bool { return h.l.ip.TrustsAnyPeer() }

// ForwardedHeader returns the forwarding header read from trusted proxies.
func (h *Handler) ForwardedHeader() string { return h.l.ip.Header() }

// key builds the bucket key of r for b.
func (h *Handler) key(r *http.Request, b By) (Key, error) {
	switch b.kind {
	case KeyIP:
		a, err := h.l.ip.Key(r)
		return Key{Kind: KeyIP, Addr: a}, err
	case KeyAccount:
		return Key{Kind: KeyAccount, Name: AccountKey(b.fn(r))}, nil
	case KeyPrincipal:
		n := b.fn(r)
		if len(n) > maxNameLen {
			n = n[:maxNameLen]
		}
		return Key{Kind: KeyPrincipal, Name: n}, nil
	default:
		return Key{Kind: KeyRoute, Name: r.Pattern}, nil
	}
}

// Check decides r at the limiter's clock: nil when it may pass, or a
// *Rejection. Each key's bucket is charged; see CheckAt.
func (h *Handler) Check(r *http.Request) (Decision, *Rejection) {
	return h.check(r, h.l.nowNS())
}

// CheckAt decides r at now. With several keys every bucket must allow; the
// returned Decision is the tightest one (fewest remaining / longest wait).
// Buckets charged before a later key refuses stay charged: an attacker
// cannot probe one key for free by exhausting another.
func (h *Handler) CheckAt(r *http.Request, now time.Time) (Decision, *Rejection) {
	return h.check(r, now.UnixNano())
}

func (h *Handler) check(r *http.Request, now int64) (Decision, *Rejection) {
	var out Decision
	out.Allowed = true
	out.Remaining = h.policy.Burst
	for _, b := range h.keys {
		k, err := h.key(r, b)
		if err != nil {
			return Decision{}, &Rejection{Status: http.StatusBadRequest, Reason: err, Kind: h.kind, Policy: h.policy}
		}
		d, err := h.l.take(r.Context(), h.policy, &k, now)
		if err != nil {
			if h.fail == FailOpen {
				h.l.log.LogAttrs(r.Context(), slog.LevelWarn, "ratelimit: store failed; failing open",
					slog.String("limit", h.policy.Name), slog.String("error", err.Error()))
				continue
			}
			h.l.log.LogAttrs(r.Context(), slog.LevelError, "ratelimit: store failed; failing closed",
				slog.String("limit", h.policy.Name), slog.String("error", err.Error()))
			return Decision{}, &Rejection{Status: http.StatusServiceUnavailable, Reason: fmt.Errorf("%w: %w", ErrStore, err), Kind: h.kind, Policy: h.policy, RetryAfter: time.Second}
		}
		if !d.Allowed {
			return d, &Rejection{Status: http.StatusTooManyRequests, Reason: ErrLimited, Kind: h.kind, Policy: h.policy, RetryAfter: d.RetryAfter}
		}
		if d.Remaining < out.Remaining {
			out.Remaining = d.Remaining
		}
		if d.Reset > out.Reset {
			out.Reset = d.Reset
		}
	}
	return out, nil
}

// ServeHTTP decides r, sets RateLimit-Policy and RateLimit (and
// Retry-After when refused), and serves next or the rejection.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.failures {
		h.serveFailures(w, r)
		return
	}
	d, rej := h.Check(r)
	if rej != nil {
		h.l.writeReject(w, r, h.policy, d, rej, h.policyHeader)
		return
	}
	setRateLimitHeaders(w.Header(), h.policy, d, h.policyHeader)
	h.next.ServeHTTP(w, r)
}

func (l *Limiter) writeReject(w http.ResponseWriter, r *http.Request, p Policy, d Decision, rej *Rejection, policyHeader *headerSet) {
	hdr := w.Header()
	if rej.Status == http.StatusTooManyRequests {
		setRateLimitHeaders(hdr, p, d, policyHeader)
	}
	if rej.RetryAfter > 0 {
		hdr.Set("Retry-After", strconv.FormatInt(ceilSeconds(rej.RetryAfter), 10))
	}
	l.reject(w, r, rej)
}

// nowNS is the limiter's clock in Unix nanoseconds. The default clock of
// unshared stores is the wall time at construction advanced by the
// monotonic clock: it reads one clock instead of two (time.Now reads wall
// and monotonic) and ignores wall-clock steps, which is what a per-process
// limiter wants. Shared stores use time.Now so replicas agree.
func (l *Limiter) nowNS() int64 {
	if l.mono {
		return l.epochNS + int64(time.Since(l.epoch))
	}
	return l.now().UnixNano()
}

func ceilSeconds(d time.Duration) int64 { return int64((d + time.Second - 1) / time.Second) }

// headerSet holds a limit's RateLimit-Policy value and caches its RateLimit
// values, so that writing the headers does not allocate once warm.
type headerSet struct {
	policy []string
	name   string
	window int64 // seconds, rounded up
	slots  []atomic.Pointer[[]string]
}

// maxHeaderSlots bounds the cache: (burst+1)·(window+1) values.
const maxHeaderSlots = 4096

func newHeaderSet(p Policy) *headerSet {
	w := ceilSeconds(p.Window())
	hs := &headerSet{
		policy: []string{fmt.Sprintf("%q;q=%d;w=%d", p.Name, p.Burst, w)},
		name:   p.Name,
		window: w,
	}
	if n := (int64(p.Burst) + 1) * (w + 1); p.Burst < maxHeaderSlots && w < maxHeaderSlots && n <= maxHeaderSlots {
		hs.slots = make([]atomic.Pointer[[]string], n)
	}
	return hs
}

func (hs *headerSet) rateLimit(remaining int, reset int64) []string {
	idx := int64(-1)
	if hs.slots != nil && remaining >= 0 && reset >= 0 && reset <= hs.window && int64(remaining) < int64(len(hs.slots))/(hs.window+1) {
		idx = int64(remaining)*(hs.window+1) + reset
		if v := hs.slots[idx].Load(); v != nil {
			return *v
		}
	}
	var buf [96]byte
	b := append(buf[:0], '"')
	b = append(b, hs.name...)
	b = append(b, `";r=`...)
	b = strconv.AppendInt(b, int64(remaining), 10)
	b = append(b, ";t="...)
	b = strconv.AppendInt(b, reset, 10)
	v := []string{string(b)}
	if idx >= 0 {
		pv := new([]string)
		*pv = v
		hs.slots[idx].Store(pv)
	}
	return v
}

// setRateLimitHeaders writes the IETF draft (draft-ietf-httpapi-ratelimit-
// headers) fields: RateLimit-Policy: "login";q=10;w=300 and
// RateLimit: "login";r=3;t=12 (remaining, seconds until the budget is full).
// The values are shared, cached slices: callers must not modify them.
func setRateLimitHeaders(h http.Header, _ Policy, d Decision, hs *headerSet) {
	h["Ratelimit-Policy"] = hs.policy
	h["Ratelimit"] = hs.rateLimit(d.Remaining, ceilSeconds(d.Reset))
}

var problems = map[int]string{
	http.StatusTooManyRequests:    `{"type":"about:blank","title":"Too Many Requests","status":429,"detail":"Too many requests; retry after the number of seconds in the Retry-After header."}`,
	http.StatusServiceUnavailable: `{"type":"about:blank","title":"Service Unavailable","status":503,"detail":"The request cannot be checked against its rate limit right now; retry shortly."}`,
	http.StatusBadRequest:         `{"type":"about:blank","title":"Bad Request","status":400,"detail":"The client address could not be determined."}`,
}

// WriteProblem is the default rejection handler: an RFC 9457 problem+json
// body naming only the status, never the client's address or key.
func WriteProblem(w http.ResponseWriter, _ *http.Request, rej *Rejection) {
	body, ok := problems[rej.Status]
	if !ok {
		body = fmt.Sprintf(`{"type":"about:blank","title":%q,"status":%d}`, http.StatusText(rej.Status), rej.Status)
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(rej.Status)
	_, _ = w.Write([]byte(body))
}

// Allow decides one request outside HTTP (a job, a gRPC call) for key k
// under p at the limiter's clock. See AllowAt.
func (l *Limiter) Allow(ctx context.Context, p Policy, k Key) (Decision, error) {
	return l.take(ctx, p, &k, l.nowNS())
}

// take spends one unit of k's budget, on the memory store without the
// interface call and time.Time round trip.
func (l *Limiter) take(ctx context.Context, p Policy, k *Key, now int64) (Decision, error) {
	if l.mem != nil {
		return l.mem.take(&p, k, 1, now), nil
	}
	return l.store.Take(ctx, p, *k, 1, time.Unix(0, now))
}

// AllowAt decides one request for key k under p at now.
func (l *Limiter) AllowAt(ctx context.Context, p Policy, k Key, now time.Time) (Decision, error) {
	return l.store.Take(ctx, p, k, 1, now)
}
