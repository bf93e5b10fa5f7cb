package prometheus_test

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/launchready/launchready/monitor"
	monprom "github.com/launchready/launchready/monitor/prometheus"
)

func Example() {
	counters := monitor.NewCounters()
	reg := prometheus.NewRegistry()
	reg.MustRegister(monprom.NewCollector(counters))

	counters.Inc("POST /api/login", monitor.AuthFailure) // normally counted by counters.Handler

	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, monprom.MetricName) {
			fmt.Println(line)
		}
	}
	// Output:
	// launchready_http_events_total{kind="auth_failure",route="POST /api/login"} 1
}
