package chiauthz_test

import (
	"strings"
	"testing"

	"github.com/launchready/launchready/authz/chiauthz"
	"github.com/launchready/launchready/readiness"
)

// FuzzInventoryPattern: any chi path becomes a pattern readiness can parse,
// whose wildcards carry no regexp, and a path without parameters keeps its
// literal text.
func FuzzInventoryPattern(f *testing.F) {
	for _, s := range []string{"/api/clients/{id}", "/d/{date:\\d{4}-\\d{2}}", "/static/*", "/", "/x/{a:[0-9]+}/y/", "/{", "/}{:}"} {
		f.Add("GET", s)
	}
	f.Fuzz(func(t *testing.T, method, path string) {
		// chi registers only HTTP method tokens (RFC 9110 5.6.2); anything
		// else (a space, "\f", a slash) never reaches InventoryPattern.
		if !isToken(method) {
			return
		}
		p := chiauthz.InventoryPattern(method, path)
		m, _, got := readiness.ParsePattern(p)
		if method != "" && strings.HasPrefix(path, "/") && m != method {
			t.Fatalf("InventoryPattern(%q, %q) = %q: method %q", method, path, p, m)
		}
		for _, w := range (readiness.Route{Path: got}).Wildcards() {
			if strings.Contains(w, ":") {
				t.Fatalf("InventoryPattern(%q, %q) = %q keeps a regexp in {%s}", method, path, p, w)
			}
		}
		if !strings.ContainsAny(path, "{}* \t\n\r\v\f") && strings.HasPrefix(path, "/") && !strings.HasSuffix(path, "/") && got != path {
			t.Fatalf("InventoryPattern(%q, %q) = %q changed a literal path", method, path, p)
		}
	})
}

func isToken(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", c)) {
			return false
		}
	}
	return true
}
