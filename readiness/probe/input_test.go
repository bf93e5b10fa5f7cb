package probe_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/authz"
	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/readiness/probe"
	"github.com/launchready/launchready/validate"
)

type noteIn struct {
	Text string `json:"text" validate:"required"`
}

// decodeNote decodes with the kit's documented validate.Decode inside the
// handler, which the static checks cannot see.
func decodeNote(w http.ResponseWriter, r *http.Request) {
	in, err := validate.Decode[noteIn](w, r, nil)
	if err != nil {
		validate.WriteError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(in)
}

// naiveNote decodes with encoding/json: no cap, unknown fields accepted.
func naiveNote(w http.ResponseWriter, r *http.Request) {
	var in noteIn
	if json.NewDecoder(r.Body).Decode(&in) != nil {
		http.Error(w, "bad", http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusCreated)
}

func inputApp(t *testing.T, h http.HandlerFunc, objects ...string) http.Handler {
	t.Helper()
	mux, err := authz.NewMux(authz.Config{Authenticate: func(*http.Request) (authz.Principal, error) {
		return authz.Principal{}, authz.ErrUnauthenticated
	}})
	require.NoError(t, err)
	mux.Handle("POST /api/notes", authz.Public("guest book"), h)
	if len(objects) > 0 {
		// The handler loads the object before it reads the body.
		mux.Handle("POST /api/clients/{id}/notes", authz.Public("guest book"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			for _, o := range objects {
				if r.PathValue("id") == o {
					h(w, r)
					return
				}
			}
			http.NotFound(w, r)
		}))
	}
	return hostOnly{host: "portal.example.com", next: mux}
}

func runInput(t *testing.T, h http.Handler, p probe.InputProbe) *readiness.Report {
	t.Helper()
	r, err := readiness.Run(t.Context(), readiness.Target{Server: &http.Server{Handler: h, ReadHeaderTimeout: time.Second},
		Checks: []readiness.Check{p}})
	require.NoError(t, err)
	return r
}

func inputFindings(r *readiness.Report, route string) map[string]readiness.Finding {
	out := map[string]readiness.Finding{}
	for _, f := range r.Findings {
		if f.Route == route && (f.Item == readiness.ItemInput || f.ID == "PROBE001") {
			out[f.ID] = f
		}
	}
	return out
}

// Evidence beats declaration: validate.Decode inside the handler is
// invisible to INPUT001/INPUT002, but the probe proves the route refuses bad
// bodies, so the static findings become info, "verified by probe".
func TestInputProbeEvidenceResolvesStaticFindings(t *testing.T) {
	static := runInput(t, inputApp(t, decodeNote), probe.InputProbe{Client: &probe.Client{Host: "wrong.example.com"}})
	before := inputFindings(static, "POST /api/notes")
	require.Contains(t, before, "INPUT001")
	require.Contains(t, before, "INPUT002")
	assert.True(t, before["INPUT001"].Blocks(), "without evidence the static finding blocks")

	r := runInput(t, inputApp(t, decodeNote), probe.InputProbe{})
	got := inputFindings(r, "POST /api/notes")
	for _, id := range []string{"INPUT001", "INPUT002"} {
		require.Contains(t, got, id)
		assert.Equal(t, readiness.Info, got[id].Severity, id)
		assert.Contains(t, got[id].Seen, "verified by probe")
		assert.NotEmpty(t, got[id].VerifiedByProbe)
	}
	assert.Contains(t, got["INPUT002"].VerifiedByProbe, "answered 413")
	assert.NotContains(t, got, "INPUT005")
	assert.NotContains(t, got, "PROBE001")
	for _, f := range r.Findings {
		if f.Item == readiness.ItemInput {
			assert.False(t, f.Blocks(), "no INPUT blocker on a correct route: %s", f)
		}
	}

	// The attack side: a naive decoder keeps its blockers and gets INPUT005.
	naive := inputFindings(runInput(t, inputApp(t, naiveNote), probe.InputProbe{}), "POST /api/notes")
	for _, id := range []string{"INPUT001", "INPUT002", "INPUT005"} {
		require.Contains(t, naive, id)
		assert.True(t, naive[id].Blocks(), id)
		assert.Empty(t, naive[id].VerifiedByProbe)
	}
	assert.Contains(t, naive["INPUT005"].Seen, "oversized body answered 201")
}

// Vacuous pass: without a path value naming an object that exists, every
// case was refused with 404 before the body was read, and the probe passed.
// Now it is PROBE001; with Client.Values it is exercised.
func TestInputProbeWithoutPathValueIsNotExercised(t *testing.T) {
	app := inputApp(t, decodeNote, "client-a")
	r := runInput(t, app, probe.InputProbe{})
	got := inputFindings(r, "POST /api/clients/{id}/notes")
	require.Contains(t, got, "PROBE001", "%s", r)
	assert.Contains(t, got["PROBE001"].Seen, "answered 404 by the handler")
	assert.Contains(t, got["PROBE001"].Fix, "Client.Values")
	assert.True(t, got["PROBE001"].Blocks())

	r = runInput(t, app, probe.InputProbe{Client: &probe.Client{Values: map[string]string{"id": "client-a"}}})
	got = inputFindings(r, "POST /api/clients/{id}/notes")
	assert.NotContains(t, got, "PROBE001", "%s", r)
	assert.Equal(t, readiness.Info, got["INPUT002"].Severity)
}

// Vacuous pass: a 401 from the handler (its own auth check) is not a body
// check; the probe says so instead of passing.
func TestInputProbeHandlerRefusalIsNotEvidence(t *testing.T) {
	app := inputApp(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "sign in", http.StatusUnauthorized)
	})
	got := inputFindings(runInput(t, app, probe.InputProbe{}), "POST /api/notes")
	require.Contains(t, got, "PROBE001")
	assert.Contains(t, got["PROBE001"].Seen, "answered 401 by the handler")
	assert.NotContains(t, got, "INPUT005")
}
