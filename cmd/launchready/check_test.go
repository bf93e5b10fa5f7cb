package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/cors"
	"github.com/launchready/launchready/readiness"
)

// selfSignedCA returns a TLS certificate for 127.0.0.1 that is its own CA,
// and the PEM file to pass with -ca. Made at test time.
func selfSignedCA(t *testing.T) (tls.Certificate, string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "check test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(90 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	f := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, f
}

// portalFront serves a minimal portal front over TLS: with headers it
// passes, without it misses every security header.
func portalFront(t *testing.T, headers bool, suites []uint16) (string, string) {
	cert, caFile := selfSignedCA(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<!doctype html><title>portal</title><script src="/app.js"></script>`)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ready") })
	mux.HandleFunc("POST /api/login", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "v", Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	})
	var h http.Handler = mux
	if headers {
		hdr, err := cors.NewHeaders(cors.HeadersConfig{Preset: cors.PresetPage})
		require.NoError(t, err)
		h = hdr.Handler(mux)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, CipherSuites: suites}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL, caFile
}

func TestCheckCommand(t *testing.T) {
	good, goodCA := portalFront(t, true, readiness.SecureCipherSuites())
	bad, badCA := portalFront(t, false, nil)
	fastFlags := []string{"-http", "off", "-n", "2", "-c", "2", "-timeout", "5s"}
	check := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := run(t.Context(), append([]string{"check"}, args...), &out, &errOut)
		return code, out.String(), errOut.String()
	}

	code, out, errOut := check(append(fastFlags, "-ca", goodCA, good)...)
	assert.Equal(t, exitOK, code, "%s%s", out, errOut)
	assert.Contains(t, out, "launch readiness (production): READY")

	code, out, _ = check(append(fastFlags, "-ca", badCA, bad)...)
	assert.Equal(t, exitFailed, code, out)
	assert.Contains(t, out, "BLOCKER CORS007")
	assert.Contains(t, out, "BLOCKER DEPLOY005")

	code, out, _ = check(append(fastFlags, "-env", "development", "-format", "json", "-ca", badCA, bad)...)
	assert.Equal(t, exitFailed, code, "nosniff and friends block in development too")
	var js struct {
		Env      string `json:"env"`
		Findings []struct {
			ID         string `json:"id"`
			Downgraded bool   `json:"downgraded"`
		} `json:"findings"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &js))
	assert.Equal(t, "development", js.Env)
	downgraded := false
	for _, f := range js.Findings {
		downgraded = downgraded || f.ID == "CORS007" && f.Downgraded
	}
	assert.True(t, downgraded, "missing HSTS is a production-only blocker")

	// Without -ca the self-signed certificate is a blocker.
	code, out, _ = check(append(fastFlags, good)...)
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, out, "BLOCKER EDGE001")

	// Credentials come from the environment; the login cookie is graded.
	t.Setenv(envCheckEmail, "agent@portal.test")
	t.Setenv(envCheckPassword, "from-the-environment")
	code, out, _ = check(append(fastFlags, "-auth-path", "/readyz", "-ca", goodCA, good)...)
	assert.Equal(t, exitOK, code, out)
	assert.Contains(t, out, "INFO EDGE011 [GET /readyz]")
	assert.Contains(t, out, `cookie "session" has no __Host- prefix`)
}

func TestCheckCommandCannotRun(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	empty := filepath.Join(t.TempDir(), "empty.pem")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "give exactly one URL"},
		{[]string{"http://127.0.0.1:1"}, "not https"},
		{[]string{"-format", "xml", "https://127.0.0.1:1"}, "unknown -format"},
		{[]string{"-env", "staging", "https://127.0.0.1:1"}, "-env"},
		{[]string{"-no-such-flag", "https://127.0.0.1:1"}, "flag provided but not defined"},
		{[]string{"-ca", empty, "https://127.0.0.1:1"}, "holds no PEM certificate"},
		{[]string{"-sending-ip", "nope", "https://127.0.0.1:1"}, "not an IP address"},
		{[]string{"-http", "off", "https://" + closed.Listener.Addr().String()}, "target unreachable"},
	} {
		var out, errOut bytes.Buffer
		assert.Equal(t, exitCantRun, run(t.Context(), append([]string{"check"}, tc.args...), &out, &errOut), "%v", tc.args)
		assert.Contains(t, errOut.String(), tc.want, "%v", tc.args)
	}
	t.Setenv(envCheckEmail, "only-the-email@portal.test")
	var errOut bytes.Buffer
	assert.Equal(t, exitCantRun, run(t.Context(), []string{"check", "https://127.0.0.1:1"}, io.Discard, &errOut))
	assert.Contains(t, errOut.String(), "set both")
}

// TestCheckSARIF checks the command's SARIF against the properties SARIF
// 2.1.0 marks required and those GitHub code scanning needs, as the
// in-process report's TestSARIFShape does.
func TestCheckSARIF(t *testing.T) {
	bad, badCA := portalFront(t, false, nil)
	var out bytes.Buffer
	code := run(t.Context(), []string{"check", "-http", "off", "-n", "2", "-c", "2", "-format", "sarif", "-ca", badCA, bad}, &out, io.Discard)
	require.Equal(t, exitFailed, code)
	var log map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &log))
	assert.Equal(t, "2.1.0", log["version"])
	assert.Equal(t, "https://json.schemastore.org/sarif-2.1.0.json", log["$schema"])
	runs := log["runs"].([]any)
	require.Len(t, runs, 1)
	driver := runs[0].(map[string]any)["tool"].(map[string]any)["driver"].(map[string]any)
	assert.Equal(t, "launchready", driver["name"])
	ruleIDs := map[string]int{}
	for i, rr := range driver["rules"].([]any) {
		rule := rr.(map[string]any)
		require.NotEmpty(t, rule["id"])
		assert.NotEmpty(t, rule["shortDescription"].(map[string]any)["text"])
		ruleIDs[rule["id"].(string)] = i
	}
	results := runs[0].(map[string]any)["results"].([]any)
	require.NotEmpty(t, results)
	for _, rr := range results {
		res := rr.(map[string]any)
		id := res["ruleId"].(string)
		require.Contains(t, ruleIDs, id)
		assert.EqualValues(t, ruleIDs[id], res["ruleIndex"])
		assert.Contains(t, []string{"error", "warning", "note", "none"}, res["level"])
		assert.NotEmpty(t, res["message"].(map[string]any)["text"], "message.text is required")
		locs := res["locations"].([]any)
		require.NotEmpty(t, locs)
		phys := locs[0].(map[string]any)["physicalLocation"].(map[string]any)
		assert.NotEmpty(t, phys["artifactLocation"].(map[string]any)["uri"])
		assert.GreaterOrEqual(t, phys["region"].(map[string]any)["startLine"].(float64), 1.0)
		_, known := readiness.Lookup(id)
		assert.True(t, known, "%s is in the catalogue", id)
	}
	assert.Contains(t, ruleIDs, "CORS007")
	assert.Contains(t, ruleIDs, "EDGE003")
}
