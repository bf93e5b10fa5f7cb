package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestRunSmoke drives the in-process portal briefly at a low rate: every
// request of the mix must succeed through all protections.
func TestRunSmoke(t *testing.T) {
	assert.NoError(t, run(100, 300*time.Millisecond, 4, "", filepath.Join(t.TempDir(), "audit.jsonl"), ""))
	assert.Error(t, run(0, time.Second, 1, "", "", ""))
	assert.Error(t, run(10, time.Hour, 1, "", "", ""))
	assert.Error(t, run(10, time.Second, 1, "", "", "sometimes"))
	assert.Error(t, run(10, time.Second, 1, "http://127.0.0.1:1", "", "slow"))
}

// With a CRM that hangs, client lookups degrade within their deadline and
// every request still answers 2xx.
func TestRunWithSlowCRM(t *testing.T) {
	assert.NoError(t, run(60, 500*time.Millisecond, 8, "", filepath.Join(t.TempDir(), "audit.jsonl"), "slow"))
}
