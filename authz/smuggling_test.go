package authz_test

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/authz"
)

// RFC 9112 §6.1: a request with both Transfer-Encoding and Content-Length
// may be framed differently by a proxy in front; the server must close the
// connection after answering, so a request smuggled behind it is never
// served.
func TestTransferEncodingWithContentLengthClosesTheConnection(t *testing.T) {
	mux, err := authz.NewMux(authz.Config{Authenticate: authenticate})
	require.NoError(t, err)
	var smuggled atomic.Int32
	mux.Handle("POST /api/login", authz.Public("sign-in form"), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	mux.Handle("GET /healthz", authz.Public("uptime monitor"), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		smuggled.Add(1)
	}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
	_, err = conn.Write([]byte("POST /api/login HTTP/1.1\r\nHost: portal\r\nTransfer-Encoding: chunked\r\nContent-Length: 48\r\n\r\n" +
		"0\r\n\r\n" +
		"GET /healthz HTTP/1.1\r\nHost: portal\r\n\r\n"))
	require.NoError(t, err)

	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	assert.True(t, resp.Close, "Connection: close after a request with Transfer-Encoding")
	_, err = http.ReadResponse(br, nil)
	assert.Error(t, err, "no second response: the smuggled request is not served")
	assert.Equal(t, int32(0), smuggled.Load())

	// A plain request keeps its connection.
	resp, err = srv.Client().Post(srv.URL+"/api/login", "text/plain", strings.NewReader("x"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.False(t, resp.Close)
}
