//go:build linux

package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseStatCPU(t *testing.T) {
	// utime 250 and stime 50 ticks; the name holds a space and a ')'.
	d, err := parseStatCPU("4242 (load gen) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8 0 1000 0 0")
	require.NoError(t, err)
	assert.Equal(t, 3*time.Second, d)
	_, err = parseStatCPU("4242 (loadgen) S 1 2")
	assert.Error(t, err, "too few fields")
	_, err = parseStatCPU("4242 loadgen S")
	assert.Error(t, err, "no name")
	_, err = parseStatCPU("4242 (loadgen) S 1 4242 4242 0 -1 4194560 100 0 0 0 x 50 0")
	assert.Error(t, err, "utime not a number")

	self, err := cpuTime(0)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, self, time.Duration(0))
}
