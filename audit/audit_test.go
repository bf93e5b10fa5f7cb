package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/audit"
)

// fakeInventory stands in for authz.Mux: after matching, it announces the
// route pattern and the authenticated principal up the writer chain.
type fakeInventory struct {
	mux   *http.ServeMux
	users map[string][2]string // bearer → id, tenant
}

func (m fakeInventory) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, pattern := m.mux.Handler(r)
	p, authed := m.users[r.Header.Get("Authorization")]
	for x := w; x != nil; {
		if s, ok := x.(interface{ SetRoute(string) }); ok {
			s.SetRoute(pattern)
		}
		if s, ok := x.(interface{ SetPrincipal(string, string) }); ok && authed {
			s.SetPrincipal(p[0], p[1])
		}
		u, ok := x.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			break
		}
		x = u.Unwrap()
	}
	if !authed {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	m.mux.ServeHTTP(w, r)
}

func fixedClock() func() time.Time {
	t := time.Date(2026, 11, 28, 15, 0, 0, 0, time.UTC)
	return func() time.Time { return t }
}

func newPortal(t *testing.T, sink audit.Sink) (http.Handler, *audit.Auditor) {
	t.Helper()
	mux := http.NewServeMux()
	ok := func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }
	mux.HandleFunc("GET /api/clients/{id}", ok)
	mux.HandleFunc("POST /api/clients/{id}/tickets", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusCreated) })
	mux.HandleFunc("PATCH /api/tickets/{id}", ok)
	mux.HandleFunc("DELETE /api/clients/{clientID}/notes/{noteID}", ok)
	mux.HandleFunc("PUT /api/settings", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusForbidden) })
	mux.HandleFunc("POST /api/password-reset/{token}", ok)
	mux.HandleFunc("POST /api/crash/{id}", func(http.ResponseWriter, *http.Request) { panic("bug") })
	a, err := audit.New(audit.Config{Sink: sink, Now: fixedClock(),
		RequestID: func(r *http.Request) string { return r.Header.Get("X-Request-Id") }})
	require.NoError(t, err)
	return a.Handler(fakeInventory{mux: mux, users: map[string][2]string{
		"alice": {"u-alice", "client-a"}, "agent": {"u-agent", ""},
	}}), a
}

func TestEveryMutatingRouteRecordedOnce(t *testing.T) {
	tests := []struct {
		method, path, user string
		want               audit.Record
	}{
		{"POST", "/api/clients/c-1/tickets", "alice", audit.Record{Route: "POST /api/clients/{id}/tickets", PrincipalID: "u-alice", Tenant: "client-a", Objects: map[string]string{"id": "c-1"}, Status: 201, Outcome: "success"}},
		{"PATCH", "/api/tickets/t%2F9", "agent", audit.Record{Route: "PATCH /api/tickets/{id}", PrincipalID: "u-agent", Objects: map[string]string{"id": "t/9"}, Status: 204, Outcome: "success"}},
		{"DELETE", "/api/clients/c-2/notes/n-7", "agent", audit.Record{Route: "DELETE /api/clients/{clientID}/notes/{noteID}", PrincipalID: "u-agent", Objects: map[string]string{"clientID": "c-2", "noteID": "n-7"}, Status: 204, Outcome: "success"}},
		{"PUT", "/api/settings", "alice", audit.Record{Route: "PUT /api/settings", PrincipalID: "u-alice", Tenant: "client-a", Status: 403, Outcome: "denied"}},
		{"PATCH", "/api/tickets/t-1", "", audit.Record{Route: "PATCH /api/tickets/{id}", Objects: map[string]string{"id": "t-1"}, Status: 401, Outcome: "denied"}},
		// Attack: a secret in a path wildcard is not recorded.
		{"POST", "/api/password-reset/tok-SECRET-123", "agent", audit.Record{Route: "POST /api/password-reset/{token}", PrincipalID: "u-agent", Objects: map[string]string{"token": "[redacted]"}, Status: 204, Outcome: "success"}},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			sink := &audit.MemorySink{}
			h, _ := newPortal(t, sink)
			r := httptest.NewRequest(tt.method, tt.path+"?password=hunter2", strings.NewReader(`{"password":"hunter2"}`))
			r.Header.Set("Authorization", tt.user)
			r.Header.Set("X-Request-Id", "rid-1")
			h.ServeHTTP(httptest.NewRecorder(), r)
			recs := sink.Records()
			require.Len(t, recs, 1)
			want := tt.want
			want.Kind, want.Method, want.RequestID = "request", tt.method, "rid-1"
			want.Time = fixedClock()()
			assert.Equal(t, want, recs[0])
		})
	}
}

