package authz_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/launchready/launchready/authz"
)

// FuzzFirewall sends arbitrary request targets through a Mux as a principal
// without the admin role. Whatever the path, the admin handler must never
// run, and a value the files wildcard hands to its handler must never hold
// a separator, a NUL or a dot segment.
func FuzzFirewall(f *testing.F) {
	for _, s := range []string{
		"/files/report.pdf", "/files/..%2Fadmin", "/files/..%252Fadmin", "/files/%2e%2e",
		"/api/admin/audit", "/api/%61dmin/audit", "/API/admin/audit", "/api//admin/audit",
		"/api/./admin/audit", "/files/a;b", "/files/a%00b", "/files/..%5Cadmin", "/files/%C0%AE%C0%AE",
		"/api/admin/audit/", "/files/%", "/files/%zz",
	} {
		f.Add("GET", s)
	}
	f.Add("HEAD", "/api/admin/audit")
	f.Add("TRACE", "/files/x")
	m, err := authz.NewMux(authz.Config{Authenticate: func(*http.Request) (authz.Principal, error) {
		return authz.Principal{ID: "u-agent", Roles: []string{"support"}}, nil
	}})
	if err != nil {
		f.Fatal(err)
	}
	m.HandleFunc("GET /api/admin/audit", authz.Role("admin"), func(http.ResponseWriter, *http.Request) {
		panic("admin handler ran for a principal without the admin role")
	})
	m.HandleFunc("GET /files/{name}", authz.Authenticated(), func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		if strings.ContainsAny(name, "/\\\x00") || name == "." || name == ".." {
			panic("wildcard value " + strconvQuote(name) + " reached the handler")
		}
	})
	f.Fuzz(func(t *testing.T, method, target string) {
		u, err := url.ParseRequestURI(target)
		if err != nil || !strings.HasPrefix(target, "/") {
			return
		}
		if method == "" || strings.ContainsAny(method, " \t\r\n") {
			method = "GET"
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.Method, r.URL, r.RequestURI = method, u, target
		m.ServeHTTP(httptest.NewRecorder(), r)
		// Consistency: the firewall's verdict does not depend on letter case
		// of percent-encodings.
		if (authz.CheckPath(u.EscapedPath()) == nil) != (authz.CheckPath(strings.ToLower(u.EscapedPath())) == nil) {
			t.Fatalf("CheckPath is case-sensitive for %q", u.EscapedPath())
		}
	})
}

func strconvQuote(s string) string { return url.PathEscape(s) }
