package readiness_test

import (
	"net/http"

	"github.com/launchready/launchready/authz"
)

// healthOnlyMux is a route inventory with one public health route, so tests
// of other checks see a server that passes the AUTH checks.
func healthOnlyMux() http.Handler {
	m, err := authz.NewMux(authz.Config{Authenticate: func(*http.Request) (authz.Principal, error) {
		return authz.Principal{}, authz.ErrUnauthenticated
	}})
	if err != nil {
		panic(err)
	}
	m.Handle("GET /healthz", authz.Public("uptime monitor"), http.NotFoundHandler())
	return m
}
