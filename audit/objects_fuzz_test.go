package audit_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/launchready/launchready/audit"
)

// announce plays the route inventory: it announces a fuzzed pattern.
type announce string

func (a announce) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	w.(interface{ SetRoute(string) }).SetRoute(string(a))
	w.WriteHeader(http.StatusNoContent)
}

// FuzzObjects feeds arbitrary route patterns and request paths to the
// object-ID extraction: it must never panic, never record a value longer
// than the cap, and always redact secret-named wildcards.
func FuzzObjects(f *testing.F) {
	f.Add("PATCH /api/tickets/{id}", "/api/tickets/t-1")
	f.Add("POST /files/{path...}", "/files/a/b%2Fc")
	f.Add("POST /reset/{token}", "/reset/abc")
	f.Add("POST example.com/{a}/{b}/{$}", "/x")
	f.Add("{", "/%zz")
	f.Fuzz(func(t *testing.T, pattern, path string) {
		if !strings.HasPrefix(path, "/") {
			path = "/" + path
		}
		r, err := http.NewRequest("POST", "http://portal.test/", nil)
		if err != nil {
			t.Skip()
		}
		r.URL.Path, r.URL.RawPath = "", ""
		r.URL.Opaque = ""
		r.URL.RawPath = path
		r.URL.Path = path
		sink := &audit.MemorySink{}
		a, err := audit.New(audit.Config{Sink: sink})
		if err != nil {
			t.Fatal(err)
		}
		a.Handler(announce(pattern)).ServeHTTP(httptest.NewRecorder(), r)
		recs := sink.Records()
		if len(recs) != 1 {
			t.Fatalf("%d records", len(recs))
		}
		for name, v := range recs[0].Objects {
			if utf8.RuneCountInString(v) > 129 && len(v) > 128+len("…") {
				t.Fatalf("object %q has %d bytes", name, len(v))
			}
			if strings.Contains(strings.ToLower(name), "token") && v != "[redacted]" {
				t.Fatalf("secret-named wildcard %q recorded as %q", name, v)
			}
		}
	})
}
