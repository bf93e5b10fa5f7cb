package monitor_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/launchready/launchready/internal/writertest"
	"github.com/launchready/launchready/monitor"
)

func TestRecoveryAndCountersPassStrings(t *testing.T) {
	var allocs float64
	quiet := monitor.SlogReporter{Logger: slog.New(slog.DiscardHandler)}
	h := monitor.Recover(quiet).Handler(monitor.NewCounters().Handler(writertest.WriteStrings(t, &allocs)))
	sink := writertest.NewStringSink()
	h.ServeHTTP(sink, httptest.NewRequest(http.MethodGet, "/api/clients/client-a", nil))

	assert.Equal(t, http.StatusOK, sink.Code)
	assert.True(t, sink.AllStrings(), "every write reached the server's writer as a string")
	assert.Zero(t, allocs, "io.WriteString through recovery and counters copies nothing")
}

// A response begun with io.WriteString is a begun response: a panic after
// it cannot be answered with a 500 document, the connection is aborted.
func TestRecoverySeesAStringWriteAsStarted(t *testing.T) {
	counters := monitor.NewCounters()
	quiet := monitor.SlogReporter{Logger: slog.New(slog.DiscardHandler)}
	h := monitor.Recover(quiet).Handler(counters.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, writertest.LongBody)
		panic("export failed half way")
	})))
	sink := writertest.NewStringSink()
	assert.PanicsWithValue(t, http.ErrAbortHandler, func() {
		h.ServeHTTP(sink, httptest.NewRequest(http.MethodGet, "/api/export", nil))
	})
	assert.Equal(t, len(writertest.LongBody), sink.N, "no problem document appended to the begun body")
	assert.Equal(t, uint64(1), counters.Total(monitor.ServerError))
}
