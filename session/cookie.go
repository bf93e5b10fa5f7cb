package session

import "strings"

// maxCookies is net/http's default limit on the cookies of a request
// (GODEBUG httpcookiemaxnum): above it, Request.Cookie finds none, and so
// does cookieValue.
const maxCookies = 3000

// cookieValue returns the value of the first cookie called name in the
// request's Cookie header lines, as Request.Cookie(name).Value would, but
// without allocating: Request.Cookie parses every cookie of the request
// into a new *http.Cookie. The value is a substring of the header.
// name must be a valid cookie name (Config.validate checks it).
func cookieValue(lines []string, name string) string {
	if len(lines) == 0 {
		return ""
	}
	// A line holds at most one cookie per byte, and one when empty: only
	// lines that long can hold more than maxCookies, so only they are
	// counted.
	size := len(lines)
	for _, line := range lines {
		size += len(line)
	}
	if size > maxCookies {
		n := 0
		for _, line := range lines {
			n += strings.Count(line, ";") + 1
		}
		if n > maxCookies {
			return ""
		}
	}
	for _, line := range lines {
		line = trimSpace(line)
		var part string
		for len(line) > 0 {
			part, line, _ = strings.Cut(line, ";")
			k, v, _ := strings.Cut(trimSpace(part), "=")
			if trimSpace(k) != name {
				continue
			}
			if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			if validCookieValue(v) {
				return v
			}
		}
	}
	return ""
}

// trimSpace is textproto.TrimString: ASCII space, tab, CR and LF only.
func trimSpace(s string) string {
	for len(s) > 0 && isSpace(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isSpace(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// validCookieValue reports whether net/http accepts v as a cookie value.
func validCookieValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if !cookieValueByte[v[i]] {
			return false
		}
	}
	return true
}

// cookieValueByte marks the bytes net/http accepts in a cookie value:
// printable ASCII but '"', ';' and '\\'.
var cookieValueByte = func() (t [256]bool) {
	for b := 0x20; b < 0x7f; b++ {
		t[b] = true
	}
	t['"'], t[';'], t['\\'] = false, false, false
	return t
}()
