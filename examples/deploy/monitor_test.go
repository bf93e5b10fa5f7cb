package deploy_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/examples/portalapp"
	"github.com/launchready/launchready/readiness"
)

// buildLaunchready builds the command from this checkout (the workspace's
// go.work ties the modules together).
func buildLaunchready(t *testing.T) string {
	t.Helper()
	need(t, "go")
	here, err := os.Getwd()
	require.NoError(t, err)
	bin := filepath.Join(t.TempDir(), "launchready")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/launchready")
	cmd.Dir = filepath.Join(here, "..", "..")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

// alerts is a webhook receiver.
type alerts struct {
	mu    sync.Mutex
	posts []map[string]any
}

func (a *alerts) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m map[string]any
	_ = json.NewDecoder(r.Body).Decode(&m)
	a.mu.Lock()
	a.posts = append(a.posts, m)
	a.mu.Unlock()
}

func (a *alerts) got() []map[string]any {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]map[string]any(nil), a.posts...)
}

// syncLines collects a process's output.
type syncLines struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncLines) add(line string) { s.mu.Lock(); s.b.WriteString(line + "\n"); s.mu.Unlock() }
func (s *syncLines) String() string  { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func scrape(url string) string {
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestMonitorAgainstThePortal runs `launchready monitor` with a 1-second
// interval against the development portal: a fault in ticket creation
// raises exactly one alert after two failed runs and one recovery notice
// once it heals; /metrics shows the failing step; the monitor keeps
// reporting (not crashing) when the portal's login limit answers 429 and
// when the portal is down; SIGTERM stops it cleanly.
func TestMonitorAgainstThePortal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and runs a monitor for several seconds")
	}
	bin := buildLaunchready(t)
	faults := &portalapp.Faults{}
	srv := httptest.NewUnstartedServer(nil)
	p, err := portalapp.Build(portalapp.Options{Env: readiness.Development, Addr: srv.Listener.Addr().String(),
		OutboxDir: t.TempDir(), AuditFile: filepath.Join(t.TempDir(), "audit.jsonl"), Faults: faults})
	require.NoError(t, err)
	srv.Config = p.Server
	srv.Start()
	t.Cleanup(func() { srv.Close(); _ = p.Close() })
	hook := &alerts{}
	hs := httptest.NewServer(hook)
	t.Cleanup(hs.Close)

	here, err := os.Getwd()
	require.NoError(t, err)
	cmd := exec.Command(bin, "monitor", "-flows", filepath.Join(here, "..", "portal", "flows.yaml"),
		"-every", "1s", "-jitter", "0", "-fail-after", "2", "-listen", "127.0.0.1:0",
		"-webhook", hs.URL, "-webhook-format", "json", srv.URL)
	cmd.Env = append(os.Environ(), "LAUNCHREADY_FLOW_EMAIL=", "LAUNCHREADY_FLOW_PASSWORD=", "LAUNCHREADY_WEBHOOK_URL=")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = io.Discard
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	out := &syncLines{}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			out.add(sc.Text())
		}
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })

	var metricsURL string
	require.Eventually(t, func() bool {
		m := regexp.MustCompile(`metrics on (\S+)`).FindStringSubmatch(out.String())
		if m != nil {
			metricsURL = m[1]
		}
		return m != nil
	}, 30*time.Second, 10*time.Millisecond)
	series := func(name, extra string) string {
		return name + `{instance="` + srv.URL + `",flow="support agent opens a ticket"` + extra + `}`
	}
	require.Eventually(t, func() bool { return strings.Contains(scrape(metricsURL), series("probe_success", "")+" 1") },
		30*time.Second, 20*time.Millisecond, "the flow passes against the healthy portal")
	assert.Empty(t, hook.got())

	faults.Tickets.Store(true)
	require.Eventually(t, func() bool { return len(hook.got()) >= 1 }, 30*time.Second, 20*time.Millisecond)
	alert := hook.got()[0]
	assert.Equal(t, "firing", alert["status"])
	assert.Equal(t, "ticket creation", alert["step"])
	assert.EqualValues(t, 2, alert["failures"])
	m := scrape(metricsURL)
	assert.Contains(t, m, series("probe_success", "")+" 0")
	assert.Contains(t, m, series("probe_step_status_code", `,step="ticket creation"`)+" 500")
	assert.Contains(t, m, series("probe_step_success", `,step="login"`)+" 1")

	faults.Tickets.Store(false)
	require.Eventually(t, func() bool { return len(hook.got()) >= 2 }, 30*time.Second, 20*time.Millisecond)
	assert.Equal(t, "resolved", hook.got()[1]["status"])
	assert.Len(t, hook.got(), 2, "one alert, one recovery: no storm")

	// One sign-in per run at a 1-second interval meets the login limit
	// (10 at once, then one per 30 s): the monitor reports it.
	require.Eventually(t, func() bool {
		return strings.Contains(scrape(metricsURL), series("probe_step_status_code", `,step="login"`)+" 429")
	}, 60*time.Second, 50*time.Millisecond, "the login limit shows as a failing login step")
	require.Eventually(t, func() bool { return len(hook.got()) == 3 }, 30*time.Second, 20*time.Millisecond)
	assert.Equal(t, "login", hook.got()[2]["step"])

	// The portal goes down: the monitor keeps running and reporting.
	srv.Close()
	require.Eventually(t, func() bool {
		return strings.Contains(scrape(metricsURL), series("probe_step_status_code", `,step="login"`)+" 0")
	}, 30*time.Second, 50*time.Millisecond, "no answer shows as status 0")
	assert.Len(t, hook.got(), 3, "still the same incident: no new alert")

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-exited:
		assert.NoError(t, err, "exit 0 on SIGTERM")
	case <-time.After(30 * time.Second):
		t.Fatal("the monitor did not stop on SIGTERM")
	}
	assert.Contains(t, out.String(), "monitor stopped")
}
