package probe

import (
	"strings"
	"testing"
)

// FuzzFill: filling a route path with wildcard values never panics, keeps
// the path's segments (a value cannot add a "/", it is escaped), and leaves
// no wildcard unfilled.
func FuzzFill(f *testing.F) {
	f.Add("/api/clients/{id}/tickets", "client-a", "t/1")
	f.Add("/files/{path...}", "../etc/passwd", "")
	f.Add("/{$}", "x", "y")
	f.Add("/a/{x}/{y}/{z...}", "%2F", "{id}")
	f.Fuzz(func(t *testing.T, path, v1, v2 string) {
		if !strings.HasPrefix(path, "/") {
			return
		}
		values := map[string]string{"id": v1, "x": v1, "path": v2, "y": v2}
		got, _ := fill(path, values, nil)
		if n, m := strings.Count(got, "/"), strings.Count(path, "/"); n != m {
			t.Fatalf("fill(%q) = %q: %d slashes, want %d", path, got, n, m)
		}
		for _, seg := range strings.Split(got, "/") {
			if len(seg) > 2 && seg[0] == '{' && seg[len(seg)-1] == '}' && values[strings.TrimSuffix(seg[1:len(seg)-1], "...")] == "" {
				t.Fatalf("fill(%q) = %q left the wildcard %s", path, got, seg)
			}
		}
	})
}
