package readiness_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/readiness/egress"
)

func dependencyClient(t *testing.T, name string, deadline time.Duration, fb egress.Fallback) *http.Client {
	t.Helper()
	d, err := egress.NewDependency(egress.DependencyConfig{Name: name, Deadline: deadline, Fallback: fb})
	require.NoError(t, err)
	return d.Client()
}

func TestDependencyChecks(t *testing.T) {
	plain, err := egress.NewClient(egress.Config{Timeout: 5 * time.Second})
	require.NoError(t, err)
	for _, tc := range []struct {
		name   string
		client *http.Client
		want   []string
		sev    readiness.Severity
	}{
		{"guarded client without a declared fallback", plain, []string{"DEPLOY010"}, readiness.Blocker},
		{"deadline past the server's WriteTimeout", dependencyClient(t, "crm", 90*time.Second, egress.Degrade), []string{"DEPLOY011"}, readiness.Blocker},
		{"slow synchronous dependency", dependencyClient(t, "crm", 5*time.Second, egress.FailFast), []string{"DEPLOY011"}, readiness.Warning},
		{"slow queued dependency is fine", dependencyClient(t, "mail", 5*time.Second, egress.Queue), nil, 0},
		{"fast synchronous dependency is fine", dependencyClient(t, "crm", 800*time.Millisecond, egress.Degrade), nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := goodTarget(t, readiness.Production)
			target.Clients = map[string]*http.Client{"dep": tc.client}
			r, err := readiness.Run(t.Context(), target)
			require.NoError(t, err)
			assert.ElementsMatch(t, tc.want, deployIDs(r), "%s", r)
			for _, id := range tc.want {
				for _, f := range r.ByID(id) {
					assert.Equal(t, tc.sev, f.Severity)
					assert.Contains(t, f.Seen, `"dep"`)
					assert.NotEmpty(t, f.Fix)
				}
			}
		})
	}
}
