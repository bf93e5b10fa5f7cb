package sentry_test

import (
	"fmt"
	"net/http"

	"github.com/launchready/launchready/monitor"
	"github.com/launchready/launchready/monitor/sentry"
)

func Example() {
	rep, err := sentry.New(sentry.Config{
		DSN:         "https://publickey@o0.ingest.sentry.invalid/1", // from SENTRY_DSN in a real app
		Environment: "production",
		Release:     "portal@0123456789ab", // default: the binary's VCS revision
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	var h http.Handler = http.NotFoundHandler()
	h = rep.Handler(h)                  // 5xx responses
	h = monitor.Recover(rep).Handler(h) // panics
	_ = h
	fmt.Println(rep.ErrorTracker())
	// Output: sentry
}
