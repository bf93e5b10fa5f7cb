package readiness_test

import (
	"strings"
	"testing"

	"github.com/launchready/launchready/readiness"
)

func FuzzParsePattern(f *testing.F) {
	for _, s := range []string{"GET /x", "/a/{id}/{rest...}", "POST example.com/a", "", " ", "{$}", "GET\t/x/{$}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pattern string) {
		method, host, path := readiness.ParsePattern(pattern)
		if path != "" && !strings.HasPrefix(path, "/") {
			t.Fatalf("path %q does not start with /", path)
		}
		if strings.ContainsAny(method, " \t") {
			t.Fatalf("method %q contains a space", method)
		}
		if strings.Contains(host, "/") {
			t.Fatalf("host %q contains /", host)
		}
		r := readiness.Route{Method: method, Host: host, Path: path}
		for _, w := range r.Wildcards() {
			if w == "" || strings.ContainsAny(w, "{}/") {
				t.Fatalf("bad wildcard name %q from %q", w, path)
			}
		}
	})
}
