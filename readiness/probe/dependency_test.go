package probe_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/authz"
	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/readiness/egress"
	"github.com/launchready/launchready/readiness/probe"
)

// ticketApp is a portal with one route that sends a notification mail
// through a mail API when a ticket is created. planted calls the mail API
// inside the request with a plain client and passes its errors on; the
// fixed app queues the mail and sends it through a budgeted dependency.
type ticketApp struct {
	target readiness.Target
	plain  *http.Client
	dep    *egress.Dependency
	queue  chan string
	wg     sync.WaitGroup
}

func newTicketApp(t *testing.T, planted bool) *ticketApp {
	t.Helper()
	app := &ticketApp{}
	mux, err := authz.NewMux(authz.Config{Authenticate: func(*http.Request) (authz.Principal, error) {
		return authz.Principal{}, authz.ErrUnauthenticated
	}})
	require.NoError(t, err)
	const mailAPI = "https://mail.example.test/v1/send"
	if planted {
		app.plain = &http.Client{Timeout: 30 * time.Second}
		mux.Handle("POST /tickets", authz.Public("test app"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			resp, err := app.plain.Post(mailAPI, "application/json", strings.NewReader(`{"to":"client@example.test"}`))
			if err != nil {
				http.Error(w, "mail: "+err.Error(), http.StatusBadGateway) // planted: upstream error passed on
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode >= 300 {
				body, _ := io.ReadAll(resp.Body)
				http.Error(w, "mail: "+string(body), http.StatusBadGateway)
				return
			}
			w.WriteHeader(http.StatusCreated)
		}))
		app.target.Clients = map[string]*http.Client{"mail": app.plain}
	} else {
		app.dep, err = egress.NewDependency(egress.DependencyConfig{Name: "mail", Deadline: 300 * time.Millisecond, Fallback: egress.Queue})
		require.NoError(t, err)
		app.queue = make(chan string, 64)
		app.wg.Add(1)
		go func() {
			defer app.wg.Done()
			for to := range app.queue {
				resp, err := app.dep.Client().Post(mailAPI, "application/json", strings.NewReader(`{"to":"`+to+`"}`))
				if err == nil {
					resp.Body.Close()
				}
			}
		}()
		t.Cleanup(func() { close(app.queue); app.wg.Wait() })
		mux.Handle("POST /tickets", authz.Public("test app"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			app.queue <- "client@example.test"
			w.WriteHeader(http.StatusAccepted)
		}))
		app.target.Clients = map[string]*http.Client{"mail": app.dep.Client()}
	}
	mux.Handle("GET /status", authz.Public("test app"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "ok")
	}))
	app.target.Server = &http.Server{Handler: mux, WriteTimeout: time.Minute}
	app.target.Env = readiness.Development
	return app
}

func dependencyFindings(t *testing.T, target readiness.Target, p probe.DependencyProbe) (mon, unverified []readiness.Finding) {
	t.Helper()
	target.Checks = append(target.Checks, p)
	r, err := readiness.Run(context.Background(), target)
	require.NoError(t, err)
	for _, f := range r.ByID("PROBE001") {
		if f.Item == readiness.ItemMonitoring {
			unverified = append(unverified, f)
		}
	}
	return r.ByID("MON007"), unverified
}

var ticketRequest = probe.Request{Method: http.MethodPost, Target: "/tickets", Body: `{"subject":"printer on fire"}`}

func TestDependencyProbeFindsASynchronousCallWithoutBudget(t *testing.T) {
	app := newTicketApp(t, true)
	orig := app.plain.Transport
	mon, unverified := dependencyFindings(t, app.target, probe.DependencyProbe{
		Requests: []probe.Request{ticketRequest}, Budget: 500 * time.Millisecond, Slow: 1500 * time.Millisecond,
	})
	assert.Empty(t, unverified)
	require.Len(t, mon, 1)
	f := mon[0]
	assert.Equal(t, "POST /tickets", f.Route)
	assert.Equal(t, readiness.Blocker, f.Severity)
	assert.Contains(t, f.Seen, `"mail"`)
	assert.Contains(t, f.Seen, "slow: answered after", "the slow mail API held the request")
	assert.Contains(t, f.Seen, "connection refused: answered 502")
	assert.Contains(t, f.Seen, "the body quotes the upstream's error")
	assert.NotContains(t, f.Seen, "launchready-upstream-", "the finding itself does not quote the canary")
	assert.Equal(t, orig, app.plain.Transport, "the probe restores the client's transport")
}

func TestDependencyProbePassesAQueuedCall(t *testing.T) {
	app := newTicketApp(t, false)
	mon, unverified := dependencyFindings(t, app.target, probe.DependencyProbe{
		Requests: []probe.Request{ticketRequest}, Budget: 500 * time.Millisecond, Slow: 1500 * time.Millisecond,
	})
	assert.Empty(t, mon, "a queued call degrades cleanly under every fault")
	assert.Empty(t, unverified, "the worker's calls after the response count as exercised")
	assert.Equal(t, egress.Closed, app.dep.State(), "the probe closes the breakers it opened")
}

func TestDependencyProbeReportsADependencyNothingCalled(t *testing.T) {
	app := newTicketApp(t, false)
	// Only GET routes are replayed: nothing makes the app send mail.
	mon, unverified := dependencyFindings(t, app.target, probe.DependencyProbe{Budget: 300 * time.Millisecond, Slow: time.Second})
	assert.Empty(t, mon)
	require.Len(t, unverified, 1)
	assert.Contains(t, unverified[0].Seen, `dependency "mail"`)
	assert.Contains(t, unverified[0].Fix, "DependencyProbe.Requests")
}
