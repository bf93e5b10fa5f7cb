package edge_test

import (
	"fmt"
	"net/http"
	"net/http/pprof"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/cmd/launchready/edge"
	"github.com/launchready/launchready/readiness"
)

// TestExposures: Go's real pprof handler, a Prometheus page, a backup of
// the index and a browsable directory (http.FileServer) are each reported
// by ID; a health endpoint that leaks and an expired security.txt warn.
func TestExposures(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "app.js"), []byte("console.log(1)"), 0o600))
	base := goodHandler(t, "x")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "# HELP http_requests_total Requests.\n# TYPE http_requests_total counter\nhttp_requests_total 7\n")
	})
	mux.HandleFunc("GET /index.html.bak", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, "<html><!-- old index, admin link: /admin-old --></html>")
	})
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServer(http.Dir(dir))))
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, `{"status":"ready","version":"1.4.2","db":"postgres://portal@10.0.3.7:5432/portal"}`)
	})
	mux.HandleFunc("GET /.well-known/security.txt", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "Contact: mailto:security@portal.test\nExpires: %s\n", time.Now().Add(-24*time.Hour).UTC().Format(time.RFC3339))
	})
	mux.Handle("/", base)
	ca := newCA(t)
	srv := startTLS(t, mux, secureTLS(ca.leaf(t, leafOpts{})))
	r := runCheck(t, edge.Config{URL: srv.URL, SkipHTTP: true, RootCAs: ca.pool(), Sequential: -1, Concurrent: -1})

	routes := func(id string) []string {
		var out []string
		for _, f := range r.ByID(id) {
			out = append(out, f.Route)
			assert.Equal(t, readiness.Blocker, f.Severity, f.String())
		}
		return out
	}
	assert.Equal(t, []string{"GET /debug/pprof/"}, routes("AUTH008"))
	assert.ElementsMatch(t, []string{"GET /metrics", "GET /static/"}, routes("EDGE007"))
	assert.Equal(t, []string{"GET /index.html.bak"}, routes("EDGE006"))

	leak := r.ByID("MON004")
	require.Len(t, leak, 1, "%s", r)
	assert.Equal(t, "GET /readyz", leak[0].Route)
	for _, what := range []string{"a connection string", "build or host details", "a private address"} {
		assert.Contains(t, leak[0].Seen, what)
	}
	assert.NotContains(t, leak[0].Seen, "10.0.3.7", "the finding names the kind of leak, not the value")
	sec := r.ByID("EDGE009")
	require.Len(t, sec, 1)
	assert.True(t, strings.HasPrefix(sec[0].Seen, "security.txt expired on"), sec[0].Seen)
}

// TestHealth: a readiness path answering 503 is MON001; a liveness path
// slower than a second (on a fake clock the handler advances) is EDGE008.
func TestHealth(t *testing.T) {
	var offset atomic.Int64
	base := time.Now()
	now := func() time.Time { return base.Add(time.Duration(offset.Load())) }
	good := goodHandler(t, "x")
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
			offset.Add(int64(1500 * time.Millisecond))
		case "/readyz":
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		good.ServeHTTP(w, r)
	})
	ca := newCA(t)
	srv := startTLS(t, h, secureTLS(ca.leaf(t, leafOpts{})))
	r := runCheck(t, edge.Config{URL: srv.URL, SkipHTTP: true, RootCAs: ca.pool(), Now: now, Sequential: -1, Concurrent: -1})
	down := r.ByID("MON001")
	require.Len(t, down, 1, "%s", r)
	assert.Equal(t, "GET /readyz", down[0].Route)
	assert.Contains(t, down[0].Seen, "answered 503")
	slow := r.ByID("EDGE008")
	require.Len(t, slow, 1)
	assert.Equal(t, "GET /healthz", slow[0].Route)
	assert.Equal(t, readiness.Warning, slow[0].Severity)
	assert.Contains(t, slow[0].Seen, "took 1.5s")
}
