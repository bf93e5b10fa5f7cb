package ratelimit_test

import (
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/internal/writertest"
	"github.com/launchready/launchready/ratelimit"
)

func TestFailuresPassesStrings(t *testing.T) {
	l, err := ratelimit.New(ratelimit.Config{Now: newClock().Now})
	require.NoError(t, err)
	var allocs float64
	h := l.Failures(writertest.WriteStrings(t, &allocs), func(r *http.Request) string { return r.Header.Get("X-Account") })
	sink := writertest.NewStringSink()
	h.ServeHTTP(sink, req("192.0.2.1:1", "X-Account", "agent@acme.test"))

	assert.Equal(t, http.StatusOK, sink.Code)
	assert.True(t, sink.AllStrings(), "every write reached the server's writer as a string")
	assert.Zero(t, allocs, "io.WriteString through the failures limiter copies nothing")
}

// Failed logins that answer with io.WriteString still count: the account
// is locked out as with Write.
func TestFailuresCountStringAnswers(t *testing.T) {
	l, err := ratelimit.New(ratelimit.Config{Now: newClock().Now})
	require.NoError(t, err)
	login := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Password") != "right" {
			w.WriteHeader(http.StatusUnauthorized)
		}
		_, _ = io.WriteString(w, writertest.LongBody)
	})
	h := l.Failures(login, func(r *http.Request) string { return r.Header.Get("X-Account") })
	for i := range 5 {
		require.Equal(t, http.StatusUnauthorized, attemptWith(h, fmt.Sprintf("198.51.100.%d", i+1), "agent@acme.test", "wrong").Code)
	}
	assert.Equal(t, http.StatusTooManyRequests, attemptWith(h, "192.0.2.50", "agent@acme.test", "right").Code,
		"five failures answered through io.WriteString lock the account")
	assert.Equal(t, http.StatusOK, attemptWith(h, "192.0.2.51", "other@acme.test", "right").Code)
}
