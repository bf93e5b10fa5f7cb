package audit_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/audit"
)

// The trail must answer "who tried what, from where" for anonymous events
// too: a failed login and a refused request carry the client address and
// the request ID.
func TestRecordsCarryClientAddressAndRequestID(t *testing.T) {
	sink := &audit.MemorySink{}
	a, err := audit.New(audit.Config{Sink: sink, Now: fixedClock(),
		RequestID: func(r *http.Request) string { return r.Header.Get("X-Request-Id") },
		ClientIP:  func(r *http.Request) string { return "203.0.113.7" }})
	require.NoError(t, err)
	assert.True(t, a.RecordsClientIP())
	assert.True(t, a.RecordsRequestID())

	r := httptest.NewRequest("POST", "/api/login", nil)
	r.Header.Set("X-Request-Id", "rid-9")
	require.NoError(t, a.Event(r, audit.Event{Action: "login", Outcome: audit.OutcomeDenied}))

	// A refusal in front of the handler (a cross-origin 403, a 429 lockout)
	// is recorded when the auditor wraps the refusing layer.
	refuse := func(code int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code) })
	}
	for _, code := range []int{http.StatusForbidden, http.StatusTooManyRequests} {
		w := httptest.NewRecorder()
		a.Handler(refuse(code)).ServeHTTP(w, r)
	}
	recs := sink.Records()
	require.Len(t, recs, 3)
	for _, rec := range recs {
		assert.Equal(t, "203.0.113.7", rec.ClientIP)
		assert.Equal(t, "rid-9", rec.RequestID)
	}
	assert.Equal(t, audit.OutcomeDenied, recs[1].Outcome)
	assert.Equal(t, 429, recs[2].Status)
}

func TestNoClientAddressUnlessConfigured(t *testing.T) {
	sink := &audit.MemorySink{}
	a, err := audit.New(audit.Config{Sink: sink})
	require.NoError(t, err)
	assert.False(t, a.RecordsClientIP())
	require.NoError(t, a.Event(httptest.NewRequest("POST", "/api/login", nil), audit.Event{Action: "login"}))
	assert.Empty(t, sink.Records()[0].ClientIP, "never a guess from RemoteAddr behind a proxy")
}
