package readiness_test

import "net/http"

// healthOnlyMux is the smallest launch-ready handler tree (see portalHandler
// in example_test.go). Tests of one check build on it so the other checks
// stay quiet.
func healthOnlyMux() http.Handler { return portalHandler() }
