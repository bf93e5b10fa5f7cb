package probe_test

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/authz"
	"github.com/launchready/launchready/flows"
	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/readiness/probe"
)

// flowApp is an app behind authz.Mux with a cookie sign-in and a ticket
// route; broken makes ticket creation answer 500.
func flowApp(t *testing.T, broken *atomic.Bool, created *atomic.Int32) readiness.Target {
	var mu sync.Mutex
	sessions := map[string]string{}
	mux, err := authz.NewMux(authz.Config{Authenticate: func(r *http.Request) (authz.Principal, error) {
		c, err := r.Cookie("sid")
		if err != nil {
			return authz.Principal{}, authz.ErrUnauthenticated
		}
		mu.Lock()
		defer mu.Unlock()
		if u, ok := sessions[c.Value]; ok {
			return authz.Principal{ID: u, Roles: []string{"support"}}, nil
		}
		return authz.Principal{}, authz.ErrUnauthenticated
	}})
	require.NoError(t, err)
	mux.Handle("POST /api/login", authz.Public("sign-in form"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Email, Password string }
		if json.NewDecoder(r.Body).Decode(&in) != nil || in.Password != "flow-probe-pass" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.Lock()
		tok := "s" + string(rune('a'+len(sessions)))
		sessions[tok] = in.Email
		mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: tok, Path: "/"})
		_, _ = w.Write([]byte(`{"role":"support"}`))
	}))
	mux.Handle("POST /api/tickets", authz.Role("support"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if broken.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		created.Add(1)
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":1}`))
	}))
	return readiness.Target{Server: &http.Server{Handler: mux}, Env: readiness.Development}
}

var ticketFlow = flows.Flow{Name: "agent opens a ticket", Covers: []string{flows.CoverLogin, flows.CoverWorkflow}, Steps: []flows.Step{
	{Name: "login", Request: "POST /api/login", JSON: map[string]any{"email": "agent@acme.test", "password": "${FLOW_PASSWORD}"}, Status: 200},
	{Name: "ticket creation", Request: "POST /api/tickets", JSON: map[string]any{"subject": "synthetic"}, Status: 201},
}}

func flowReport(t *testing.T, target readiness.Target, p probe.FlowProbe) *readiness.Report {
	t.Helper()
	p.Env = map[string]string{"FLOW_PASSWORD": "flow-probe-pass"}
	target.Checks = append(target.Checks, p)
	rep, err := readiness.Run(context.Background(), target)
	require.NoError(t, err)
	return rep
}

func TestFlowProbe(t *testing.T) {
	var broken atomic.Bool
	var created atomic.Int32
	target := flowApp(t, &broken, &created)
	target.Release.Flows = []flows.Flow{ticketFlow}

	rep := flowReport(t, target, probe.FlowProbe{})
	assert.Empty(t, rep.ByID("MON006"))
	assert.Empty(t, rep.ByID("PROBE001"))
	assert.EqualValues(t, 1, created.Load(), "the flow ran through the real handler")
	reached := map[string]int{}
	for _, r := range rep.Reach {
		if r.Probe == "flow probe" {
			reached[r.Route] += r.Reached
		}
	}
	assert.Equal(t, map[string]int{"POST /api/login": 1, "POST /api/tickets": 1}, reached)

	broken.Store(true)
	rep = flowReport(t, target, probe.FlowProbe{})
	f := rep.ByID("MON006")
	require.Len(t, f, 1)
	assert.Contains(t, f[0].Seen, `step "ticket creation"`)
	assert.Contains(t, f[0].Seen, "got 500")
}

// A flow that never signs in is refused by the route's policy: the ticket
// route was not exercised, which is neither a pass nor a MON006.
func TestFlowProbeRefusedByPolicyIsNotExercised(t *testing.T) {
	var broken atomic.Bool
	var created atomic.Int32
	target := flowApp(t, &broken, &created)
	anon := flows.Flow{Name: "anonymous ticket", Steps: ticketFlow.Steps[1:]}
	rep := flowReport(t, target, probe.FlowProbe{Flows: []flows.Flow{anon}})
	assert.Empty(t, rep.ByID("MON006"))
	f := rep.ByID("PROBE001")
	require.Len(t, f, 1)
	assert.Equal(t, "POST /api/tickets", f[0].Route)
	assert.Contains(t, f[0].Seen, "authorization")
	assert.Zero(t, created.Load())
}

func TestFlowProbeWithoutFlowsLeavesItToMON005(t *testing.T) {
	var broken atomic.Bool
	var created atomic.Int32
	rep := flowReport(t, flowApp(t, &broken, &created), probe.FlowProbe{})
	assert.Empty(t, rep.ByID("MON006"))
	assert.Len(t, rep.ByID("MON005"), 1)
}
