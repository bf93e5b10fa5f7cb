package flows

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Monitor runs flows against one or more deployments on a schedule, keeps
// their last results as Prometheus metrics in the blackbox exporter's
// convention (probe_success, probe_duration_seconds, plus per-step series)
// and alerts after FailAfter consecutive failures of a flow, with exactly
// one recovery notice when it passes again: one alert per incident, never
// one per failed run.
//
// Network errors, timeouts and bad answers are failures of the flow, never
// of the monitor: it keeps running until its context ends.
type Monitor struct {
	// Targets are the base URLs to run every flow against. Required.
	Targets []string
	// Flows run against every target. Required.
	Flows []Flow
	// Every is the interval between runs. Zero means 5 minutes.
	Every time.Duration
	// Jitter spreads runs by up to this fraction of Every either side, so
	// many monitors do not hit the portal in step. Zero means 0.1; a
	// negative value means none.
	Jitter float64
	// FailAfter is how many consecutive failures raise an alert. Zero
	// means 2.
	FailAfter int
	// Alert receives the alert and the recovery notice. Nil: alerts are
	// only logged.
	Alert Alerter
	// Runner is the template for each target's runner (Transport,
	// LookupEnv, Redactor, DefaultTimeout, Header, Now, which also stamps
	// alerts); its BaseURL is ignored.
	Runner Runner
	// Logger receives one line per run and alert. Nil discards.
	Logger *slog.Logger

	mu    sync.Mutex
	state map[key]*flowState
}

type key struct{ target, flow string }

type flowState struct {
	last        Result
	ran         bool
	failures    int // consecutive
	alerting    bool
	runs, fails uint64
}

// Alerter delivers alerts (a webhook, a pager). Notify is called from the
// monitor's goroutine; an error is logged and the notice is retried after
// the next run.
type Alerter interface {
	Notify(ctx context.Context, a Alert) error
}

// Alert is one notice: a flow started failing (Firing) or passes again.
type Alert struct {
	Firing   bool
	Target   string
	Flow     string
	Step     string // the failing step; "" in a recovery
	Error    string // redacted; "" in a recovery
	Failures int    // consecutive failures that raised it
	Time     time.Time
}

// Summary is the alert's one-line text.
func (a Alert) Summary() string {
	if a.Firing {
		return fmt.Sprintf("FAILING: flow %q on %s failed %d times in a row at step %q: %s", a.Flow, a.Target, a.Failures, a.Step, a.Error)
	}
	return fmt.Sprintf("RECOVERED: flow %q on %s passes again", a.Flow, a.Target)
}

func (m *Monitor) validate() error {
	if len(m.Targets) == 0 {
		return errors.New("flows: Monitor.Targets is empty; give the URL of at least one deployment")
	}
	if len(m.Flows) == 0 {
		return errors.New("flows: Monitor.Flows is empty; load a flow file")
	}
	if m.Every < 0 || m.FailAfter < 0 || m.Jitter >= 1 {
		return fmt.Errorf("flows: Monitor: Every %s, FailAfter %d, Jitter %g: want a positive interval, a positive count and a jitter below 1", m.Every, m.FailAfter, m.Jitter)
	}
	return nil
}

func (m *Monitor) every() time.Duration {
	if m.Every == 0 {
		return 5 * time.Minute
	}
	return m.Every
}

func (m *Monitor) failAfter() int {
	if m.FailAfter == 0 {
		return 2
	}
	return m.FailAfter
}

func (m *Monitor) logger() *slog.Logger {
	if m.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return m.Logger
}

