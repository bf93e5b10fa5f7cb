package readiness_test

import (
	"net/http"

	"github.com/launchready/launchready/authz"
	"github.com/launchready/launchready/cors"
	"github.com/launchready/launchready/monitor"
)

// healthOnlyMux is the smallest launch-ready handler tree: panic recovery,
// counters and security headers around a route inventory whose only routes
// are the public health endpoints. Tests of one check build on it so the
// other checks stay quiet.
func healthOnlyMux() http.Handler {
	m, err := authz.NewMux(authz.Config{Authenticate: func(*http.Request) (authz.Principal, error) {
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
	m.Handle("GET /healthz", authz.Public("uptime monitor"), health.Liveness())
	m.Handle("GET /readyz", authz.Public("load balancer"), health.Readiness())
	headers, err := cors.NewHeaders(cors.HeadersConfig{})
	if err != nil {
		panic(err)
	}
	return monitor.Recover(nil).Handler(monitor.NewCounters().Handler(headers.Handler(m)))
}
