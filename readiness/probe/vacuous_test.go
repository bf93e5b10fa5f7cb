package probe_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/cors"
	"github.com/launchready/launchready/ratelimit"
	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/readiness/probe"
	"github.com/launchready/launchready/session"
	"github.com/launchready/launchready/validate"
)

// Each probe that once passed without testing anything, behind a Host
// allowlist it did not satisfy: now each reports PROBE001 naming the
// allowlist, and with the walked host (the default) it is exercised.

func runBehind(t *testing.T, h http.Handler, checks ...readiness.Check) *readiness.Report {
	t.Helper()
	r, err := readiness.Run(t.Context(), readiness.Target{Server: &http.Server{Handler: h, ReadHeaderTimeout: time.Second}, Checks: checks})
	require.NoError(t, err)
	return r
}

func assertNotExercised(t *testing.T, r *readiness.Report, item readiness.Item, layer string) {
	t.Helper()
	var fs []readiness.Finding
	for _, f := range r.ByID("PROBE001") {
		if f.Item == item {
			fs = append(fs, f)
		}
	}
	require.NotEmpty(t, fs, "%s", r)
	for _, f := range fs {
		assert.Equal(t, readiness.Blocker, f.Severity)
		assert.Contains(t, f.Seen, layer)
	}
	assert.True(t, r.Blocked(), "an unexercised probe blocks")
}

func TestSessionProbeBehindHostAllowlist(t *testing.T) {
	mgr := newSessManager(t, session.Config{})
	app := hostOnly{host: "portal.example.com", next: sessApp{mgr: mgr}.handler()}
	wrong := sessProbe()
	wrong.Client = &probe.Client{Host: "localhost"}
	r := runBehind(t, app, wrong)
	assertNotExercised(t, r, readiness.ItemSession, "Host allowlist (421)")
	assert.Empty(t, r.ByID("SESS007"))

	ids, r := sessIDs(t, readiness.Target{Server: sessServer(app), Checks: []readiness.Check{sessProbe()}})
	assert.Empty(t, ids, "the walked host lets it sign in: %s", r)
}

func TestCORSProbeBehindHostAllowlist(t *testing.T) {
	policy, err := cors.New(cors.Config{AllowedOrigins: []string{"https://portal.example.com"}, AllowCredentials: true})
	require.NoError(t, err)
	// The reflecting middleware the probe must catch, behind the allowlist.
	reflect := corsRaw{next: policy.Handler(newCORSMux("GET /api/me")), serve: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
		policy.Handler(newCORSMux("GET /api/me")).ServeHTTP(w, r)
	})}
	app := hostOnly{host: "portal.example.com", next: reflect}

	r := runBehind(t, app, probe.CORSProbe{Client: &probe.Client{Host: "localhost"}})
	assertNotExercised(t, r, readiness.ItemCORS, "Host allowlist (421)")
	assert.Empty(t, r.ByID("CORS008"), "nothing was tested, so nothing was found — and it says so")

	r = runBehind(t, app, probe.CORSProbe{})
	assert.NotEmpty(t, r.ByID("CORS008"), "with the walked host the reflection is caught: %s %+v", r, r.Reach)
	assert.Empty(t, r.ByID("PROBE001"))
}

func TestLogCanaryBehindHostAllowlist(t *testing.T) {
	logs := &probe.LogCapture{}
	leaky := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = logs.Write([]byte("request " + r.URL.String() + "\n")) // logs the raw query: token and password
		w.WriteHeader(http.StatusNoContent)
	})
	app := hostOnly{host: "portal.example.com", next: newCORSMux("POST /api/login")}
	app.next.(*corsMux).ServeMux = http.NewServeMux()
	app.next.(*corsMux).Handle("POST /api/login", leaky)

	r := runBehind(t, app, probe.LogCanary{Capture: logs, Client: &probe.Client{Host: "localhost"}})
	assertNotExercised(t, r, readiness.ItemLogging, "Host allowlist (421)")
	assert.Empty(t, r.ByID("LOG002"))
	assert.Empty(t, strings.TrimSpace(logs.String()), "no canary reached the handler")

	r = runBehind(t, app, probe.LogCanary{Capture: logs})
	assert.NotEmpty(t, r.ByID("LOG002"), "with the walked host the leak is caught")
	assert.Empty(t, r.ByID("PROBE001"))
}

// Vacuous pass: LogCanary's canaries to the password-reset route were
// refused 429 because InputProbe had spent the same client address's
// budget. Each probe now has its own address: both reach the handler.
func TestProbesDoNotStarveEachOther(t *testing.T) {
	limits, err := ratelimit.New(ratelimit.Config{})
	require.NoError(t, err)
	logs := &probe.LogCapture{}
	reset := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := validate.Decode[loginIn](w, r, nil); err != nil {
			validate.WriteError(w, r, err)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	mux := newCORSMux()
	mux.routes = []string{"POST /api/password-reset"}
	mux.Handle("POST /api/password-reset", limits.PasswordReset(reset, ratelimit.ByIP()))
	c := &probe.Client{}
	r := runBehind(t, hostOnly{host: "portal.example.com", next: mux},
		probe.InputProbe{Client: c}, probe.LogCanary{Client: c, Capture: logs})
	assert.Empty(t, r.ByID("PROBE001"), "%s", r)
	reached := map[string]int{}
	for _, rr := range r.Reach {
		reached[rr.Probe] += rr.Reached
	}
	assert.Positive(t, reached["input probe"])
	assert.Positive(t, reached["log canary probe"], "LogCanary was not starved: %+v", r.Reach)

	// The limit is real: ten requests from one address meet it, so a
	// shared address would have starved the second probe.
	starved := &probe.Client{}
	r = runBehind(t, hostOnly{host: "portal.example.com", next: mux},
		probe.LoginRateProbe{Client: starved, Path: "/api/password-reset", MaxAttempts: 10})
	require.NotEmpty(t, r.Reach)
	assert.Positive(t, r.Reach[0].Refused["rate limit (429)"], "the limit is real: %+v", r.Reach)
}
