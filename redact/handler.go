package redact

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Options configures a Handler. The zero value (or nil) redacts by the
// built-in sensitive key names and every built-in detector.
type Options struct {
	// Keys are extra attribute key names whose values are always redacted,
	// matched case-insensitively ignoring '-', '_' and '.', as substrings
	// (so "ssn" also covers "customer_ssn"). The built-in names (password,
	// secret, token, authorization, cookie, api key, credential, private key,
	// session, card, cvv) always apply.
	Keys []string
	// HashKey, when set, replaces each redacted value with a keyed hash
	// (HMAC-SHA256, first 12 hex digits) so the same value stays correlatable
	// across records without being readable. Use at least 32 random bytes and
	// keep it out of the logs' reach. Nil: values become "[REDACTED]".
	HashKey []byte
}

// The built-in sensitive key stems (normalised: lowercase, no '-', '_', '.').
var sensitiveKeys = []string{
	"password", "passwd", "passphrase", "pwd", "secret", "token", "authorization", "cookie",
	"apikey", "credential", "privatekey", "session", "cardnumber", "cvv", "cvc", "pan", "ssn", "otp",
}

// Redactor masks secrets and personal data in strings. It is safe for
// concurrent use.
type Redactor struct {
	keys    []string
	hashKey []byte

	// known caches SensitiveKey's answers: an immutable map, replaced by
	// a copy with one more key on a miss (under knownMu), so a hit is one
	// plain map lookup (a sync.Map's boxed key and trie cost twice that).
	// Keys come from requests too (header, query, form names): the map
	// stops growing at maxCachedKeys, which also bounds the copying.
	known   atomic.Pointer[map[string]bool]
	knownMu sync.Mutex
}

const maxCachedKeys = 1024

// NewRedactor returns a Redactor with the given options (nil: defaults).
func NewRedactor(opts *Options) *Redactor {
	r := &Redactor{keys: sensitiveKeys}
	if opts != nil {
		for _, k := range opts.Keys {
			if n := normKey(k); n != "" {
				r.keys = append(r.keys[:len(r.keys):len(r.keys)], n)
			}
		}
		r.hashKey = append([]byte(nil), opts.HashKey...)
	}
	return r
}

