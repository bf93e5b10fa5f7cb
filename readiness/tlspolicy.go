package readiness

import (
	"crypto/tls"
	"fmt"
	"slices"
	"strings"
)

// The TLS floor (DEPLOY005) is Mozilla's "intermediate" profile: TLS 1.2 or
// newer, and for TLS 1.2 only ECDHE key exchange with an AEAD cipher
// (AES-GCM or ChaCha20-Poly1305). CBC suites are refused: they are what
// testssl.sh reports as "obsolete CBC ciphers" and LUCKY13-prone, and Go's
// default TLS 1.2 list still offers the ECDHE-…-AES-CBC-SHA ones. TLS 1.3
// suites are all AEAD and not configurable in Go.
//
// The same rule is applied from the inside (the server's tls.Config, in
// checkServer) and from the outside (the launchready command's handshakes).

// secureSuites are the TLS 1.2 suites of the intermediate profile, in
// Mozilla's order of preference.
var secureSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// SecureCipherSuites returns the TLS 1.2 cipher suites DEPLOY005 accepts:
// ECDHE with AES-GCM or ChaCha20-Poly1305. Set tls.Config.CipherSuites to
// it on a server that terminates TLS:
//
//	srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, CipherSuites: readiness.SecureCipherSuites()}
func SecureCipherSuites() []uint16 { return slices.Clone(secureSuites) }

// SecureCipherSuite reports whether id is one of SecureCipherSuites or a
// TLS 1.3 suite.
func SecureCipherSuite(id uint16) bool {
	switch id {
	case tls.TLS_AES_128_GCM_SHA256, tls.TLS_AES_256_GCM_SHA384, tls.TLS_CHACHA20_POLY1305_SHA256:
		return true
	}
	return slices.Contains(secureSuites, id)
}

// tlsConfigProblems says what in tc breaks the TLS floor; nil when nothing
// does.
func tlsConfigProblems(tc *tls.Config) []string {
	if tc == nil {
		return nil
	}
	var out []string
	if tc.MinVersion != 0 && tc.MinVersion < tls.VersionTLS12 {
		out = append(out, fmt.Sprintf("accepts %s, which is deprecated (RFC 8996)", tls.VersionName(tc.MinVersion)))
	}
	if tc.MaxVersion != 0 && tc.MaxVersion < tls.VersionTLS12 {
		return append(out, fmt.Sprintf("stops at %s (MaxVersion), below TLS 1.2", tls.VersionName(tc.MaxVersion)))
	}
	if tc.MinVersion >= tls.VersionTLS13 {
		return out // TLS 1.3 suites are all AEAD
	}
	if tc.CipherSuites == nil {
		out = append(out, "leaves CipherSuites at Go's default, which still offers the CBC suites ECDHE-ECDSA/RSA-AES128/256-SHA for TLS 1.2")
		return out
	}
	var weak []string
	for _, id := range tc.CipherSuites {
		if !SecureCipherSuite(id) {
			weak = append(weak, tls.CipherSuiteName(id))
		}
	}
	if len(weak) > 0 {
		out = append(out, "offers "+strings.Join(weak, ", ")+" (not ECDHE with AES-GCM or ChaCha20-Poly1305)")
	}
	return out
}
