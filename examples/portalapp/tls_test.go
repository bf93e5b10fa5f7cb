package portalapp_test

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/examples/portalapp"
	"github.com/launchready/launchready/readiness"
)

// TestTLS: with -tls the portal serves HTTPS with a certificate made at
// start for localhost, and the session cookie is __Host- and Secure even
// in development, with HSTS.
func TestTLS(t *testing.T) {
	cfg, cert, err := portalapp.SelfSignedTLS(time.Now())
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(nil)
	p, err := portalapp.Build(portalapp.Options{Env: readiness.Development, TLS: true,
		Addr: srv.Listener.Addr().String(), OutboxDir: t.TempDir(), AuditFile: filepath.Join(t.TempDir(), "audit.jsonl")})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(p.PublicURL, "https://"))
	p.Server.TLSConfig = cfg
	srv.Config = p.Server
	srv.TLS = cfg
	srv.StartTLS()
	t.Cleanup(srv.Close)

	pool := x509.NewCertPool()
	pool.AddCert(cert)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}}
	res, err := c.Post(srv.URL+"/api/login", "application/json",
		strings.NewReader(`{"email":"alice@client-a.test","password":"`+portalapp.DemoPassword+`"}`))
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	var cookie *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "__Host-session" {
			cookie = c
		}
	}
	require.NotNil(t, cookie, "session cookie in %v", res.Header["Set-Cookie"])
	assert.True(t, cookie.Secure)
	assert.True(t, cookie.HttpOnly)
	assert.Equal(t, http.SameSiteLaxMode, cookie.SameSite)
	assert.Contains(t, res.Header.Get("Strict-Transport-Security"), "max-age=")

	res, err = c.Get(srv.URL + "/api/me")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)

	report, err := readiness.Run(t.Context(), p.Target)
	require.NoError(t, err)
	for _, id := range []string{"SESS001", "SESS004", "CORS004", "CORS007"} {
		assert.Empty(t, report.ByID(id), "%s is fixed by -tls", id)
	}
}

// TestTLSRefusesCBC: the portal's TLS 1.2 refuses the CBC suites Go still
// offers by default (testssl.sh: "Obsolete CBC ciphers", LUCKY13) and
// accepts ECDHE with AES-GCM; DEPLOY005 agrees with the handshake.
func TestTLSRefusesCBC(t *testing.T) {
	cfg, cert, err := portalapp.SelfSignedTLS(time.Now())
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.TLS = cfg
	srv.StartTLS()
	t.Cleanup(srv.Close)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	handshake := func(suite uint16) error {
		c, err := tls.Dial("tcp", srv.Listener.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "localhost",
			MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{suite}})
		if err == nil {
			c.Close()
		}
		return err
	}
	assert.NoError(t, handshake(tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256))
	for _, cbc := range []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA} {
		assert.Error(t, handshake(cbc), tls.CipherSuiteName(cbc)) //nolint:gosec // the attack must fail
	}

	p, err := portalapp.Build(portalapp.Options{Env: readiness.Production, TLS: true, Addr: srv.Listener.Addr().String(),
		OutboxDir: t.TempDir(), AuditFile: filepath.Join(t.TempDir(), "audit.jsonl")})
	require.NoError(t, err)
	p.Server.TLSConfig = cfg
	report, err := readiness.Run(t.Context(), p.Target)
	require.NoError(t, err)
	assert.Empty(t, report.ByID("DEPLOY005"), "%s", report)
	p.Server.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: cfg.Certificates}
	report, err = readiness.Run(t.Context(), p.Target)
	require.NoError(t, err)
	require.Len(t, report.ByID("DEPLOY005"), 1, "Go's default suites include CBC")
	assert.Contains(t, report.ByID("DEPLOY005")[0].Seen, "CBC")
}
