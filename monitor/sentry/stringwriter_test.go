package sentry_test

import (
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/internal/writertest"
	"github.com/launchready/launchready/monitor/sentry"
)

func TestErrorHandlerPassesStrings(t *testing.T) {
	in := &ingest{}
	sink := httptest.NewServer(in)
	t.Cleanup(sink.Close)
	dsn := strings.Replace(sink.URL, "http://", "http://"+hex.EncodeToString([]byte("public-key-0001"))+"@", 1) + "/42"
	rep, err := sentry.New(sentry.Config{DSN: dsn, Environment: "staging", Release: "portal@0123456789ab"})
	require.NoError(t, err)

	var allocs float64
	w := writertest.NewStringSink()
	rep.Handler(writertest.WriteStrings(t, &allocs)).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/clients/client-a", nil))
	assert.Equal(t, http.StatusOK, w.Code)
	assert.True(t, w.AllStrings(), "every write reached the server's writer as a string")
	assert.Zero(t, allocs, "io.WriteString through the Sentry handler copies nothing")

	// A 5xx answered through io.WriteString is still reported, once.
	w = writertest.NewStringSink()
	rep.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
		_, _ = io.WriteString(w, writertest.LongBody)
	})).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/api/clients/client-a", nil))
	require.True(t, rep.Flush(10*time.Second))
	envs := in.all()
	require.Len(t, envs, 1, "only the 5xx is an event")
	assert.Contains(t, envs[0], `"status":"502"`)
}
