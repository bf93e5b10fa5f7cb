package readiness_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/readiness"
)

func TestServeDrainsInFlightRequests(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	srv := hardenedServer()
	srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		io.WriteString(w, "exported")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- readiness.Serve(ctx, srv, readiness.ServeOptions{Listener: ln, ShutdownTimeout: 5 * time.Second})
	}()

	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/export")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- result{string(b), err}
	}()
	<-started
	stop() // the deploy's SIGTERM
	// New connections are refused once draining starts, while the in-flight
	// request is still running.
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), 100*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err != nil
	}, 5*time.Second, 10*time.Millisecond)
	close(release)
	r := <-got
	require.NoError(t, r.err)
	assert.Equal(t, "exported", r.body, "the in-flight request completes")
	assert.NoError(t, <-done)
}

func TestServeReportsDrainTimeout(t *testing.T) {
	started := make(chan struct{})
	srv := hardenedServer()
	block := make(chan struct{})
	defer close(block)
	srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-block
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- readiness.Serve(ctx, srv, readiness.ServeOptions{Listener: ln, ShutdownTimeout: 50 * time.Millisecond})
	}()
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/")
		if err == nil {
			resp.Body.Close()
		}
	}()
	<-started
	stop()
	err = <-done
	require.Error(t, err)
	assert.Contains(t, err.Error(), "graceful shutdown did not finish within 50ms")
}

func TestLaunchRefusesToServeWhenBlocked(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	bad := goodTarget(t, readiness.Production)
	bad.Server.WriteTimeout = 0
	err = readiness.Launch(t.Context(), bad, io.Discard, readiness.ServeOptions{Listener: ln})
	require.ErrorIs(t, err, readiness.ErrBlocked)
}

func TestServeRejectsBadInput(t *testing.T) {
	require.ErrorIs(t, readiness.Serve(t.Context(), nil, readiness.ServeOptions{}), readiness.ErrNoServer)
	err := readiness.Serve(t.Context(), hardenedServer(), readiness.ServeOptions{ShutdownTimeout: -1})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ShutdownTimeout")
}
