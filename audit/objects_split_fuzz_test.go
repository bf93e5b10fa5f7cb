package audit_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/audit"
)

// objectsBySplit is the object-ID extraction as it was written before it
// walked the path in place: split the pattern's and the request's path on
// "/", pair the segments by position.
func objectsBySplit(pattern string, r *http.Request) map[string]string {
	p := strings.TrimSpace(pattern)
	if i := strings.IndexAny(p, " \t"); i >= 0 {
		p = strings.TrimLeft(p[i:], " \t")
	}
	i := strings.IndexByte(p, '/')
	if i < 0 {
		return nil
	}
	psegs := strings.Split(p[i:], "/")
	rsegs := strings.Split(r.URL.EscapedPath(), "/")
	var out map[string]string
	for i, seg := range psegs {
		if len(seg) < 3 || seg[0] != '{' || seg[len(seg)-1] != '}' {
			continue
		}
		name := seg[1 : len(seg)-1]
		rest := strings.HasSuffix(name, "...")
		name = strings.TrimSuffix(name, "...")
		if name == "$" || name == "" {
			continue
		}
		var v string
		if r.Pattern == pattern {
			v = r.PathValue(name)
		} else if i < len(rsegs) {
			raw := rsegs[i]
			if rest {
				raw = strings.Join(rsegs[i:], "/")
			}
			if u, err := url.PathUnescape(raw); err == nil {
				v = u
			} else {
				v = raw
			}
		}
		n := strings.ToLower(name)
		secret := false
		for _, s := range []string{"token", "secret", "password", "passwd", "key", "code", "signature", "sig", "otp", "nonce"} {
			secret = secret || strings.Contains(n, s)
		}
		if secret {
			v = "[redacted]"
		} else if len(v) > 128 {
			n := 128
			for n > 0 && !utf8.RuneStart(v[n]) {
				n--
			}
			v = v[:n] + "…"
		}
		if out == nil {
			out = map[string]string{}
		}
		out[name] = v
	}
	return out
}

// FuzzObjectsMatchesSplit: the in-place walk records exactly what the
// strings.Split walk recorded, for any pattern and path, outside the mux
// (values cut from the path) and inside it (r.PathValue).
func FuzzObjectsMatchesSplit(f *testing.F) {
	f.Add("PATCH /api/tickets/{id}", "/api/tickets/t-1", false)
	f.Add("POST /files/{path...}", "/files/a/b%2Fc", false)
	f.Add("POST /reset/{token}", "/reset/abc", false)
	f.Add("POST example.com/{a}/{b}/{$}", "/x", false)
	f.Add("POST /api/clients/{clientID}/notes/{noteID}", "/api/clients/c-2/notes/n%2F7", true)
	f.Add("POST /files/{path...}", "/files/a/b%2Fc", true)
	f.Add("POST /a//{b}/", "/a//%zz/", false)
	f.Add("{", "/%zz", false)
	f.Add("POST /{x}", "", false)
	f.Fuzz(func(t *testing.T, pattern, path string, inside bool) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		r, err := http.NewRequest("POST", "http://portal.test/", nil)
		if err != nil {
			t.Skip()
		}
		r.URL.Path, r.URL.RawPath = path, path
		if inside {
			// Route it through a mux when the pattern is one, so the
			// values come from r.PathValue.
			mux := http.NewServeMux()
			ok := true
			func() {
				defer func() { ok = recover() == nil }()
				mux.HandleFunc(pattern, func(http.ResponseWriter, *http.Request) {})
			}()
			if !ok {
				t.Skip()
			}
			_, matched := mux.Handler(r)
			if matched != pattern {
				t.Skip()
			}
			r.Pattern = pattern
			mux.ServeHTTP(nopWriter{}, r) // sets the path values on r
			r.Pattern = pattern
		}
		require.Equal(t, objectsBySplit(pattern, r), audit.Objects(pattern, r))
	})
}

type nopWriter struct{}

func (nopWriter) Header() http.Header         { return http.Header{} }
func (nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (nopWriter) WriteHeader(int)             {}
