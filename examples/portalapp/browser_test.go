package portalapp_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/e2e/chromium"
	"github.com/launchready/launchready/examples/portalapp"
	"github.com/launchready/launchready/readiness"
)

// artifactDir is where browser tests save screenshots: $ARTIFACTS, or
// artifacts/ at the repository root in CI, or a directory in the system
// temp dir. The path is printed in the test log.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("ARTIFACTS")
	if dir == "" && os.Getenv("CI") == "true" {
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "..", "..", "artifacts")
	}
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "launchready-artifacts")
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	abs, err := filepath.Abs(dir)
	require.NoError(t, err)
	return abs
}

// hit is one request the portal answered, as the browser test saw it.
type hit struct {
	method, path, origin string
	status               int
}

type recorder struct {
	mu   sync.Mutex
	hits []hit
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// recording is the recorder's middleware; walkable, so the scorecard the
// test opens still sees the portal's whole chain.
type recording struct {
	rec  *recorder
	next http.Handler
}

func (h *recording) Unwrap() http.Handler { return h.next }

func (h *recording) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.rec.serve(h.next, w, r) }

func (rec *recorder) wrap(next http.Handler) http.Handler { return &recording{rec: rec, next: next} }

func (rec *recorder) serve(next http.Handler, w http.ResponseWriter, r *http.Request) {
	{
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		rec.mu.Lock()
		rec.hits = append(rec.hits, hit{r.Method, r.URL.Path, r.Header.Get("Origin"), sw.status})
		rec.mu.Unlock()
	}
}

func (rec *recorder) find(method, path string) []hit {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var out []hit
	for _, h := range rec.hits {
		if h.method == method && h.path == path {
			out = append(out, h)
		}
	}
	return out
}

// TestBrowser drives Debian's headless chromium through the page: a client
// user signs in and sees only their tenant's tickets; a page on another
// loopback origin can neither read the API nor post a form with the user's
// cookie; an admin opens the readiness scorecard, saved as a screenshot.
func TestBrowser(t *testing.T) {
	for _, router := range routers {
		t.Run(router, func(t *testing.T) { testBrowser(t, router) })
	}
}

