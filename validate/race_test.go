//go:build race

package validate_test

const raceEnabled = true // the race detector allocates
