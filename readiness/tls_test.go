package readiness_test

import (
	"crypto/tls"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/readiness"
)

var tlsConfigTLS10 = tls.Config{MinVersion: tls.VersionTLS10} //nolint:gosec // the check under test must flag it

// TestDeployTLSSuites: DEPLOY005 refuses TLS 1.2 configurations that offer
// CBC suites (Go's default list, or an explicit one) and accepts the
// intermediate profile and TLS 1.3-only servers.
func TestDeployTLSSuites(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     *tls.Config
		blocked string
	}{
		{"secure suites", &tls.Config{MinVersion: tls.VersionTLS12, CipherSuites: readiness.SecureCipherSuites()}, ""},
		{"TLS 1.3 only", &tls.Config{MinVersion: tls.VersionTLS13}, ""},
		{"Go default suites", &tls.Config{MinVersion: tls.VersionTLS12}, "CBC"},
		{"explicit CBC suite", &tls.Config{CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA}}, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"}, //nolint:gosec // must be flagged
		{"RSA key exchange", &tls.Config{CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}}, "TLS_RSA_WITH_AES_128_GCM_SHA256"},
		{"TLS 1.1 at most", &tls.Config{MaxVersion: tls.VersionTLS11}, "below TLS 1.2"},                                 //nolint:gosec // must be flagged
		{"TLS 1.0", &tls.Config{MinVersion: tls.VersionTLS10, CipherSuites: readiness.SecureCipherSuites()}, "TLS 1.0"}, //nolint:gosec // must be flagged
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := goodTarget(t, readiness.Production)
			target.Server.TLSConfig = tc.cfg
			r, err := readiness.Run(t.Context(), target)
			require.NoError(t, err)
			got := r.ByID("DEPLOY005")
			if tc.blocked == "" {
				assert.Empty(t, got)
				return
			}
			require.Len(t, got, 1)
			assert.Equal(t, readiness.Blocker, got[0].Severity)
			assert.Contains(t, got[0].Seen, tc.blocked)
		})
	}
	for _, id := range readiness.SecureCipherSuites() {
		assert.True(t, readiness.SecureCipherSuite(id))
	}
	assert.False(t, readiness.SecureCipherSuite(tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA))
}