func TestReadsNotRecordedUnlessAllMethods(t *testing.T) {
	sink := &audit.MemorySink{}
	h, _ := newPortal(t, sink)
	r := httptest.NewRequest("GET", "/api/clients/c-1", nil)
	r.Header.Set("Authorization", "alice")
	h.ServeHTTP(httptest.NewRecorder(), r)
	assert.Empty(t, sink.Records())

	a, err := audit.New(audit.Config{Sink: sink, AllMethods: true})
	require.NoError(t, err)
	a.Handler(http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/x", nil))
	require.Len(t, sink.Records(), 1)
	assert.Equal(t, 404, sink.Records()[0].Status)
}

func TestPanicRecordedAsError(t *testing.T) {
	sink := &audit.MemorySink{}
	h, _ := newPortal(t, sink)
	r := httptest.NewRequest("POST", "/api/crash/9", nil)
	r.Header.Set("Authorization", "alice")
	assert.Panics(t, func() { h.ServeHTTP(httptest.NewRecorder(), r) })
	recs := sink.Records()
	require.Len(t, recs, 1)
	assert.Equal(t, 500, recs[0].Status)
	assert.Equal(t, "error", recs[0].Outcome)
}

func TestInsideRouteUsesPathValuesAndPrincipalFunc(t *testing.T) {
	sink := &audit.MemorySink{}
	a, err := audit.New(audit.Config{Sink: sink, Principal: func(*http.Request) (string, string) { return "u-9", "t-9" }})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("POST /x/{id}", a.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/x/%61b", nil))
	recs := sink.Records()
	require.Len(t, recs, 1)
	assert.Equal(t, map[string]string{"id": "ab"}, recs[0].Objects)
	assert.Equal(t, "u-9", recs[0].PrincipalID)
	assert.Equal(t, "POST /x/{id}", recs[0].Route)
}

func TestEvent(t *testing.T) {
	sink := &audit.MemorySink{}
	a, err := audit.New(audit.Config{Sink: sink, Now: fixedClock(), Principal: func(*http.Request) (string, string) { return "u-1", "" }})
	require.NoError(t, err)
	r := httptest.NewRequest("GET", "/api/clients/c-1/export", nil)
	require.NoError(t, a.Event(r, audit.Event{Action: "export", Objects: map[string]string{"client": "c-1"}}))
	require.NoError(t, a.Event(r, audit.Event{Action: "login", PrincipalID: "u-2", Outcome: audit.OutcomeDenied}))
	assert.Error(t, a.Event(r, audit.Event{}))
	recs := sink.Records()
	require.Len(t, recs, 2)
	assert.Equal(t, audit.Record{Time: fixedClock()(), Kind: "event", Action: "export", PrincipalID: "u-1", Method: "GET", Objects: map[string]string{"client": "c-1"}, Outcome: "success"}, recs[0])
	assert.Equal(t, "u-2", recs[1].PrincipalID)
	assert.Equal(t, "denied", recs[1].Outcome)
}

func TestNewRequiresSink(t *testing.T) {
	_, err := audit.New(audit.Config{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "audit: Config.Sink is nil")
}

func TestFileSinkTruncatedLastLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	sink, err := audit.OpenFile(path, nil)
	require.NoError(t, err)
	h, _ := newPortal(t, sink)
	for _, p := range []string{"/api/tickets/1", "/api/tickets/2", "/api/tickets/3"} {
		r := httptest.NewRequest("PATCH", p, nil)
		r.Header.Set("Authorization", "agent")
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	require.NoError(t, sink.Close())

	// Simulate a crash in the middle of the fourth write.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`{"time":"2026-11-28T15:00:00Z","kind":"requ`)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	f, err = os.Open(path)
	require.NoError(t, err)
	recs, err := audit.ReadAll(f)
	f.Close()
	require.Error(t, err)
	assert.ErrorIs(t, err, audit.ErrTruncated)
	var le *audit.LineError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, 4, le.Line)
	require.Len(t, recs, 3)
	assert.Equal(t, map[string]string{"id": "3"}, recs[2].Objects)

	// Reopening after the crash: the next record starts on a fresh line.
	sink, err = audit.OpenFile(path, nil)
	require.NoError(t, err)
	assert.True(t, sink.TruncatedAtOpen())
	require.NoError(t, sink.Write(context.Background(), audit.Record{Time: time.Now(), Kind: "event", Action: "login", Outcome: "success"}))
	recs, err = sink.ReadAll()
	require.Error(t, err)
	assert.NotErrorIs(t, err, audit.ErrTruncated, "the fragment is now a damaged middle line")
	require.Len(t, recs, 4)
	assert.Equal(t, "login", recs[3].Action)
	require.NoError(t, sink.Close())
	assert.ErrorIs(t, sink.Write(context.Background(), audit.Record{}), audit.ErrClosed)

	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
}

func TestDiskFullFailsClosed(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full on this system")
	}
	sink, err := audit.OpenFile("/dev/full", &audit.FileOptions{Sync: audit.SyncNone})
	require.NoError(t, err)
	defer sink.Close()
	err = sink.Write(context.Background(), audit.Record{Kind: "event"})
	require.Error(t, err)
	assert.ErrorIs(t, err, audit.ErrDiskFull)
	assert.Contains(t, err.Error(), "/dev/full")

	calls := 0
	a, err := audit.New(audit.Config{Sink: sink})
	require.NoError(t, err)
	h := a.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { calls++ }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/a", nil))
	assert.Equal(t, 503, rec.Code, "the first change happened but is not answered 2xx without its record")
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	assert.False(t, a.Healthy())
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/b", nil))
	assert.Equal(t, 503, rec.Code, "later changes are refused while the trail is broken")
	assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
	assert.Equal(t, 1, calls)
	assert.EqualValues(t, 2, a.Failures())
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/c", nil))
	assert.Equal(t, 200, rec.Code, "reads still work")

	open, err := audit.New(audit.Config{Sink: sink, InsecureFailOpen: true})
	require.NoError(t, err)
	h = open.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { calls++ }))
	for range 2 {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/a", nil))
	}
	assert.Equal(t, 4, calls, "fail-open serves both changes")
}

