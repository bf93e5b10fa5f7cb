package monitor_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/launchready/launchready/monitor"
)

func Example() {
	health, err := monitor.NewHealth(monitor.HealthConfig{
		Dependencies: []monitor.Dependency{{
			Name: "db", Timeout: 2 * time.Second,
			Ping: func(ctx context.Context) error { return nil }, // db.PingContext
		}},
	})
	if err != nil {
		panic(err)
	}
	health.SetBoot(nil) // after readiness.Gate passed

	counters := monitor.NewCounters()
	mux := http.NewServeMux() // authz.Mux in a real portal
	mux.Handle("GET /healthz", health.Liveness())
	mux.Handle("GET /readyz", health.Readiness())
	mux.HandleFunc("GET /boom", func(http.ResponseWriter, *http.Request) { panic("bug") })
	handler := monitor.Recover(monitor.SlogReporter{Logger: slog.New(slog.DiscardHandler)}).Handler(counters.Handler(mux))

	for _, path := range []string{"/healthz", "/readyz", "/boom"} {
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		fmt.Println(path, rec.Code, rec.Body.String()[:len(rec.Body.String())-1])
	}
	fmt.Println("5xx:", counters.Total(monitor.ServerError))
	// Output:
	// /healthz 200 {"status":"ok"}
	// /readyz 200 {"status":"ready"}
	// /boom 500 {"type":"about:blank","title":"Internal Server Error","status":500}
	// 5xx: 1
}
