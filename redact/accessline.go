package redact

import (
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// The access log's own line writer (NewAccessLogWriter). A slog record
// costs the access log about 5 µs in the kit's chain: the record and its
// attribute slice, the redacting handler's walk over the attributes (key
// lookups, a copy of the record) and the JSON handler's generic encoding.
// The access log's fields are fixed, so the line is built directly: the
// constant parts (keys, level, message) are redacted and encoded once at
// construction, each request appends only its values — each string through
// the Redactor, which returns it untouched (without allocating) when the
// prefilter finds no candidate — to a pooled buffer, and the line goes out
// in one Write. Values that recur on every request are encoded once: the
// standard methods are known clean, route patterns (a small set from the
// app's route table) and the current second's date and time are cached.

// The fields of a line after time, level and msg, in the order the slog
// path logs them.
const (
	fieldMethod = iota
	fieldRoute
	fieldStatus
	fieldDuration
	fieldBytes
	fieldClientIP
	fieldPrincipal
	fieldTenant
	fieldRequestID
	numFields
)

var fieldNames = [numFields]string{"method", "route", "status", "duration", "bytes", "client_ip", "principal", "tenant", "request_id"}

// lineFormat writes access-log lines for one AccessLog.
type lineFormat struct {
	w io.Writer
	r *Redactor
	// head follows the time: `","level":"INFO","msg":"…"`, the message
	// redacted and escaped.
	head string
	// keys are `,"method":` and so on.
	keys [numFields]string
	// sensitive marks the fields whose values r redacts whole by key name
	// (none with the built-in names; Options.Keys may add some).
	sensitive [numFields]bool

	// routes maps route patterns the Redactor left unchanged to their
	// encoded field (`,"route":"…"`); copied on write, at most
	// maxCachedRoutes entries. Patterns with a detection are encoded anew
	// each time, so no detected secret is kept here.
	routes atomic.Pointer[map[string]string]
	// second is the date and time of the last second a line was written in.
	second atomic.Pointer[formattedSecond]
}

// maxCachedRoutes bounds the route cache; a route inventory that reports
// raw paths instead of patterns fills it once and then goes uncached.
const maxCachedRoutes = 512

// formattedSecond is a Unix second and its "2006-01-02T15:04:05" in UTC.
type formattedSecond struct {
	unix int64
	text string
}

func newLineFormat(w io.Writer, r *Redactor, msg string) *lineFormat {
	l := &lineFormat{w: w, r: r}
	l.head = string(appendJSONString([]byte(`","level":"INFO","msg":`), r.String(msg)))
	for i, name := range fieldNames {
		l.keys[i] = `,` + string(appendJSONString(nil, name)) + `:`
		l.sensitive[i] = r.SensitiveKey(name)
	}
	return l
}

// linePool holds line buffers; a line is some 250 bytes.
var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// maxPooledLine keeps the buffers of rare huge lines (a long request ID)
// out of the pool.
const maxPooledLine = 16 << 10

// write writes e's line with the time end.
func (l *lineFormat) write(end time.Time, e *entry) {
	bp := linePool.Get().(*[]byte)
	b := append((*bp)[:0], `{"time":"`...)
	b = l.appendTime(b, end)
	b = append(b, l.head...)
	b = l.appendMethod(b, e.method)
	b = l.appendRoute(b, e.route)
	b = l.appendInt(b, fieldStatus, int64(e.status))
	b = append(b, l.keys[fieldDuration]...)
	if l.sensitive[fieldDuration] {
		b = appendJSONString(b, l.r.replacement(e.duration.String()))
	} else {
		b = strconv.AppendInt(b, int64(e.duration), 10) // as slog and encoding/json: nanoseconds
	}
	b = l.appendInt(b, fieldBytes, e.bytes)
	b = l.appendString(b, fieldClientIP, e.clientIP)
	if e.principal != "" {
		b = l.appendString(b, fieldPrincipal, e.principal)
		b = l.appendString(b, fieldTenant, e.tenant)
	}
	if e.hasRequestID {
		b = l.appendString(b, fieldRequestID, e.requestID)
	}
	b = append(b, '}', '\n')
	_, _ = l.w.Write(b)
	if cap(b) <= maxPooledLine {
		*bp = b
		linePool.Put(bp)
	}
}

// appendString appends the field's key and its value, redacted as
// Handler redacts a string attribute: whole under a sensitive key, else
// span by span.
func (l *lineFormat) appendString(b []byte, f int, s string) []byte {
	b = append(b, l.keys[f]...)
	if l.sensitive[f] {
		return appendJSONString(b, l.r.replacement(s))
	}
	return appendJSONString(b, l.r.String(s))
}

// appendMethod appends the method field. The standard methods hold
// nothing to redact or escape; any other token goes the long way.
func (l *lineFormat) appendMethod(b []byte, m string) []byte {
	if !l.sensitive[fieldMethod] {
		switch m {
		case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE":
			b = append(b, l.keys[fieldMethod]...)
			b = append(b, '"')
			b = append(b, m...)
			return append(b, '"')
		}
	}
	return l.appendString(b, fieldMethod, m)
}

// appendRoute appends the route field, from the cache when the pattern
// has been seen.
func (l *lineFormat) appendRoute(b []byte, route string) []byte {
	if l.sensitive[fieldRoute] {
		return l.appendString(b, fieldRoute, route)
	}
	if m := l.routes.Load(); m != nil {
		if enc, ok := (*m)[route]; ok {
			return append(b, enc...)
		}
	}
	start := len(b)
	red := l.r.String(route)
	b = append(b, l.keys[fieldRoute]...)
	b = appendJSONString(b, red)
	if red == route && len(route) <= 256 {
		l.rememberRoute(route, string(b[start:]))
	}
	return b
}

func (l *lineFormat) rememberRoute(route, enc string) {
	for {
		old := l.routes.Load()
		var m map[string]string
		if old == nil {
			m = map[string]string{route: enc}
		} else {
			if len(*old) >= maxCachedRoutes {
				return
			}
			m = make(map[string]string, len(*old)+1)
			for k, v := range *old {
				m[k] = v
			}
			m[route] = enc
		}
		if l.routes.CompareAndSwap(old, &m) {
			return
		}
	}
}

// appendTime appends t as appendTimeMillis does, the date and time from
// the cache while the second lasts.
func (l *lineFormat) appendTime(b []byte, t time.Time) []byte {
	sec, ms := t.Unix(), t.Nanosecond()/1e6
	if s := l.second.Load(); s != nil && s.unix == sec {
		b = append(b, s.text...)
		return append(b, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
	}
	start := len(b)
	b = appendTimeMillis(b, t)
	if len(b)-start == len("2006-01-02T15:04:05.000Z") {
		l.second.Store(&formattedSecond{unix: sec, text: string(b[start : start+len("2006-01-02T15:04:05")])})
	}
	return b
}

// appendInt appends the field's key and its value, redacted as Handler
// redacts an integer attribute: whole under a sensitive key, and a number
// long enough to be a card number is checked as one.
func (l *lineFormat) appendInt(b []byte, f int, n int64) []byte {
	b = append(b, l.keys[f]...)
	if l.sensitive[f] {
		return appendJSONString(b, l.r.replacement(strconv.FormatInt(n, 10)))
	}
	switch {
	case n >= 0 && n < 1000: // a status code, a small body
		if n >= 100 {
			b = append(b, byte('0'+n/100))
		}
		if n >= 10 {
			b = append(b, byte('0'+n/10%10))
		}
		return append(b, byte('0'+n%10))
	case n > 999_999_999_999 || n < -999_999_999_999:
		if s := strconv.FormatInt(n, 10); l.r.String(s) != s {
			return appendJSONString(b, l.r.String(s))
		}
	}
	return strconv.AppendInt(b, n, 10)
}

// appendTimeMillis appends t in UTC as RFC 3339 with exactly three
// fractional digits: 2006-01-02T15:04:05.000Z.
func appendTimeMillis(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 { // not four digits: let time format it
		return t.AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	}
	hour, min, sec := t.Clock()
	ms := t.Nanosecond() / 1e6
	return append(b,
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+int(month)/10), byte('0'+int(month)%10), '-',
		byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':',
		byte('0'+min/10), byte('0'+min%10), ':',
		byte('0'+sec/10), byte('0'+sec%10), '.',
		byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
}

// jsonSafe reports the ASCII bytes a JSON string holds unescaped: those of
// encoding/json's HTML-safe set, so no control character, '"', '\\', '<',
// '>' or '&'.
// Bytes from utf8.RuneSelf on are not safe either: they are checked as UTF-8.
var jsonSafe = func() (t [256]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = true
	}
	t['"'], t['\\'], t['<'], t['>'], t['&'] = false, false, false, false, false
	return t
}()

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a quoted JSON string, escaped as
// encoding/json escapes it (HTML-safe): control characters as \n, \r, \t,
// \b, \f or \u00XX, '"' and '\\' with a backslash, '<', '>' and '&' as
// \u003c, \u003e, \u0026, U+2028 and U+2029 as \u2028 and \u2029, and each
// byte of invalid UTF-8 as \ufffd. Decoding the result gives s with invalid
// bytes replaced by U+FFFD, as ranging over s does.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if jsonSafe[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
