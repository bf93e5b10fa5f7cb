package e2e_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/cors"
	"github.com/launchready/launchready/e2e/chromium"
)

// page serves a small HTML page with a form that posts to action.
func page(action *string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>page</title><form id="f" method="POST" action="%s/api/tickets"><input name="subject" value="x"></form>`, *action)
	}))
}

// TestBrowserCORSBoundary loads pages from three loopback origins in real
// chromium and calls an API on a fourth: the trusted origin reads it with
// credentials, an untrusted same-site origin and a cross-site origin are
// blocked by the browser (no CORS grant) and their form posts are refused
// by cross-origin protection before reaching the handler.
func TestBrowserCORSBoundary(t *testing.T) {
	var apiURL string
	trustedPage, untrustedPage, crossSitePage := page(&apiURL), page(&apiURL), page(&apiURL)
	defer trustedPage.Close()
	defer untrustedPage.Close()
	defer crossSitePage.Close()
	// localhost and 127.0.0.1 are different sites: Sec-Fetch-Site: cross-site.
	crossSiteURL := strings.Replace(crossSitePage.URL, "127.0.0.1", "localhost", 1)

	policy, err := cors.New(cors.Config{
		AllowedOrigins:    []string{trustedPage.URL},
		AllowCredentials:  true,
		AllowedMethods:    []string{"GET", "POST"},
		InsecureAllowHTTP: true, // loopback test servers speak plain http
	})
	require.NoError(t, err)
	headers, err := cors.NewHeaders(cors.HeadersConfig{InsecureNoHSTS: true})
	require.NoError(t, err)

	var posts atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/login", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "s" + fmt.Sprint(42), Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /api/me", func(w http.ResponseWriter, r *http.Request) {
		user := "anonymous"
		if c, err := r.Cookie("sid"); err == nil && c.Value == "s42" {
			user = "alice"
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"user":%q}`, user)
	})
	mux.HandleFunc("POST /api/tickets", func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		w.WriteHeader(http.StatusCreated)
	})
	api := httptest.NewServer(headers.Handler(policy.Handler(mux)))
	defer api.Close()
	apiURL = api.URL

	b := chromium.Start(t)

	fetch := func(path, init string) string {
		t.Helper()
		var out string
		js := fmt.Sprintf(`fetch(%q, %s).then(r => r.text().then(b => r.status + " " + b)).catch(e => "blocked " + e.name)`, api.URL+path, init)
		require.NoError(t, b.Eval(js, &out))
		return out
	}

	t.Run("trusted origin with credentials", func(t *testing.T) {
		require.NoError(t, b.Navigate(trustedPage.URL))
		assert.Equal(t, "204 ", fetch("/api/login", `{method: "POST", credentials: "include"}`))
		assert.Equal(t, `200 {"user":"alice"}`, fetch("/api/me", `{credentials: "include"}`))
		assert.Equal(t, "201 ", fetch("/api/tickets", `{method: "POST", credentials: "include", headers: {"Content-Type": "application/json"}, body: "{}"}`))
		assert.Equal(t, int32(1), posts.Load())
	})

	for name, origin := range map[string]string{"untrusted same-site origin": untrustedPage.URL, "cross-site origin": crossSiteURL} {
		t.Run(name+" is blocked by the browser", func(t *testing.T) {
			before := posts.Load()
			require.NoError(t, b.Navigate(origin))
			assert.Equal(t, "blocked TypeError", fetch("/api/me", `{credentials: "include"}`))
			assert.Equal(t, "blocked TypeError", fetch("/api/tickets", `{method: "POST", credentials: "include", headers: {"Content-Type": "application/json"}, body: "{}"}`))
			// A simple (no-preflight) POST is sent by the browser; the response
			// is unreadable and cross-origin protection stops it before the handler.
			assert.Equal(t, "blocked TypeError", fetch("/api/tickets", `{method: "POST", credentials: "include", body: new URLSearchParams("subject=x")}`))
			assert.Equal(t, before, posts.Load(), "no request from %s reached the handler", origin)
		})
		t.Run(name+" form POST is refused", func(t *testing.T) {
			before := posts.Load()
			require.NoError(t, b.Navigate(origin))
			require.NoError(t, b.Eval(`document.getElementById("f").submit()`, nil))
			require.NoError(t, b.WaitFor(fmt.Sprintf(`location.href.startsWith(%q) && document.readyState === "complete"`, api.URL)))
			var body string
			require.NoError(t, b.Eval(`document.body.innerText`, &body))
			assert.Contains(t, body, `"status":403`)
			assert.Equal(t, before, posts.Load())
		})
	}

	png, err := b.Screenshot()
	require.NoError(t, err)
	assert.Equal(t, "\x89PNG", string(png[:4]))
}
