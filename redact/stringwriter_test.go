package redact_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/launchready/launchready/internal/writertest"
	"github.com/launchready/launchready/redact"
)

func TestAccessLogPassesStrings(t *testing.T) {
	var buf bytes.Buffer
	var allocs float64
	al := redact.NewAccessLog(writertest.WriteStrings(t, &allocs), redact.AccessLogConfig{Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	sink := writertest.NewStringSink()
	al.ServeHTTP(sink, httptest.NewRequest(http.MethodGet, "/api/clients/client-a", nil))

	assert.Equal(t, http.StatusOK, sink.Code)
	assert.True(t, sink.AllStrings(), "every write reached the server's writer as a string")
	assert.Zero(t, allocs, "io.WriteString through the access log copies nothing")
	// The line counts what was written through WriteString as Write would.
	assert.Contains(t, buf.String(), `"status":200`)
	assert.Contains(t, buf.String(), `"bytes":`+strconv.Itoa(sink.N))
}
