package email_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/readiness/email"
)

// A portal sends its password resets from portal.example.com through a
// provider that publishes its senders as the SPF include
// _spf.provider.example and signs with the selectors s1 and s2.
//
// This example runs on a machine without DNS (its resolver cannot dial), so
// every record is unverified: in development the blockers become warnings,
// and nothing passes by default.
func Example() {
	offline := &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("offline")
	}}
	chk, err := email.New(email.Config{
		FromDomain:    "portal.example.com",
		DKIMSelectors: []string{"s1", "s2"},
		SPFInclude:    "_spf.provider.example",
		Resolver:      offline, // nil in a real app: net.DefaultResolver
		Timeout:       time.Second,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := &http.Server{Handler: http.NewServeMux(), ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 1 << 16}
	report, err := readiness.Run(context.Background(), readiness.Target{
		Server: srv, Env: readiness.Development, ShutdownTimeout: 10 * time.Second,
		AllowedHosts: []string{"portal.example.com"},
		Checks:       []readiness.Check{chk},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range report.Findings {
		if f.Item == readiness.ItemEmail {
			fmt.Println(f.ID, f.Severity, f.Downgraded)
		}
	}
	// Output:
	// EMAIL001 warning true
	// EMAIL005 warning true
	// EMAIL005 warning true
	// EMAIL006 warning true
}
