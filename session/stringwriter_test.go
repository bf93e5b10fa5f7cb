package session_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/alexedwards/scs/v2/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/internal/writertest"
	"github.com/launchready/launchready/session"
)

// A body written with io.WriteString reaches the server's writer as a
// string, after the session is saved: its cookie goes out with the header.
func TestSessionWriterPassesStrings(t *testing.T) {
	mgr, err := session.New(session.Config{Store: memstore.NewWithCleanupInterval(0)})
	require.NoError(t, err)
	var allocs float64
	write := writertest.WriteStrings(t, &allocs)
	h := mgr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, mgr.Login(r.Context(), "alice"))
		write(w, r)
	}))
	sink := writertest.NewStringSink()
	h.ServeHTTP(sink, httptest.NewRequest(http.MethodPost, "https://portal.example.com/login", nil))

	assert.Equal(t, http.StatusOK, sink.Code)
	assert.True(t, sink.AllStrings(), "every write reached the server's writer as a string")
	assert.Len(t, sink.H.Values("Set-Cookie"), 1, "the session was saved before the body")
	if !raceEnabled {
		assert.Zero(t, allocs, "io.WriteString through the session writer copies nothing")
	}
}
