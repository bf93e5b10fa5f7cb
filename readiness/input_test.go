package readiness_test

import (
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/readiness/probe"
	"github.com/launchready/launchready/validate"
)

// inputMux is a tiny route inventory for the input tests (authz.Mux in apps).
type inputMux struct {
	*http.ServeMux
	routes []inputRoute
}

type inputRoute struct {
	pattern string
	h       http.Handler
}

func newInputMux() *inputMux { return &inputMux{ServeMux: http.NewServeMux()} }

func (m *inputMux) Handle(pattern string, h http.Handler) {
	m.ServeMux.Handle(pattern, h)
	m.routes = append(m.routes, inputRoute{pattern, h})
}

func (m *inputMux) EachRoute(fn func(string, http.Handler)) {
	for _, r := range m.routes {
		fn(r.pattern, r.h)
	}
}

func inputServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: time.Second, ReadTimeout: time.Second,
		WriteTimeout: time.Second, IdleTimeout: time.Second, MaxHeaderBytes: 1 << 16}
}

func inputIDs(t *testing.T, tg readiness.Target) []string {
	t.Helper()
	tg.ShutdownTimeout = time.Second
	tg.AllowedHosts = []string{"portal.example.com"}
	r, err := readiness.Run(t.Context(), tg)
	require.NoError(t, err)
	var ids []string
	for _, f := range r.Findings {
		if strings.HasPrefix(f.ID, "INPUT") {
			ids = append(ids, f.ID+" "+f.Route)
			assert.NotContains(t, f.Seen, "hunter2")
		}
	}
	sort.Strings(ids)
	return ids
}

type settingsIn struct {
	Theme string `json:"theme"`
}

type ticketIn struct {
	Subject string `json:"subject" validate:"required"`
}

func ticketFn(w http.ResponseWriter, r *http.Request, in *ticketIn) {
	w.WriteHeader(http.StatusCreated)
}

// naiveJSONHandler is the bare json.NewDecoder handler most portals start with.
func naiveJSONHandler(w http.ResponseWriter, r *http.Request) {
	var v map[string]any
	if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusCreated)
}

func goodInputMux() *inputMux {
	m := newInputMux()
	m.Handle("GET /api/clients/{id}", validate.Path(validate.Rules{"id": validate.UUID},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	m.Handle("POST /api/clients/{id}/tickets", validate.Path(validate.Rules{"id": validate.UUID}, validate.JSON(ticketFn, nil)))
	m.Handle("PATCH /api/tickets/{id}", validate.Path(validate.Rules{"id": validate.Int},
		validate.JSON(ticketFn, &validate.Options{MaxBytes: 4096})))
	m.Handle("PUT /api/me", validate.Body[ticketIn](nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	m.Handle("POST /api/logout", validate.NoBody(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	m.Handle("DELETE /api/tickets/{id}", validate.Path(validate.Rules{"id": validate.Int},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	m.Handle("POST /api/clients/{id}/uploads", validate.Path(validate.Rules{"id": validate.UUID},
		validate.MustUpload(validate.UploadLimits{AllowedTypes: []string{"application/pdf"}},
			http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(201) }))))
	return m
}

func TestInputChecksGoodConfig(t *testing.T) {
	m := goodInputMux()
	assert.Empty(t, inputIDs(t, readiness.Target{Server: inputServer(m), Checks: []readiness.Check{probe.InputProbe{}}}))
}

func TestInputChecksBadConfig(t *testing.T) {
	m := newInputMux()
	m.Handle("POST /api/notes", http.HandlerFunc(naiveJSONHandler))
	m.Handle("POST /api/csv", validate.Limit(1024, http.HandlerFunc(naiveJSONHandler)))
	m.Handle("PUT /api/settings", validate.JSON(ticketFn, &validate.Options{InsecureAllowUnknownFields: true}))
	m.Handle("GET /api/clients/{clientID}/notes/{noteID}", validate.Path(validate.Rules{"clientID": validate.UUID},
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})))
	m.Handle("POST /api/attachments", http.HandlerFunc(naiveJSONHandler))
	m.Handle("/legacy", validate.JSON(ticketFn, nil))
	m.Handle("DELETE /api/notes/{id}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))

	got := inputIDs(t, readiness.Target{Server: inputServer(m)})
	assert.Equal(t, []string{
		"INPUT001 POST /api/attachments",
		"INPUT001 POST /api/csv",
		"INPUT001 POST /api/notes",
		"INPUT002 POST /api/attachments",
		"INPUT002 POST /api/notes",
		"INPUT003 PUT /api/settings",
		"INPUT004 DELETE /api/notes/{id}",
		"INPUT004 GET /api/clients/{clientID}/notes/{noteID}",
		"INPUT006 POST /api/attachments",
	}, got)
}

func TestInputProbe(t *testing.T) {
	m := newInputMux()
	m.Handle("POST /api/notes", http.HandlerFunc(naiveJSONHandler))
	m.Handle("POST /api/drain", validate.Limit(64, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // ignores the read error: answers 200 to everything
	})))
	m.Handle("PUT /api/settings", validate.JSON(func(w http.ResponseWriter, r *http.Request, in *settingsIn) {},
		&validate.Options{InsecureAllowUnknownFields: true}))
	m.Handle("PATCH /api/panics", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom") }))
	m.Handle("POST /api/clients/{id}/tickets", validate.Path(validate.Rules{"id": validate.UUID}, validate.JSON(ticketFn, nil)))
	m.Handle("GET /api/notes", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))

	r, err := readiness.Run(t.Context(), readiness.Target{Server: inputServer(m), Checks: []readiness.Check{probe.InputProbe{}},
		ShutdownTimeout: time.Second, AllowedHosts: []string{"portal.example.com"}})
	require.NoError(t, err)
	seen := map[string]string{}
	for _, f := range r.ByID("INPUT005") {
		assert.Equal(t, readiness.Blocker, f.Severity)
		seen[f.Route] = f.Seen
	}
	require.Len(t, seen, 4, "%v", seen)
	assert.Equal(t, "malformed JSON answered 500; oversized body answered 201; wrong content type answered 201; unknown field answered 201", seen["POST /api/notes"])
	assert.Equal(t, "malformed JSON answered 200; wrong content type answered 200; unknown field answered 200", seen["POST /api/drain"])
	assert.Equal(t, "unknown field answered 200", seen["PUT /api/settings"])
	assert.Contains(t, seen["PATCH /api/panics"], "malformed JSON answered 500")

	// A correct mux: every case reached every body-taking route and was refused.
	good := goodInputMux()
	client := &probe.Client{Values: map[string]string{"id": "00000000-0000-4000-8000-0000000000aa"}}
	via := probe.InputProbe{Client: client}
	var _ readiness.ProbeOnly = via
	r, err = readiness.Run(t.Context(), readiness.Target{Server: inputServer(good), Checks: []readiness.Check{via}})
	require.NoError(t, err)
	assert.Empty(t, r.ByID("INPUT005"))
	assert.Empty(t, r.ByID("PROBE001"), "%s", r)
	reached := 0
	for _, rr := range r.Reach {
		reached += rr.Reached
	}
	assert.Equal(t, 5*4, reached, "four cases on each of the five body-taking routes")

	// The gate refuses the probe at boot.
	err = readiness.Gate(t.Context(), readiness.Target{Server: inputServer(good), Checks: []readiness.Check{probe.InputProbe{}}}, io.Discard)
	assert.ErrorContains(t, err, `check "input probe" is a probe`)
}