func testBrowser(t *testing.T, router string) {
	srv := httptest.NewUnstartedServer(nil)
	p, err := portalapp.Build(portalapp.Options{Env: readiness.Development, Addr: srv.Listener.Addr().String(), OutboxDir: t.TempDir(), AuditFile: filepath.Join(t.TempDir(), "audit.jsonl"), Router: router})
	require.NoError(t, err)
	p.Health.SetBoot(nil)
	rec := &recorder{}
	p.Server.Handler = rec.wrap(p.Server.Handler)
	srv.Config = p.Server
	srv.Start()
	t.Cleanup(srv.Close)
	portal := srv.URL

	// Another origin on loopback: same host, another port. It is same-site
	// with the portal, so the browser sends the SameSite=Lax session cookie
	// with its form posts: only cross-origin protection stops them.
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>evil</title><body>
<iframe name="sink"></iframe>
<form id="f" method="POST" action="%[1]s/api/logout" target="sink"></form>
<form id="g" method="POST" action="%[1]s/api/clients/client-a/tickets" target="sink" enctype="text/plain"><input name='{"subject":"forged","x":"' value='"}'></form>
<script>
window.readAPI = fetch(%[1]q + "/api/clients/client-a/tickets", {credentials: "include"})
  .then(r => r.text()).then(t => "read:" + t, e => "blocked");
</script></body>`, portal)
	}))
	t.Cleanup(evil.Close)

	b := chromium.Start(t)

	// Sign in through the page as Alice (client-a).
	require.NoError(t, b.Navigate(portal+"/"))
	require.NoError(t, b.WaitFor(`document.body.dataset.loaded === "1"`))
	require.NoError(t, b.Eval(`(() => {
		document.getElementById("email").value = "alice@client-a.test";
		document.getElementById("password").value = "`+portalapp.DemoPassword+`";
		document.getElementById("login-submit").click();
		return true; })()`, nil))
	require.NoError(t, b.WaitFor(`document.body.dataset.ready === "app"`))
	var subjects []string
	require.NoError(t, b.Eval(`[...document.querySelectorAll("#tickets tr.ticket td:nth-child(2)")].map(td => td.textContent)`, &subjects))
	own, err := p.Store.Tickets(t.Context(), "client-a")
	require.NoError(t, err)
	other, err := p.Store.Tickets(t.Context(), "client-b")
	require.NoError(t, err)
	require.NotEmpty(t, subjects)
	for _, s := range subjects {
		assert.True(t, slices.ContainsFunc(own, func(tk portalapp.Ticket) bool { return tk.Subject == s }), "ticket %q is client-a's", s)
		assert.False(t, slices.ContainsFunc(other, func(tk portalapp.Ticket) bool { return tk.Subject == s }), "ticket %q of client-b shown to alice", s)
	}
	var clients []string
	require.NoError(t, b.Eval(`[...document.querySelectorAll("#clients button")].map(b => b.textContent)`, &clients))
	assert.Equal(t, []string{"Client A Retail"}, clients)

	// The other origin, in the same browser, with Alice's cookie in the jar.
	evilURL := strings.Replace(evil.URL, "localhost", "127.0.0.1", 1)
	require.NoError(t, b.Navigate(evilURL+"/"))
	var read string
	require.NoError(t, b.Eval(`window.readAPI`, &read))
	assert.Equal(t, "blocked", read, "a page on another origin must not read the API")
	require.NoError(t, b.Eval(`document.getElementById("f").submit(), true`, nil))
	require.Eventually(t, func() bool { return len(rec.find("POST", "/api/logout")) > 0 }, 10*time.Second, 50*time.Millisecond)
	require.NoError(t, b.Eval(`document.getElementById("g").submit(), true`, nil))
	require.Eventually(t, func() bool { return len(rec.find("POST", "/api/clients/client-a/tickets")) > 0 }, 10*time.Second, 50*time.Millisecond)
	for _, h := range append(rec.find("POST", "/api/logout"), rec.find("POST", "/api/clients/client-a/tickets")...) {
		assert.Equal(t, http.StatusForbidden, h.status, "cross-origin form post %s %s from %s", h.method, h.path, h.origin)
	}
	after, err := p.Store.Tickets(t.Context(), "client-a")
	require.NoError(t, err)
	assert.Len(t, after, len(own), "no forged ticket")

	// Back on the portal, Alice is still signed in: the forged logout failed.
	require.NoError(t, b.Navigate(portal+"/"))
	require.NoError(t, b.WaitFor(`document.body.dataset.ready === "app"`))
	var status int
	require.NoError(t, b.Eval(`fetch("/admin/readiness").then(r => r.status)`, &status))
	assert.Equal(t, http.StatusForbidden, status, "a client user cannot open the scorecard")

	// Sign out, sign in as the admin, open the scorecard.
	require.NoError(t, b.Eval(`document.getElementById("logout").click(), true`, nil))
	require.NoError(t, b.WaitFor(`!document.getElementById("login-view").hidden`))
	require.NoError(t, b.Eval(`(() => {
		document.getElementById("email").value = "admin@acme.test";
		document.getElementById("password").value = "`+portalapp.DemoPassword+`";
		document.getElementById("login-submit").click();
		return true; })()`, nil))
	// The admin is enrolled: the page asks for the code.
	require.NoError(t, b.WaitFor(`document.body.dataset.step === "mfa" && !document.getElementById("mfa-form").hidden`))
	var codes codeSource
	require.NoError(t, b.Eval(`(() => {
		document.getElementById("mfa-code").value = "`+codes.next(t, p)+`";
		document.getElementById("mfa-submit").click();
		return true; })()`, nil))
	require.NoError(t, b.WaitFor(`document.body.dataset.ready === "app" && document.getElementById("who").textContent.includes("admin")`))
	require.NoError(t, b.Navigate(portal+"/admin/readiness"))
	var heading string
	require.NoError(t, b.Eval(`document.querySelector("h1").textContent`, &heading))
	assert.Equal(t, "Launch readiness scorecard", heading)
	var cards int
	require.NoError(t, b.Eval(`document.querySelectorAll(".board .card").length`, &cards))
	assert.Equal(t, 10, cards)
	png, err := b.Screenshot()
	require.NoError(t, err)
	name := "admin-readiness.png"
	if router != portalapp.RouterServeMux {
		name = "admin-readiness-" + router + ".png"
	}
	path := filepath.Join(artifactDir(t), name)
	require.NoError(t, os.WriteFile(path, png, 0o644))
	t.Logf("screenshot of /admin/readiness: %s", path)
}
