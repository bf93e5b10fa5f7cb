package prometheus

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/launchready/launchready/monitor"
)

// MetricName is the name of the exported counter family.
const MetricName = "launchready_http_events_total"

var desc = prometheus.NewDesc(MetricName,
	"HTTP responses worth alerting on, by kind (5xx, auth_failure, denied, rate_limited, cross_origin, log_dropped) and route pattern (log_dropped has no route).",
	[]string{"kind", "route"}, nil)

// Collector exports a *monitor.Counters as a prometheus.Collector.
type Collector struct {
	c *monitor.Counters
}

var _ prometheus.Collector = (*Collector)(nil)

// NewCollector returns a collector reading c at every scrape. It panics if
// c is nil (a programming error).
func NewCollector(c *monitor.Counters) *Collector {
	if c == nil {
		panic("prometheus: NewCollector called with nil *monitor.Counters")
	}
	return &Collector{c: c}
}

// Counters returns the counters the collector reads.
func (col *Collector) Counters() *monitor.Counters { return col.c }

// Describe sends the one descriptor.
func (col *Collector) Describe(ch chan<- *prometheus.Desc) { ch <- desc }

// Collect sends one counter per (kind, route) seen so far.
func (col *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range col.c.Snapshot() {
		ch <- prometheus.MustNewConstMetric(desc, prometheus.CounterValue, float64(s.Value), s.Kind.String(), s.Route)
	}
}
