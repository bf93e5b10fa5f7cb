package edge_test

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/launchready/launchready/cmd/launchready/edge"
	"github.com/launchready/launchready/readiness"
)

// A front that answers every path with "ok", over Go's default TLS
// suites and without security headers: the outside check finds the
// CBC suites (DEPLOY005) and the missing headers (CORS007).
func Example() {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate()) // as -ca does

	c, err := edge.New(edge.Config{URL: srv.URL, SkipHTTP: true, RootCAs: roots, Sequential: 2, Concurrent: -1})
	if err != nil {
		log.Fatal(err)
	}
	findings, err := c.Run(context.Background())
	if err != nil {
		log.Fatal(err) // unreachable: the command exits 2
	}
	report := readiness.NewReport(readiness.Production, findings)
	seen := map[string]bool{}
	for _, f := range report.Blockers() {
		if !seen[f.ID] {
			seen[f.ID] = true
			fmt.Println(f.ID, readiness.Item(f.Item))
		}
	}
	// Output:
	// CORS007 CORS policy
	// DEPLOY005 Deployment safety
}

func ExampleMixedContent() {
	page := `<link rel="stylesheet" href="http://cdn.example/site.css"><img src="http://cdn.example/logo.png"><a href="http://docs.example/">docs</a>`
	for _, r := range edge.MixedContent([]byte(page)) {
		fmt.Println(r.Tag, r.URL, "active:", r.Active)
	}
	// Output:
	// link http://cdn.example/site.css active: true
	// img http://cdn.example/logo.png active: false
}
