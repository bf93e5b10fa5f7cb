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
	assert.NoError(t, run(100, 300*time.Millisecond, 4, "", filepath.Join(t.TempDir(), "audit.jsonl")))
	assert.Error(t, run(0, time.Second, 1, "", ""))
	assert.Error(t, run(10, time.Hour, 1, "", ""))
}
