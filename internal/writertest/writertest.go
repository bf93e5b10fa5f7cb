// Package writertest helps the kit's tests of response-writer wrappers
// (access log, monitor, session, rate limit, Sentry) check that a
// handler's io.WriteString reaches the server's writer as a string, the
// way net/http's own writer takes it, without a copy to bytes.
package writertest

import (
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// LongBody is longer than 32 bytes, so converting it to bytes for a Write
// allocates even when the compiler could use a stack buffer.
const LongBody = `{"id":"client-a","name":"Client A","tier":"gold"}`

// StringSink is a ResponseWriter that, like net/http's, takes strings
// without converting them (io.StringWriter), and counts how it was
// written to. It never allocates.
type StringSink struct {
	H       http.Header
	Code    int // the first status written
	N       int // bytes written
	Strings int // WriteString calls
}

// NewStringSink returns an empty StringSink.
func NewStringSink() *StringSink { return &StringSink{H: http.Header{}} }

func (w *StringSink) Header() http.Header { return w.H }

func (w *StringSink) WriteHeader(code int) {
	if w.Code == 0 {
		w.Code = code
	}
}

func (w *StringSink) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.N += len(p)
	return len(p), nil
}

func (w *StringSink) WriteString(s string) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.N += len(s)
	w.Strings++
	return len(s), nil
}

// AllStrings reports whether every write was a WriteString of LongBody.
func (w *StringSink) AllStrings() bool { return w.N > 0 && w.N == w.Strings*len(LongBody) }

// WriteStrings is a handler that answers LongBody with io.WriteString
// only, and measures into *allocs what one more io.WriteString through the
// writer it was given allocates (testing.AllocsPerRun).
func WriteStrings(t *testing.T, allocs *float64) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, ok := w.(io.StringWriter)
		require.True(t, ok, "the writer the handler gets implements io.StringWriter")
		n, err := io.WriteString(w, LongBody)
		require.NoError(t, err)
		assert.Equal(t, len(LongBody), n)
		*allocs = testing.AllocsPerRun(20, func() { _, _ = io.WriteString(w, LongBody) })
	}
}
