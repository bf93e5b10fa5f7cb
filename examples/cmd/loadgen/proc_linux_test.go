//go:build linux

package main

import (
	"runtime"
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
	_, err = parseStatCPU("4242 (loadgen) S 1 4242 4242 0 -1 4194560 100 0 0 0 -5 50 0")
	assert.Error(t, err, "negative utime")
	_, err = parseStatCPU("4242 (loadgen) S 1 4242 4242 0 -1 4194560 100 0 0 0 9223372036854775807 9223372036854775807 0")
	assert.Error(t, err, "ticks that would overflow")

	self, err := cpuTime(0)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, self, time.Duration(0))
}

// parseStatCPU never panics, and what it accepts is a non-negative time.
func FuzzParseStatCPU(f *testing.F) {
	f.Add("4242 (load gen) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 8 0 1000 0 0")
	f.Add("1 (a) S 1 2 3 4 5 6 7 8 9 10 -1 2")
	f.Add(")")
	f.Fuzz(func(t *testing.T, stat string) {
		d, err := parseStatCPU(stat)
		if err == nil && d < 0 {
			t.Fatalf("negative CPU time %v from %q", d, stat)
		}
	})
}

func TestAllowedCPUs(t *testing.T) {
	cpus, err := allowedCPUs()
	require.NoError(t, err)
	require.NotEmpty(t, cpus)
	assert.LessOrEqual(t, len(cpus), runtime.NumCPU())
	assert.IsIncreasing(t, cpus)
}
