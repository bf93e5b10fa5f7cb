package prometheus_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	monprom "github.com/launchready/launchready/monitor/prometheus"
	"github.com/launchready/launchready/readiness/egress"
)

type refuse struct{}

func (refuse) RoundTrip(*http.Request) (*http.Response, error) {
	return nil, errors.New("connection refused")
}

func TestDependencyCollectorExportsBreakerState(t *testing.T) {
	crm, err := egress.NewDependency(egress.DependencyConfig{Name: "crm", Failures: 2, Fallback: egress.Degrade})
	require.NoError(t, err)
	mail, err := egress.NewDependency(egress.DependencyConfig{Name: "mail", Fallback: egress.Queue})
	require.NoError(t, err)
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(monprom.NewDependencyCollector(crm, mail)))

	defer crm.InjectFault(refuse{})()
	for i := 0; i < 3; i++ { // two failures open the breaker; the third is refused by it
		_, err := crm.Client().Get("http://crm.invalid/")
		require.Error(t, err)
	}
	want := `
# HELP launchready_dependency_breaker_state Circuit breaker of an outbound dependency: 0 closed (calls go through), 1 half-open (one trial call), 2 open (calls fail at once).
# TYPE launchready_dependency_breaker_state gauge
launchready_dependency_breaker_state{dependency="crm"} 2
launchready_dependency_breaker_state{dependency="mail"} 0
# HELP launchready_dependency_calls_total Calls the app made to an outbound dependency, including those an open breaker refused.
# TYPE launchready_dependency_calls_total counter
launchready_dependency_calls_total{dependency="crm"} 3
launchready_dependency_calls_total{dependency="mail"} 0
`
	assert.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), monprom.BreakerStateName, monprom.DependencyCalls))
	assert.Panics(t, func() { monprom.NewDependencyCollector(nil) })
}
