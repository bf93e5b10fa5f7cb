package egress_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/readiness/egress"
)

func loopbackDependency(t *testing.T, cfg egress.DependencyConfig) *egress.Dependency {
	t.Helper()
	cfg.Guard.Allow = append(cfg.Guard.Allow, "127.0.0.1")
	if cfg.Name == "" {
		cfg.Name = "upstream"
	}
	if cfg.Fallback == egress.FallbackUnset {
		cfg.Fallback = egress.Degrade
	}
	d, err := egress.NewDependency(cfg)
	require.NoError(t, err)
	return d
}

func TestNewDependencyRefusesBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  egress.DependencyConfig
		want string
	}{
		{"no name", egress.DependencyConfig{Fallback: egress.Queue}, "Name is empty"},
		{"no fallback", egress.DependencyConfig{Name: "mail"}, "Fallback is unset"},
		{"negative deadline", egress.DependencyConfig{Name: "mail", Fallback: egress.Queue, Deadline: -time.Second}, "Deadline"},
		{"too many retries", egress.DependencyConfig{Name: "mail", Fallback: egress.Queue, Retries: 10}, "Retries is 10"},
		{"negative backoff", egress.DependencyConfig{Name: "mail", Fallback: egress.Queue, Backoff: -1}, "Backoff"},
		{"negative open", egress.DependencyConfig{Name: "mail", Fallback: egress.Queue, OpenFor: -1}, "OpenFor"},
		{"bad guard", egress.DependencyConfig{Name: "mail", Fallback: egress.Queue, Guard: egress.Config{Allow: []string{"0.0.0.0/0"}}}, "allows every address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := egress.NewDependency(tc.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestDependencyDefaults(t *testing.T) {
	d, err := egress.NewDependency(egress.DependencyConfig{Name: "mail", Fallback: egress.Queue})
	require.NoError(t, err)
	s := d.Settings()
	assert.Equal(t, 2*time.Second, s.Deadline)
	assert.Equal(t, 0, s.Retries)
	assert.Equal(t, uint32(5), s.Failures)
	assert.Equal(t, 30*time.Second, s.OpenFor)
	assert.Equal(t, egress.Queue, s.Fallback)
	assert.Same(t, d, egress.DependencyOf(d.Client()))
	assert.Nil(t, egress.DependencyOf(http.DefaultClient))
	assert.Equal(t, egress.Closed, d.State())
}

// A dependency that hangs for 10 s costs the caller its deadline, not 10 s.
func TestDependencyDeadlineCutsASlowUpstream(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		case <-time.After(10 * time.Second):
		}
	}))
	defer srv.Close()
	defer close(release)

	d := loopbackDependency(t, egress.DependencyConfig{Deadline: 200 * time.Millisecond, Retries: 2, Backoff: 10 * time.Millisecond})
	start := time.Now()
	resp, err := d.Client().Get(srv.URL)
	elapsed := time.Since(start)
	if resp != nil {
		resp.Body.Close()
	}
	require.Error(t, err)
	assert.Contains(t, err.Error(), "deadline")
	assert.Less(t, elapsed, 2*time.Second, "the call must end near its 200ms deadline, retries included")
}

// The deadline also bounds reading the body of a response that trickles.
func TestDependencyDeadlineCoversTheBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	defer srv.Close()
	d := loopbackDependency(t, egress.DependencyConfig{Deadline: 200 * time.Millisecond})
	resp, err := d.Client().Get(srv.URL)
	require.NoError(t, err)
	defer resp.Body.Close()
	start := time.Now()
	_, err = io.ReadAll(resp.Body)
	require.Error(t, err)
	assert.Less(t, time.Since(start), 2*time.Second)
}

func TestDependencyRetriesOnlyIdempotentRequests(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok")
	}))
	defer srv.Close()

	d := loopbackDependency(t, egress.DependencyConfig{Retries: 2, Backoff: time.Millisecond, Failures: 100})
	resp, err := d.Client().Get(srv.URL)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "ok", string(body))
	assert.EqualValues(t, 3, hits.Load(), "a GET is retried after 503s")

	// A POST is sent once: retrying it could send the mail twice.
	hits.Store(0)
	resp, err = d.Client().Post(srv.URL, "text/plain", strings.NewReader("mail"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.EqualValues(t, 1, hits.Load(), "a POST must not be retried")

	// Unless the caller makes it idempotent with a key.
	hits.Store(0)
	req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("mail"))
	require.NoError(t, err)
	req.Header.Set("Idempotency-Key", "k1")
	resp, err = d.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.EqualValues(t, 3, hits.Load())
}

