// Package prometheus exports the monitor package's counters through
// prometheus/client_golang.
package prometheus
