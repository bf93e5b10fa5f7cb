package authz

import (
	"errors"
	"net/http"
)

// Errors of the path firewall. CheckRequest returns them; the Mux answers
// 400 (405 for ErrMethod) through the Deny function.
var (
	ErrEncodedPath    = errors.New("authz: encoded '/', '.', '\\', '%', ';' or control character, or a malformed escape, in the request path")
	ErrPathCharacter  = errors.New("authz: ';', '\\' or a control character in the request path")
	ErrMethod         = errors.New("authz: method CONNECT or TRACE refused")
	ErrMethodOverride = errors.New("authz: method override header refused")
)

// methodOverrideHeaders are honoured by some frameworks and proxies to turn
// a POST into a DELETE or a GET into a PUT; the Mux decides on the real
// method, so a request carrying one is refused rather than trusted.
var methodOverrideHeaders = []string{"X-Http-Method-Override", "X-Http-Method", "X-Method-Override"}

// CheckRequest is the path firewall the Mux runs before routing. It refuses:
//
//   - CONNECT and TRACE;
//   - X-HTTP-Method-Override, X-HTTP-Method and X-Method-Override headers;
//   - in the escaped path, percent-encoded '/', '.', '\', '%', ';', NUL
//     and other control characters, and malformed escapes (ServeMux does not treat "%2F" as a separator: "/files/..%2Fadmin"
//     matches "/files/{name}" with the value "../admin"), and ';', '\' and
//     control characters (matrix parameters and Windows separators that
//     other layers may interpret differently).
//
// Encoded letters ("/%61dmin") are allowed: they decode to the same path
// and the decision keys on the matched pattern.
func CheckRequest(r *http.Request) error {
	if r.Method == http.MethodConnect || r.Method == http.MethodTrace {
		return ErrMethod
	}
	for _, h := range methodOverrideHeaders {
		if _, ok := r.Header[h]; ok {
			return ErrMethodOverride
		}
	}
	if r.URL == nil {
		return ErrPathCharacter
	}
	if r.URL.RawPath == "" && plainPath(r.URL.Path) {
		// EscapedPath would return Path unchanged, and CheckPath accepts it.
		return nil
	}
	return CheckPath(r.URL.EscapedPath())
}

// plainBytes are the bytes url.URL.EscapedPath never escapes in a path and
// CheckPath accepts: letters, digits, "-._~" and "/$&+,:=@".
var plainBytes = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "-._~/$&+,:=@" {
		t[c] = true
	}
	return t
}()

// plainPath reports whether the decoded path p consists of plainBytes only.
// With an empty RawPath, EscapedPath is then p itself, which CheckPath
// accepts, so the firewall can skip escaping it. Any other path takes the
// full check.
func plainPath(p string) bool {
	for i := 0; i < len(p); i++ {
		if !plainBytes[p[i]] {
			return false
		}
	}
	return true
}

// CheckPath applies the path rules of CheckRequest to an escaped path.
func CheckPath(escaped string) error {
	for i := 0; i < len(escaped); i++ {
		c := escaped[i]
		switch {
		case c == '%':
			if i+2 >= len(escaped) {
				return ErrEncodedPath
			}
			v, ok := unhex2(escaped[i+1], escaped[i+2])
			if !ok {
				return ErrEncodedPath
			}
			switch {
			case v == '/', v == '.', v == '\\', v == '%', v == ';', v < 0x20, v == 0x7f:
				return ErrEncodedPath
			}
			i += 2
		case c == ';', c == '\\', c < 0x20, c == 0x7f:
			return ErrPathCharacter
		}
	}
	return nil
}

func unhex2(a, b byte) (byte, bool) {
	x, ok1 := unhex(a)
	y, ok2 := unhex(b)
	return x<<4 | y, ok1 && ok2
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