func normKey(k string) string {
	var b strings.Builder
	for i := 0; i < len(k); i++ {
		c := lower[k[i]]
		if c == '-' || c == '_' || c == '.' || c == ' ' {
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// SensitiveKey reports whether values under this attribute, header, query or
// form key are redacted whole.
func (r *Redactor) SensitiveKey(key string) bool {
	known := r.known.Load()
	if known != nil {
		if v, ok := (*known)[key]; ok {
			return v
		}
		if len(*known) >= maxCachedKeys {
			return r.sensitiveKey(key)
		}
	}
	res := r.sensitiveKey(key)
	r.remember(key, res)
	return res
}

// remember adds key's answer to the known keys, unless they are full.
func (r *Redactor) remember(key string, sensitive bool) {
	r.knownMu.Lock()
	defer r.knownMu.Unlock()
	var next map[string]bool
	if old := r.known.Load(); old != nil {
		if _, ok := (*old)[key]; ok || len(*old) >= maxCachedKeys {
			return
		}
		next = make(map[string]bool, len(*old)+1)
		for k, v := range *old {
			next[k] = v
		}
	} else {
		next = make(map[string]bool, 1)
	}
	next[strings.Clone(key)] = sensitive // key may be cut from a larger string: keep only its bytes
	r.known.Store(&next)
}

func (r *Redactor) sensitiveKey(key string) bool {
	// lowercase without allocation: lowercase into a stack buffer
	var buf [64]byte
	n := 0
	for i := 0; i < len(key) && n < len(buf); i++ {
		c := lower[key[i]]
		if c == '-' || c == '_' || c == '.' || c == ' ' {
			continue
		}
		buf[n] = c
		n++
	}
	k := buf[:n]
	for _, s := range r.keys {
		if len(s) <= n && containsBytes(k, s) {
			if s == "pan" && string(k) != "pan" { // "pan" only as a whole key: not "company"
				continue
			}
			if s == "otp" && string(k) != "otp" {
				continue
			}
			return true
		}
	}
	return false
}

func containsBytes(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		if string(b[i:i+len(s)]) == s {
			return true
		}
	}
	return false
}

// replacement is what a whole redacted value becomes.
func (r *Redactor) replacement(v string) string {
	if r.hashKey == nil {
		return "[REDACTED]"
	}
	return "[REDACTED:" + r.hash(v) + "]"
}

func (r *Redactor) hash(v string) string {
	m := hmac.New(sha256.New, r.hashKey)
	m.Write([]byte(v))
	return "hmac:" + hex.EncodeToString(m.Sum(nil))[:12]
}

// String masks every detected span of s: the span, not the whole string,
// is replaced ("[REDACTED:github-token]"); an email keeps its domain
// ("***@example.com"). Strings without a detection are returned unchanged.
func (r *Redactor) String(s string) string {
	mask := candidates(s)
	if mask == 0 {
		return s
	}
	spans := find(s, mask)
	if len(spans) == 0 {
		return s
	}
	var b strings.Builder
	last := 0
	for _, sp := range spans {
		if sp.start < last { // overlapping: extend
			if sp.end > last {
				last = sp.end
			}
			continue
		}
		b.WriteString(s[last:sp.start])
		v := s[sp.start:sp.end]
		switch {
		case sp.det.Name == "email" && r.hashKey != nil:
			b.WriteString(r.hash(v))
		case sp.det.Name == "email":
			b.WriteString("***")
		case r.hashKey != nil:
			b.WriteString("[REDACTED:" + sp.det.Name + ":" + r.hash(v) + "]")
		default:
			b.WriteString("[REDACTED:" + sp.det.Name + "]")
		}
		last = sp.end
	}
	b.WriteString(s[last:])
	return b.String()
}

// URL returns u as a string with the userinfo password removed, sensitive
// query parameters redacted and detections in the rest masked.
func (r *Redactor) URL(u *url.URL) string {
	if u == nil {
		return "<nil>"
	}
	c := *u
	if c.User != nil {
		if _, ok := c.User.Password(); ok {
			c.User = url.UserPassword(r.String(c.User.Username()), "[REDACTED]")
		} else {
			c.User = url.User(r.String(c.User.Username()))
		}
	}
	if c.RawQuery != "" {
		q, err := url.ParseQuery(c.RawQuery)
		if err != nil {
			c.RawQuery = "[REDACTED-UNPARSEABLE-QUERY]"
		} else {
			for k, vs := range q {
				for i, v := range vs {
					if r.SensitiveKey(k) {
						vs[i] = r.replacement(v)
					} else {
						vs[i] = r.String(v)
					}
				}
			}
			c.RawQuery = q.Encode()
		}
	}
	c.Fragment, c.RawFragment = "", ""
	return r.String(c.String())
}

// Header returns the header as a group of attributes: sensitive header values
// (Authorization, Cookie, Set-Cookie, API keys, tokens) redacted whole, the
// rest with detections masked.
func (r *Redactor) Header(h http.Header) slog.Value {
	attrs := make([]slog.Attr, 0, len(h))
	for k, vs := range h {
		v := strings.Join(vs, ", ")
		if r.SensitiveKey(k) || strings.EqualFold(k, "Proxy-Authorization") || strings.EqualFold(k, "X-Api-Key") {
			v = r.replacement(v)
		} else {
			v = r.String(v)
		}
		attrs = append(attrs, slog.String(k, v))
	}
	return slog.GroupValue(attrs...)
}

// Attr redacts one attribute: by key name, then by value, through groups,
// LogValuer results, errors, http.Header, *url.URL, fmt.Stringer and any
// other value (formatted with %+v, which also exposes struct fields).
func (r *Redactor) Attr(a slog.Attr) slog.Attr {
	out, _ := r.attr(a)
	return out
}

// attr redacts a and reports whether anything may have changed.
func (r *Redactor) attr(a slog.Attr) (slog.Attr, bool) {
	v := a.Value
	switch v.Kind() {
	case slog.KindBool, slog.KindFloat64, slog.KindTime, slog.KindDuration:
		if !r.SensitiveKey(a.Key) {
			return a, false
		}
	case slog.KindInt64, slog.KindUint64:
		if !r.SensitiveKey(a.Key) {
			if nv := r.value(v, a.Key); nv.Kind() != v.Kind() {
				return slog.Attr{Key: a.Key, Value: nv}, true
			}
			return a, false
		}
	case slog.KindString:
		if !r.SensitiveKey(a.Key) {
			s := v.String()
			if t := r.String(s); t != s {
				return slog.String(a.Key, t), true
			}
			return a, false
		}
	}
	if v.Kind() == slog.KindLogValuer {
		v = v.Resolve()
	}
	if v.Kind() != slog.KindGroup && r.SensitiveKey(a.Key) {
		return slog.String(a.Key, r.replacement(valueString(v))), true
	}
	return slog.Attr{Key: a.Key, Value: r.value(v, a.Key)}, true
}

func valueString(v slog.Value) string {
	if v.Kind() == slog.KindAny {
		return fmt.Sprintf("%+v", v.Any())
	}
	return v.String()
}

func (r *Redactor) value(v slog.Value, key string) slog.Value {
	switch v.Kind() {
	case slog.KindString:
		s := v.String()
		if t := r.String(s); t != s {
			return slog.StringValue(t)
		}
		return v
	case slog.KindInt64:
		if n := v.Int64(); n > 999_999_999_999 || n < -999_999_999_999 {
			if s := strconv.FormatInt(n, 10); r.String(s) != s {
				return slog.StringValue(r.String(s))
			}
		}
		return v
	case slog.KindUint64:
		if n := v.Uint64(); n > 999_999_999_999 {
			if s := strconv.FormatUint(n, 10); r.String(s) != s {
				return slog.StringValue(r.String(s))
			}
		}
		return v
	case slog.KindGroup:
		as := v.Group()
		if r.SensitiveKey(key) {
			out := make([]slog.Attr, len(as))
			for i, a := range as {
				out[i] = slog.String(a.Key, r.replacement(valueString(a.Value.Resolve())))
			}
			return slog.GroupValue(out...)
		}
		out := make([]slog.Attr, len(as))
		for i, a := range as {
			out[i] = r.Attr(a)
		}
		return slog.GroupValue(out...)
	case slog.KindAny:
		return r.anyValue(v.Any())
	}
	return v // bool, float, time, duration
}

func (r *Redactor) anyValue(x any) slog.Value {
	switch t := x.(type) {
	case nil:
		return slog.AnyValue(nil)
	case http.Header:
		return r.Header(t)
	case *url.URL:
		return slog.StringValue(r.URL(t))
	case url.URL:
		return slog.StringValue(r.URL(&t))
	case url.Values:
		attrs := make([]slog.Attr, 0, len(t))
		for k, vs := range t {
			s := strings.Join(vs, ", ")
			if r.SensitiveKey(k) {
				s = r.replacement(s)
			} else {
				s = r.String(s)
			}
			attrs = append(attrs, slog.String(k, s))
		}
		return slog.GroupValue(attrs...)
	case *http.Request:
		return slog.GroupValue(slog.String("method", t.Method), slog.String("url", r.URL(t.URL)))
	case *http.Cookie:
		return slog.StringValue(t.Name + "=" + r.replacement(t.Value))
	case error:
		return slog.StringValue(r.String(errorString(t)))
	case fmt.Stringer:
		return slog.StringValue(r.String(safeSprint(t)))
	case []byte:
		return slog.StringValue(r.String(string(t)))
	}
	// Structs, maps, slices: the JSON or text handler would print their
	// fields; we print them ourselves and mask what the detectors (including
	// "Password:value" assignments) find.
	return slog.StringValue(r.String(safeSprint(x)))
}

func errorString(err error) (s string) {
	defer func() {
		if recover() != nil {
			s = "!PANIC in Error()"
		}
	}()
	s = err.Error()
	// wrapped errors are part of the message already; a joined tree too
	var j interface{ Unwrap() []error }
	if errors.As(err, &j) {
		return s
	}
	return s
}

func safeSprint(x any) (s string) {
	defer func() {
		if recover() != nil {
			s = "!PANIC in String()"
		}
	}()
	return fmt.Sprintf("%+v", x)
}

// Handler is a slog.Handler that redacts every record before passing it to
// the next handler: the message, each attribute by key name and by value,
// through groups, WithAttrs, LogValuer results, errors, http.Header,
// *url.URL, fmt.Stringer and any other value. Only the matched span of a
// value is masked, so the log line stays useful.
type Handler struct {
	next slog.Handler
	r    *Redactor
	// inSensitive is set below WithGroup of a sensitive name ("credentials"):
	// every attribute is then redacted whole.
	inSensitive bool
}

// NewHandler wraps next. Nil opts means the defaults.
func NewHandler(next slog.Handler, opts *Options) *Handler {
	if next == nil {
		next = slog.DiscardHandler
	}
	return &Handler{next: next, r: NewRedactor(opts)}
}

// Redactor returns the redactor the handler uses.
func (h *Handler) Redactor() *Redactor { return h.r }

// Unwrap returns the next handler.
func (h *Handler) Unwrap() slog.Handler { return h.next }

// HashesValues reports whether redacted values are replaced by keyed hashes.
func (h *Handler) HashesValues() bool { return h.r.hashKey != nil }

// Enabled reports whether the next handler handles records at level.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle redacts the record and passes a copy to the next handler.
func (h *Handler) Handle(ctx context.Context, rec slog.Record) error {
	msg := h.r.String(rec.Message)
	changed := msg != rec.Message || (h.inSensitive && rec.NumAttrs() > 0)
	if !changed { // the common case: nothing to redact, pass the record on
		rec.Attrs(func(a slog.Attr) bool {
			_, changed = h.r.attr(a)
			return !changed
		})
		if !changed {
			return h.next.Handle(ctx, rec)
		}
	}
	out := slog.NewRecord(rec.Time, rec.Level, msg, rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(h.attr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

// WithAttrs redacts the attributes once and passes them on.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	red := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		red[i] = h.attr(a)
	}
	return &Handler{next: h.next.WithAttrs(red), r: h.r, inSensitive: h.inSensitive}
}

func (h *Handler) attr(a slog.Attr) slog.Attr {
	if h.inSensitive {
		return h.r.Attr(slog.Attr{Key: "secret", Value: slog.GroupValue(a)}).Value.Group()[0]
	}
	return h.r.Attr(a)
}

// WithGroup passes the group on; attributes inside it are redacted as usual.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name), r: h.r, inSensitive: h.inSensitive || h.r.SensitiveKey(name)}
}
