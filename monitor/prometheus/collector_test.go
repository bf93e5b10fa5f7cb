package prometheus_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/monitor"
	monprom "github.com/launchready/launchready/monitor/prometheus"
)

func TestCollectorExportsCounters(t *testing.T) {
	c := monitor.NewCounters()
	c.Inc("GET /api/clients/{id}", monitor.ServerError)
	c.Inc("GET /api/clients/{id}", monitor.ServerError)
	c.Inc("POST /api/login", monitor.AuthFailure)
	c.Inc("", monitor.CrossOrigin)
	c.Inc("", monitor.LogDropped)
	c.Inc("", monitor.LogDropped)

	col := monprom.NewCollector(c)
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(col))
	want := `
# HELP launchready_http_events_total HTTP responses worth alerting on, by kind (5xx, auth_failure, denied, rate_limited, cross_origin, log_dropped) and route pattern (log_dropped has no route).
# TYPE launchready_http_events_total counter
launchready_http_events_total{kind="5xx",route="GET /api/clients/{id}"} 2
launchready_http_events_total{kind="auth_failure",route="POST /api/login"} 1
launchready_http_events_total{kind="cross_origin",route=""} 1
launchready_http_events_total{kind="log_dropped",route=""} 2
`
	assert.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), monprom.MetricName))
	assert.Same(t, c, col.Counters())
}

func TestCollectorScrapesWhileCounting(t *testing.T) {
	c := monitor.NewCounters()
	reg := prometheus.NewRegistry()
	reg.MustRegister(monprom.NewCollector(c))
	h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTooManyRequests) }))
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range 100 {
				h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/login", nil))
			}
		}()
		go func() {
			defer wg.Done()
			for range 20 {
				_, err := reg.Gather()
				assert.NoError(t, err)
			}
		}()
	}
	wg.Wait()
	assert.InDelta(t, 400, testutil.ToFloat64(monprom.NewCollector(c)), 0)
}

func TestRulesFileIsPresent(t *testing.T) {
	// The alert rules in rules.yml use the exported metric name.
	b, err := readRules()
	require.NoError(t, err)
	assert.Contains(t, b, monprom.MetricName+`{kind="5xx"}`)
	assert.Contains(t, b, monprom.MetricName+`{kind="auth_failure"}`)
}
