package prometheus

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/launchready/launchready/readiness/egress"
)

// Metric names of the dependency collector.
const (
	BreakerStateName = "launchready_dependency_breaker_state"
	DependencyCalls  = "launchready_dependency_calls_total"
)

var (
	breakerDesc = prometheus.NewDesc(BreakerStateName,
		"Circuit breaker of an outbound dependency: 0 closed (calls go through), 1 half-open (one trial call), 2 open (calls fail at once).",
		[]string{"dependency"}, nil)
	callsDesc = prometheus.NewDesc(DependencyCalls,
		"Calls the app made to an outbound dependency, including those an open breaker refused.",
		[]string{"dependency"}, nil)
)

// DependencyCollector exports the state of egress dependencies: alert when
// a breaker stays open (the app is serving its fallback), not on every
// failed call.
type DependencyCollector struct {
	deps []*egress.Dependency
}

var _ prometheus.Collector = (*DependencyCollector)(nil)

// NewDependencyCollector returns a collector reading deps at every scrape.
// It panics on a nil dependency (a programming error).
func NewDependencyCollector(deps ...*egress.Dependency) *DependencyCollector {
	for _, d := range deps {
		if d == nil {
			panic("prometheus: NewDependencyCollector called with a nil *egress.Dependency")
		}
	}
	return &DependencyCollector{deps: append([]*egress.Dependency(nil), deps...)}
}

// Describe sends the two descriptors.
func (col *DependencyCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- breakerDesc
	ch <- callsDesc
}

// Collect sends each dependency's breaker state and call count.
func (col *DependencyCollector) Collect(ch chan<- prometheus.Metric) {
	for _, d := range col.deps {
		name := d.Settings().Name
		ch <- prometheus.MustNewConstMetric(breakerDesc, prometheus.GaugeValue, float64(d.State()), name)
		ch <- prometheus.MustNewConstMetric(callsDesc, prometheus.CounterValue, float64(d.Calls()), name)
	}
}
