package edge_test

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/cors"
	"github.com/launchready/launchready/readiness"
)

// randomText is built at test time so no secret-shaped value is committed.
func randomText(t *testing.T) string {
	var b [12]byte
	_, err := rand.Read(b[:])
	require.NoError(t, err)
	return hex.EncodeToString(b[:])
}

const goodPage = `<!doctype html><html><head><title>Portal</title>
<link rel="stylesheet" href="/app.css"><script src="/app.js" defer></script></head>
<body><form action="/api/login" method="post"><input name="email"><input name="password" type="password"></form>
<a href="http://docs.example/help">help (a link, not a subresource)</a><img src="/logo.png"></body></html>`

// goodHandler is a portal front that passes every outside check: the
// kit's security headers, no CORS grants, a __Host- session cookie on
// login, healthy health paths, a current security.txt.
func goodHandler(t *testing.T, password string) http.Handler {
	t.Helper()
	hdr, err := cors.NewHeaders(cors.HeadersConfig{Preset: cors.PresetPage})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, goodPage)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ready") })
	mux.HandleFunc("GET /api/me", func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("__Host-session"); err == nil && c.Value != "" {
			fmt.Fprintln(w, `{"email":"agent@portal.test"}`)
			return
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintln(w, `{"title":"Unauthorized","status":401}`)
	})
	mux.HandleFunc("POST /api/login", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Email, Password string }
		if json.NewDecoder(r.Body).Decode(&in) != nil || in.Password != password {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: "__Host-session", Value: randomText(t), Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
		fmt.Fprintln(w, `{}`)
	})
	mux.HandleFunc("GET /.well-known/security.txt", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "Contact: mailto:security@portal.test\nExpires: %s\n", time.Now().Add(180*24*time.Hour).UTC().Format(time.RFC3339))
	})
	return hdr.Handler(mux)
}

// badHandler is a portal front with the launch blockers only the outside
// sees: no security headers, a reflecting CORS layer, a cookie without
// flags, mixed content, and a deploy that left /.env and /.git behind.
func badHandler(t *testing.T) http.Handler {
	t.Helper()
	secret := randomText(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: randomText(t)})
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<html><head><script src="http://cdn.example/app.js"></script></head>
<body><img src="http://cdn.example/logo.png"><form action="/login"></form></body></html>`)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /.env", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "APP_ENV=production\nDATABASE_PASSWORD=%s\n", secret)
	})
	mux.HandleFunc("GET /.git/HEAD", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ref: refs/heads/main") })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" { // reflects any origin, the classic mistake
			w.Header().Set("Access-Control-Allow-Origin", o)
			w.Header().Set("Access-Control-Allow-Credentials", "true")
			if r.Method == http.MethodOptions {
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		mux.ServeHTTP(w, r)
	})
}

// spaHandler answers 200 with the same index page for every path, as a
// single-page app behind a catch-all does.
func spaHandler(t *testing.T) http.Handler {
	hdr, err := cors.NewHeaders(cors.HeadersConfig{Preset: cors.PresetPage})
	require.NoError(t, err)
	return hdr.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, goodPage)
	}))
}

// secureTLS is the intermediate profile; defaultTLS leaves Go's suites
// (CBC included).
func secureTLS(cert tls.Certificate) *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, CipherSuites: readiness.SecureCipherSuites(), Certificates: []tls.Certificate{cert}}
}

func defaultTLS(cert tls.Certificate) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{cert}}
}

// startTLS serves h over TLS on a loopback port.
func startTLS(t *testing.T, h http.Handler, cfg *tls.Config) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point
	srv.TLS = cfg
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// startRedirect serves plain HTTP that redirects to target (301).
func startRedirect(t *testing.T, target string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target+r.URL.RequestURI(), http.StatusMovedPermanently)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// startPlain serves h over plain HTTP (no redirect).
func startPlain(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func hostOf(u string) string { return strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://") }