type flakySink struct {
	mu   sync.Mutex
	fail bool
	recs []audit.Record
}

func (s *flakySink) Write(_ context.Context, rec audit.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return errors.New("down")
	}
	s.recs = append(s.recs, rec)
	return nil
}

func TestTrailRecoversWhenSinkWorksAgain(t *testing.T) {
	s := &flakySink{fail: true}
	a, err := audit.New(audit.Config{Sink: s})
	require.NoError(t, err)
	h := a.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/", nil))
	require.False(t, a.Healthy())
	s.mu.Lock()
	s.fail = false
	s.mu.Unlock()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/", nil))
	assert.Equal(t, 503, rec.Code)
	assert.True(t, a.Healthy(), "the refused request's record got through")
	require.Len(t, s.recs, 1)
	assert.Equal(t, "rejected", s.recs[0].Outcome)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/", nil))
	assert.Equal(t, 200, rec.Code)
}

func TestFileSinkConcurrentWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	sink, err := audit.OpenFile(path, &audit.FileOptions{Sync: audit.SyncNone})
	require.NoError(t, err)
	a, err := audit.New(audit.Config{Sink: sink})
	require.NoError(t, err)
	h := a.Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	const workers, per = 8, 50
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range per {
				h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/x", nil))
			}
		}()
	}
	wg.Wait()
	recs, err := sink.ReadAll()
	require.NoError(t, err)
	assert.Len(t, recs, workers*per)
	require.NoError(t, sink.Close())
}

func TestOpenFileErrors(t *testing.T) {
	_, err := audit.OpenFile(filepath.Join(t.TempDir(), "missing", "audit.jsonl"), nil)
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "audit: open "))
	_, err = audit.OpenFile(filepath.Join(t.TempDir(), "a"), &audit.FileOptions{Sync: 7})
	assert.ErrorContains(t, err, "FileOptions.Sync")
}

func TestAdminView(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	sink, err := audit.OpenFile(path, nil)
	require.NoError(t, err)
	defer sink.Close()
	for _, action := range []string{"a", "b", "c"} {
		require.NoError(t, sink.Write(context.Background(), audit.Record{Time: time.Now(), Kind: "event", Action: action, Outcome: "success"}))
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, _ = f.WriteString(`{"time":`)
	f.Close()

	rec := httptest.NewRecorder()
	sink.Admin(2, nil).ServeHTTP(rec, httptest.NewRequest("GET", "/api/admin/audit", nil))
	require.Equal(t, 200, rec.Code)
	var view audit.AdminView
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &view))
	assert.Equal(t, 3, view.Total)
	assert.Equal(t, 1, view.DamagedLines)
	assert.True(t, view.Truncated)
	require.Len(t, view.Records, 2)
	assert.Equal(t, "c", view.Records[0].Action)
	assert.Equal(t, "b", view.Records[1].Action)

	require.NoError(t, os.Remove(path))
	rec = httptest.NewRecorder()
	sink.Admin(0, nil).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	assert.Equal(t, 500, rec.Code)
	assert.NotContains(t, rec.Body.String(), path, "no file paths to the client")
}

// No change is answered 2xx without its record: the response waits for the
// sink, and a failed write turns it into a 503 without the handler's headers.
func TestResponseHeldUntilRecorded(t *testing.T) {
	s := &flakySink{fail: true}
	a, err := audit.New(audit.Config{Sink: s})
	require.NoError(t, err)
	h := a.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "/api/tickets/t-1")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":"t-1"}`))
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/api/tickets", nil))
	assert.Equal(t, 503, rec.Code)
	assert.Empty(t, rec.Header().Get("Location"))
	assert.NotContains(t, rec.Body.String(), "t-1")

	s.mu.Lock()
	s.fail = false
	s.mu.Unlock()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/api/tickets", nil)) // refused, heals the trail
	require.True(t, a.Healthy())
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/api/tickets", nil))
	assert.Equal(t, 201, rec.Code)
	assert.Equal(t, "/api/tickets/t-1", rec.Header().Get("Location"))
	assert.Equal(t, `{"id":"t-1"}`, rec.Body.String())

	// A streaming handler's flush sends the response at once.
	h = a.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("part"))
		require.NoError(t, http.NewResponseController(w).Flush())
		assert.True(t, w.(interface{ Unwrap() http.ResponseWriter }).Unwrap().(*httptest.ResponseRecorder).Flushed)
	}))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/stream", nil))
	assert.Equal(t, "part", rec.Body.String())
}