// roundTripFunc lets a test stand in for the network beneath the budget.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestDependencyBreakerOpensAndCloses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var changes []string
		d := loopbackDependency(t, egress.DependencyConfig{
			Failures: 3, OpenFor: 10 * time.Second,
			OnStateChange: func(_ string, from, to egress.BreakerState) {
				changes = append(changes, from.String()+"→"+to.String())
			},
		})
		var upstreamCalls atomic.Int32
		healthy := atomic.Bool{}
		restore := d.InjectFault(roundTripFunc(func(r *http.Request) (*http.Response, error) {
			upstreamCalls.Add(1)
			if healthy.Load() {
				return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("ok")), Request: r}, nil
			}
			return &http.Response{StatusCode: 500, Body: io.NopCloser(strings.NewReader("upstream exploded")), Request: r}, nil
		}))
		defer restore()

		get := func() (int, error) {
			req, _ := http.NewRequest(http.MethodGet, "http://crm.invalid/", nil)
			resp, err := d.Client().Do(req)
			if err != nil {
				return 0, err
			}
			resp.Body.Close()
			return resp.StatusCode, nil
		}
		for i := 0; i < 3; i++ {
			code, err := get()
			require.NoError(t, err)
			assert.Equal(t, 500, code)
		}
		assert.Equal(t, egress.Open, d.State())
		require.Error(t, d.Ping(context.Background()))

		_, err := get()
		var open *egress.OpenError
		require.ErrorAs(t, err, &open)
		assert.ErrorIs(t, err, egress.ErrOpen)
		assert.Equal(t, "upstream", open.Name)
		assert.EqualValues(t, 3, upstreamCalls.Load(), "an open breaker must not call the dependency")
		assert.Equal(t, "10", egress.RetryAfterSeconds(err, time.Second))

		time.Sleep(11 * time.Second) // fake clock inside the bubble
		healthy.Store(true)
		code, err := get()
		require.NoError(t, err)
		assert.Equal(t, 200, code)
		assert.Equal(t, egress.Closed, d.State())
		assert.NoError(t, d.Ping(context.Background()))
		assert.Equal(t, []string{"closed→open", "open→half-open", "half-open→closed"}, changes)
		assert.EqualValues(t, 5, d.Calls())
	})
}

// A call the app cancels itself (the user went away) does not count
// against the dependency.
func TestDependencyCallerCancellationIsNotAFailure(t *testing.T) {
	d := loopbackDependency(t, egress.DependencyConfig{Failures: 1})
	restore := d.InjectFault(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		<-r.Context().Done()
		return nil, r.Context().Err()
	}))
	defer restore()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://crm.invalid/", nil)
	_, err := d.Client().Do(req)
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.Canceled))
	assert.Equal(t, egress.Closed, d.State())
}

func TestDependencyKeepsTheSSRFGuard(t *testing.T) {
	d, err := egress.NewDependency(egress.DependencyConfig{Name: "webhook", Fallback: egress.Queue})
	require.NoError(t, err)
	_, err = d.Client().Get("http://169.254.169.254/latest/meta-data/")
	require.Error(t, err)
	assert.ErrorIs(t, err, egress.ErrDenied)
}

func TestDependencyResetBreaker(t *testing.T) {
	d := loopbackDependency(t, egress.DependencyConfig{Failures: 1})
	restore := d.InjectFault(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return nil, errors.New("connection refused")
	}))
	_, err := d.Client().Get("http://crm.invalid/")
	require.Error(t, err)
	require.Equal(t, egress.Open, d.State())
	restore()
	d.ResetBreaker()
	assert.Equal(t, egress.Closed, d.State())
	assert.NoError(t, d.Ping(context.Background()))
}
