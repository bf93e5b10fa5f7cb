package readiness_test

import "crypto/tls"

var tlsConfigTLS10 = tls.Config{MinVersion: tls.VersionTLS10} //nolint:gosec // the check under test must flag it
