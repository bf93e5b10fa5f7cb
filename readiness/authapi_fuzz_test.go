package readiness_test

import (
	"context"
	"strings"
	"testing"

	"github.com/launchready/launchready/authz"
	"github.com/launchready/launchready/readiness"
)

// FuzzDeclaredAPI feeds arbitrary OpenAPI documents and declared patterns to
// the AUTH011 comparison: it must never panic and only ever report AUTH011
// warnings.
func FuzzDeclaredAPI(f *testing.F) {
	f.Add([]byte(`{"paths":{"/clients/{id}":{"get":{}},"/x":{"post":{}}}}`), "GET /api/clients/{clientID}", "/api")
	f.Add([]byte(`{"paths":{"/{rest...}":{"get":{}}}}`), "/files/{path...}", "")
	f.Add([]byte(`{"paths":{"/{$}":{"head":{}}}}`), "GET example.com/{$}", "/")
	f.Add([]byte(`{"paths":null}`), " \t", "")
	f.Add([]byte(`not json`), "{", "{}")
	m, err := authz.NewMux(authz.Config{Authenticate: bearer})
	if err != nil {
		f.Fatal(err)
	}
	m.Handle("GET /api/clients/{id}", authz.Role("support").RequireMFA().Object(anyObject, authz.SameTenant), noop)
	m.Handle("/files/{path...}", authz.Authenticated(), noop)
	m.Handle("GET /{$}", authz.Public("home page"), noop)
	srv := serverFor(m)
	f.Fuzz(func(t *testing.T, spec []byte, route, base string) {
		d := readiness.DeclaredAPI{OpenAPI: spec, Routes: []string{route}, BasePath: base}
		r, err := readiness.Run(context.Background(), // t.Context() ends with -fuzztime mid-run
			readiness.Target{Server: srv, Checks: []readiness.Check{d}})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range r.Findings {
			if strings.HasPrefix(f.ID, "AUTH") && f.ID != "AUTH011" {
				t.Fatalf("unexpected %s: %s", f.ID, f.Seen)
			}
		}
	})
}
