package validate

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
)

// An oversized HTTP/1.1 body is refused with 413 before it is read past the
// cap. If the server then closed the connection while the client is still
// sending, the kernel would answer the unread bytes with a TCP reset, and a
// client that sends its whole request before reading (Python's
// http.client, many scripts, browsers' fetch in some timings) sees a
// connection error instead of the problem+json. So the 413 is flushed
// first, then up to DrainBytes of the rest are read and discarded (within
// DrainTimeout), and the connection is closed after the answer. A body
// larger than that still gets the 413 written, but may meet a reset.
// Clients that sent "Expect: 100-continue" are not drained: they wait for
// the answer and send nothing.

const (
	// DrainBytes is how much of an oversized body is read and discarded so
	// the client can read its 413.
	DrainBytes int64 = 16 << 20
	// DrainTimeout bounds the time spent draining.
	DrainTimeout = 10 * time.Second
)

// writeRefusal writes e with ew; for an oversized HTTP/1.x body it closes
// the connection after the answer and drains the body first (see above).
func writeRefusal(w http.ResponseWriter, r *http.Request, e *Error, ew ErrorWriter) {
	if !errors.Is(e, ErrTooLarge) || r.ProtoMajor != 1 || r.Body == nil || r.Body == http.NoBody {
		ew(w, r, e)
		return
	}
	w.Header().Set("Connection", "close")
	ew(w, r, e)
	if strings.EqualFold(r.Header.Get("Expect"), "100-continue") {
		return
	}
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	_ = rc.SetReadDeadline(time.Now().Add(DrainTimeout))
	_, _ = io.CopyN(io.Discard, r.Body, DrainBytes)
}
