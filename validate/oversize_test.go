package validate_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/validate"
)

type smallBody struct {
	Name string `json:"name" validate:"required"`
}

// An oversized body over HTTP/1.1, sent by a real client on loopback, must
// come back as a readable 413 problem+json, not a connection reset while
// the client is still sending.
func TestOversizedBodyGetsReadable413(t *testing.T) {
	h := validate.JSON(func(w http.ResponseWriter, _ *http.Request, _ *smallBody) {
		w.WriteHeader(http.StatusNoContent)
	}, &validate.Options{MaxBytes: 64 << 10})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	big := bytes.Repeat([]byte("a"), 4<<20)
	for _, chunked := range []bool{false, true} {
		for range 3 {
			var body io.Reader = bytes.NewReader(big)
			if chunked {
				body = io.MultiReader(bytes.NewReader(big)) // no length: chunked
			}
			req, err := http.NewRequest("POST", srv.URL+"/", body)
			require.NoError(t, err)
			req.Header.Set("Content-Type", "application/json")
			resp, err := srv.Client().Do(req)
			require.NoError(t, err, "chunked=%v: the client must read the answer, not a reset", chunked)
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.NoError(t, err)
			assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
			assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
			var p map[string]any
			require.NoError(t, json.Unmarshal(b, &p))
			assert.EqualValues(t, 413, p["status"])
		}
	}
}

// sendAllThenRead is what Python's http.client and many scripts do: write
// the whole request, then read the answer. A server that closes while
// unread body bytes remain sends a TCP reset, and the client sees a
// connection error instead of the 413.
func sendAllThenRead(t *testing.T, addr string, contentLength bool, size int) (*http.Response, []byte, error) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(20*time.Second)))
	var hdr string
	if contentLength {
		hdr = fmt.Sprintf("POST / HTTP/1.1\r\nHost: portal\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", size)
	} else {
		hdr = "POST / HTTP/1.1\r\nHost: portal\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
	}
	if _, err := conn.Write([]byte(hdr)); err != nil {
		return nil, nil, err
	}
	chunk := bytes.Repeat([]byte("a"), 32<<10)
	for sent := 0; sent < size; sent += len(chunk) {
		b := chunk
		if !contentLength {
			b = append([]byte(fmt.Sprintf("%x\r\n", len(chunk))), append(chunk, "\r\n"...)...)
		}
		if _, err := conn.Write(b); err != nil {
			return nil, nil, fmt.Errorf("writing the body: %w", err)
		}
	}
	if !contentLength {
		if _, err := conn.Write([]byte("0\r\n\r\n")); err != nil {
			return nil, nil, err
		}
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the answer: %w", err)
	}
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func TestOversizedBodySentInFullGetsReadable413(t *testing.T) {
	h := validate.JSON(func(w http.ResponseWriter, _ *http.Request, _ *smallBody) {
		w.WriteHeader(http.StatusNoContent)
	}, &validate.Options{MaxBytes: 64 << 10})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	for _, cl := range []bool{true, false} {
		resp, b, err := sendAllThenRead(t, srv.Listener.Addr().String(), cl, 4<<20)
		require.NoError(t, err, "content-length=%v", cl)
		assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
		assert.Contains(t, string(b), `"status":413`)
		assert.True(t, resp.Close, "the connection is not reused after an oversized body")
	}
}
