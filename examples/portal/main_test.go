package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestCheckFlag: -check exits 0 in development (warnings only); a bad flag
// value exits 2. Production's refusal is TestBootGate's (portalapp), with
// an offline resolver: this test must not query real DNS.
func TestCheckFlag(t *testing.T) {
	dir := t.TempDir()
	common := []string{"-check", "-outbox", dir, "-audit", filepath.Join(dir, "audit.jsonl")}
	assert.Equal(t, 0, run(common))
	assert.Equal(t, 0, run(append(common, "-tls")))
	assert.Equal(t, 2, run([]string{"-env", "staging"}))
}
