package session_test

import (
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/session"
)

// TestLastWriteWins pins down the behaviour the package doc describes: a
// request that changes the session saves the whole copy it loaded, so a
// slow one that finishes last overwrites a value a concurrent request
// wrote meanwhile. The identity set at login is never lost. (A read-only
// request saves nothing, see TestReadOnlyRequestDoesNotOverwrite, except
// once a minute to push the idle deadline.)
func TestLastWriteWins(t *testing.T) {
	testSlowRequest(t, true)
}

// A request that only reads the session (User, the data API's Get) saves
// nothing, so it cannot undo a concurrent request's change.
func TestReadOnlyRequestDoesNotOverwrite(t *testing.T) {
	testSlowRequest(t, false)
}

// testSlowRequest runs a slow request that loads the session (and changes
// it if writes) while another request writes a note, and checks whether
// the note survives.
func testSlowRequest(t *testing.T, writes bool) {
	mgr, err := session.New(session.Config{})
	require.NoError(t, err)
	loaded, release := make(chan struct{}), make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, mgr.Login(r.Context(), "alice"))
	})
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		_, _, ok := mgr.User(r)
		assert.True(t, ok)
		_ = mgr.Engine().GetString(r.Context(), "note") // the session is loaded (before the note is written)
		if writes {
			mgr.Engine().Put(r.Context(), "visited", true)
		}
		close(loaded)
		<-release
	})
	mux.HandleFunc("POST /note", func(w http.ResponseWriter, r *http.Request) {
		mgr.Engine().Put(r.Context(), "note", r.FormValue("note"))
	})
	mux.HandleFunc("GET /note", func(w http.ResponseWriter, r *http.Request) {
		_, _, ok := mgr.User(r)
		_, _ = io.WriteString(w, mgr.Engine().GetString(r.Context(), "note"))
		if !ok {
			_, _ = io.WriteString(w, " (anonymous)")
		}
	})
	srv := newTLS(t, mgr.Handler(mux))
	b := newBrowser(t, srv)
	b.post("/login", nil)

	slowDone := make(chan struct{})
	go func() {
		defer close(slowDone)
		resp, err := b.c.Get(srv.URL + "/slow")
		if err == nil {
			_ = resp.Body.Close()
		}
	}()
	<-loaded
	b.post("/note", url.Values{"note": {"written meanwhile"}})
	assert.Equal(t, "written meanwhile", get(t, b, "/note"))
	close(release)
	<-slowDone

	if !writes {
		assert.Equal(t, "written meanwhile", get(t, b, "/note"), "a read-only request saves nothing")
		return
	}
	// "" and not " (anonymous)": the note is lost, the identity is kept.
	assert.Equal(t, "", get(t, b, "/note"), "the slow request saved the copy it loaded: last write wins")
}

func get(t *testing.T, b *browser, path string) string {
	t.Helper()
	resp, err := b.c.Get(b.srv.URL + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}
