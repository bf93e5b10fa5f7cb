package readiness_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/launchready/launchready/authz"
	"github.com/launchready/launchready/cors"
	"github.com/launchready/launchready/flows"
	"github.com/launchready/launchready/monitor"
	"github.com/launchready/launchready/readiness"
)

// portalHandler is the smallest launch-ready handler tree: panic recovery,
// counters and security headers around a deny-by-default route inventory
// that serves the health endpoints.
func portalHandler() http.Handler {
	mux, err := authz.NewMux(authz.Config{Authenticate: func(*http.Request) (authz.Principal, error) {
		return authz.Principal{}, authz.ErrUnauthenticated
	}})
	if err != nil {
		panic(err)
	}
	health, err := monitor.NewHealth(monitor.HealthConfig{})
	if err != nil {
		panic(err)
	}
	health.SetBoot(nil)
	mux.Handle("GET /healthz", authz.Public("uptime monitor"), health.Liveness())
	mux.Handle("GET /readyz", authz.Public("load balancer"), health.Readiness())
	headers, err := cors.NewHeaders(cors.HeadersConfig{})
	if err != nil {
		panic(err)
	}
	return monitor.Recover(nil).Handler(monitor.NewCounters().Handler(headers.Handler(mux)))
}

// The boot gate: refuse to serve while blockers remain.
func ExampleGate() {
	srv := &http.Server{
		Addr:    "127.0.0.1:8080",
		Handler: portalHandler(),
		// No timeouts: a slow client could hold connections forever.
	}
	target := readiness.Target{
		Server: srv,
		Env:    readiness.Production,
		Build:  &debug.BuildInfo{}, // stands in for a binary built without VCS stamping
	}
	err := readiness.Gate(context.Background(), target, nil)
	var blocked *readiness.BlockedError
	if errors.As(err, &blocked) {
		for _, f := range blocked.Report.Blockers() {
			seen, _, _ := strings.Cut(f.Seen, ":")
			fmt.Println(f.ID, seen)
		}
	}
	// Output:
	// DEPLOY001 the binary carries no VCS revision and no module version, so nobody can say which commit is running or what to roll back to
	// DEPLOY003 http.Server.ReadHeaderTimeout is not set
	// DEPLOY003 http.Server.ReadTimeout is not set
	// DEPLOY003 http.Server.WriteTimeout is not set
	// DEPLOY008 running unknown revision with no rollback target declared
	// DEPLOY009 no synthetic flow is declared to verify a release after deploy, so a release whose login is broken goes live and stays live
	// MON005 no synthetic flow is declared, so nothing signs in and runs a core workflow every few minutes
}

// The test helper: the app's own go test fails while blockers remain.
func ExampleRequire() {
	// In the app's test file:
	//
	//	func TestLaunchReady(t *testing.T) {
	//		readiness.Require(t, portal.Target(readiness.Production))
	//	}
	var t testing.TB = &exampleTB{}
	srv := &http.Server{
		Handler:           portalHandler(),
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10,
	}
	// The synthetic flows verify each deploy and run every five minutes
	// (flows.Load("flows.yaml") in a real app); the deploy script names the
	// release to roll back to.
	signIn := flows.Flow{Name: "agent opens a ticket", Covers: []string{flows.CoverLogin, flows.CoverWorkflow}, Steps: []flows.Step{
		{Name: "login", Request: "POST /api/login", JSON: map[string]any{"email": "${FLOW_EMAIL}", "password": "${FLOW_PASSWORD}"}},
		{Name: "ticket creation", Request: "POST /api/clients/client-a/tickets", JSON: map[string]any{"subject": "synthetic"}, Status: 201},
	}}
	report := readiness.Require(t, readiness.Target{
		Server: srv, Env: readiness.Production, ShutdownTimeout: 20 * time.Second,
		AllowedHosts: []string{"portal.example.com"},
		Release:      readiness.ReleasePlan{Previous: "v1.3.0", Flows: []flows.Flow{signIn}},
	})
	fmt.Println(report.Summary())
	// Output: launch readiness (production): READY — 0 blockers, 0 warnings, 0 accepted
}

type exampleTB struct{ testing.TB }

func (exampleTB) Helper()                   {}
func (exampleTB) Errorf(f string, a ...any) { fmt.Fprintf(os.Stdout, f+"\n", a...) }
func (exampleTB) FailNow()                  {}
func (exampleTB) Logf(string, ...any)       {}
func (exampleTB) Context() context.Context  { return context.Background() }