// Run runs every flow against every target now and then every Every (with
// jitter) until ctx ends. It returns nil when ctx ends, or a
// configuration error at once.
func (m *Monitor) Run(ctx context.Context) error {
	if err := m.validate(); err != nil {
		return err
	}
	for {
		m.RunOnce(ctx)
		d := m.every()
		j := m.Jitter
		if j == 0 {
			j = 0.1
		}
		if j > 0 {
			d += time.Duration((rand.Float64()*2 - 1) * j * float64(d))
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// RunOnce runs every flow against every target once, updates the metrics
// and sends the alerts the results call for.
func (m *Monitor) RunOnce(ctx context.Context) {
	for _, target := range m.Targets {
		rn := m.Runner
		rn.BaseURL = target
		for _, f := range m.Flows {
			if ctx.Err() != nil {
				return
			}
			res := rn.Run(ctx, f)
			if ctx.Err() != nil {
				return // shutting down: a cancelled run is not a failure
			}
			m.record(ctx, target, res)
		}
	}
}

func (m *Monitor) record(ctx context.Context, target string, res Result) {
	log := m.logger()
	m.mu.Lock()
	if m.state == nil {
		m.state = map[key]*flowState{}
	}
	k := key{target, res.Flow}
	st := m.state[k]
	if st == nil {
		st = &flowState{}
		m.state[k] = st
	}
	st.last, st.ran = res, true
	st.runs++
	now := time.Now
	if m.Runner.Now != nil {
		now = m.Runner.Now
	}
	var notice *Alert
	if res.OK() {
		st.failures = 0
		if st.alerting {
			notice = &Alert{Target: target, Flow: res.Flow, Time: now()}
		}
	} else {
		st.fails++
		st.failures++
		if !st.alerting && st.failures >= m.failAfter() {
			notice = &Alert{Firing: true, Target: target, Flow: res.Flow, Step: res.FailedStep(), Error: res.Err.Error(), Failures: st.failures, Time: now()}
		}
	}
	m.mu.Unlock()

	if res.OK() {
		log.Info("flow passed", "flow", res.Flow, "target", target, "duration", res.Duration)
	} else {
		log.Warn("flow failed", "flow", res.Flow, "target", target, "step", res.FailedStep(), "error", res.Err.Error())
	}
	if notice == nil {
		return
	}
	log.Warn("flow alert", "firing", notice.Firing, "flow", notice.Flow, "target", target)
	if m.Alert != nil {
		if err := m.Alert.Notify(ctx, *notice); err != nil {
			log.Error("alert not delivered; retrying after the next run", "flow", notice.Flow, "target", target, "error", err)
			return
		}
	}
	m.mu.Lock()
	st.alerting = notice.Firing
	m.mu.Unlock()
}

// ServeHTTP serves the metrics in the Prometheus text format.
func (m *Monitor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var b bytes.Buffer
	m.WriteMetrics(&b)
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b.Bytes())
}

// WriteMetrics writes the metrics in the Prometheus text format:
//
//	probe_success{instance,flow}                 1 when the last run passed
//	probe_duration_seconds{instance,flow}        the last run's duration
//	probe_step_success{instance,flow,step}       1 when the step passed
//	probe_step_duration_seconds{instance,flow,step}
//	probe_step_status_code{instance,flow,step}   the answer's status, 0 for none
//	launchready_flow_runs_total{instance,flow,result}
//	launchready_flow_consecutive_failures{instance,flow}
//	launchready_flow_alerting{instance,flow}     1 while an alert is open
func (m *Monitor) WriteMetrics(w io.Writer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := make([]key, 0, len(m.state))
	for k, st := range m.state {
		if st.ran {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].target != keys[j].target {
			return keys[i].target < keys[j].target
		}
		return keys[i].flow < keys[j].flow
	})
	type series struct{ name, help, typ string }
	write := func(s series, each func(k key, st *flowState, lbl string)) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", s.name, s.help, s.name, s.typ)
		for _, k := range keys {
			each(k, m.state[k], fmt.Sprintf(`instance="%s",flow="%s"`, escLabel(k.target), escLabel(k.flow)))
		}
	}
	write(series{"probe_success", "Whether the flow's last run passed every step.", "gauge"}, func(k key, st *flowState, l string) {
		fmt.Fprintf(w, "probe_success{%s} %d\n", l, b2i(st.last.OK()))
	})
	write(series{"probe_duration_seconds", "How long the flow's last run took.", "gauge"}, func(k key, st *flowState, l string) {
		fmt.Fprintf(w, "probe_duration_seconds{%s} %s\n", l, secs(st.last.Duration))
	})
	write(series{"probe_step_success", "Whether the step passed in the flow's last run (0 when it failed or was skipped).", "gauge"}, func(k key, st *flowState, l string) {
		for _, s := range st.last.Steps {
			fmt.Fprintf(w, "probe_step_success{%s,step=\"%s\"} %d\n", l, escLabel(s.Name), b2i(s.OK()))
		}
	})
	write(series{"probe_step_duration_seconds", "How long the step took in the flow's last run.", "gauge"}, func(k key, st *flowState, l string) {
		for _, s := range st.last.Steps {
			fmt.Fprintf(w, "probe_step_duration_seconds{%s,step=\"%s\"} %s\n", l, escLabel(s.Name), secs(s.Duration))
		}
	})
	write(series{"probe_step_status_code", "The HTTP status the step got in the flow's last run (0: no answer).", "gauge"}, func(k key, st *flowState, l string) {
		for _, s := range st.last.Steps {
			fmt.Fprintf(w, "probe_step_status_code{%s,step=\"%s\"} %d\n", l, escLabel(s.Name), s.Status)
		}
	})
	write(series{"launchready_flow_runs_total", "Runs of the flow by result.", "counter"}, func(k key, st *flowState, l string) {
		fmt.Fprintf(w, "launchready_flow_runs_total{%s,result=\"success\"} %d\n", l, st.runs-st.fails)
		fmt.Fprintf(w, "launchready_flow_runs_total{%s,result=\"failure\"} %d\n", l, st.fails)
	})
	write(series{"launchready_flow_consecutive_failures", "Consecutive failed runs of the flow.", "gauge"}, func(k key, st *flowState, l string) {
		fmt.Fprintf(w, "launchready_flow_consecutive_failures{%s} %d\n", l, st.failures)
	})
	write(series{"launchready_flow_alerting", "1 while an alert for the flow is open.", "gauge"}, func(k key, st *flowState, l string) {
		fmt.Fprintf(w, "launchready_flow_alerting{%s} %d\n", l, b2i(st.alerting))
	})
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func secs(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) }

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func escLabel(s string) string { return labelEscaper.Replace(s) }

// Webhook posts alerts as JSON: Slack-compatible ({"text": …}, which Slack,
// Mattermost and Rocket.Chat incoming webhooks accept) or a generic JSON
// document with every field of the Alert.
type Webhook struct {
	// URL receives the POST. Required.
	URL string
	// Slack selects the Slack-compatible body; false sends the generic one.
	Slack bool
	// Client sends the request. Nil means a client with a 10s timeout.
	Client *http.Client
}

// Notify posts a; any status outside 2xx is an error.
func (wh *Webhook) Notify(ctx context.Context, a Alert) error {
	var body any
	if wh.Slack {
		body = map[string]string{"text": a.Summary()}
	} else {
		status := "resolved"
		if a.Firing {
			status = "firing"
		}
		body = map[string]any{"status": status, "target": a.Target, "flow": a.Flow, "step": a.Step,
			"error": a.Error, "failures": a.Failures, "time": a.Time.UTC().Format(time.RFC3339), "summary": a.Summary()}
	}
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, wh.URL, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("flows: webhook: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	c := wh.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL may carry the webhook's secret token
		}
		return fmt.Errorf("flows: webhook: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("flows: webhook answered %d", resp.StatusCode)
	}
	return nil
}
