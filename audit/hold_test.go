package audit_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/audit"
)

// ctxSink records the context each Write gets, and fails while fail is set.
type ctxSink struct {
	mu   sync.Mutex
	fail bool
	ctxs []context.Context
	recs []audit.Record
}

func (s *ctxSink) Write(ctx context.Context, rec audit.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ctxs = append(s.ctxs, ctx)
	if s.fail {
		return errors.New("down")
	}
	s.recs = append(s.recs, rec)
	return nil
}

func (s *ctxSink) setFail(fail bool) {
	s.mu.Lock()
	s.fail = fail
	s.mu.Unlock()
}

// outer plays the middleware outside the audit layer (security headers,
// CORS): headers set before the handler runs, one of them with two values
// and one explicitly nil.
func outer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Add("Vary", "Origin")
		h.Add("Vary", "Cookie")
		h["X-Nil"] = nil
		next.ServeHTTP(w, r)
	})
}

func wantOuter() http.Header {
	return http.Header{"X-Content-Type-Options": {"nosniff"}, "Vary": {"Origin", "Cookie"}, "X-Nil": nil}
}

// The 503 that replaces a change whose record failed carries exactly the
// headers set outside the handler: none the handler set, changed or
// deleted, even headers set after the body (which a held response has not
// sent yet), and the outer values as they were.
func TestFailedRecordRestoresOuterHeadersExactly(t *testing.T) {
	s := &ctxSink{fail: true}
	a, err := audit.New(audit.Config{Sink: s, Now: fixedClock()})
	require.NoError(t, err)
	h := outer(a.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Location", "/api/tickets/t-1")
		w.Header().Add("Vary", "Accept")             // appended to an outer value
		w.Header()["X-Content-Type-Options"][0] = "" // changed in place
		w.Header().Del("X-Nil")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":"t-1"}`))
		w.Header().Set("X-Session-Token", "tok-after-body") // after the body
	})))
	for range 2 { // the second time through a pooled snapshot
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/api/tickets", nil))
		assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
		got := rec.Header().Clone()
		for _, k := range []string{"Content-Type", "Cache-Control", "Retry-After"} {
			assert.NotEmpty(t, got.Get(k), k)
			delete(got, k)
		}
		assert.Equal(t, wantOuter(), got)
		assert.NotContains(t, rec.Body.String(), "t-1")
	}

	// The same handler with a working sink sends what it said.
	s.setFail(false)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/api/tickets", nil)) // refused; heals the trail
	require.True(t, a.Healthy())
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/api/tickets", nil))
	assert.Equal(t, http.StatusCreated, rec.Code)
	assert.Equal(t, "/api/tickets/t-1", rec.Header().Get("Location"))
	assert.Equal(t, []string{"Origin", "Cookie", "Accept"}, rec.Header().Values("Vary"))
	assert.Equal(t, `{"id":"t-1"}`, rec.Body.String())
}

// A snapshot taken for one request never shows up in another's restore:
// different outer headers, one after the other, each restored as its own.
func TestHeaderSnapshotsDoNotMixAcrossRequests(t *testing.T) {
	s := &ctxSink{fail: true}
	for i, outerHeaders := range []http.Header{
		{"A": {"1"}, "B": {"2", "3"}, "C": {"4"}},
		{"D": {"5"}},
		{},
		{"E": {"6", "7", "8"}, "F": nil},
		manyHeaders(40, 3), // more than a snapshot holds on the stack
		{"G": {"9"}},
		{"H": {}}, // present with no values: not nil
	} {
		a, err := audit.New(audit.Config{Sink: s}) // a fresh, failing trail: every request reaches its handler
		require.NoError(t, err)
		h := a.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Location", "/x")
		}))
		rec := httptest.NewRecorder()
		for k, v := range outerHeaders {
			rec.Header()[k] = v
		}
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/x", nil))
		require.Equal(t, http.StatusServiceUnavailable, rec.Code, "request %d", i)
		got := rec.Header().Clone()
		for _, k := range []string{"Content-Type", "Cache-Control", "Retry-After"} {
			delete(got, k)
		}
		assert.Equal(t, outerHeaders, got, "request %d", i)
	}
}

func manyHeaders(keys, vals int) http.Header {
	h := http.Header{}
	for k := range keys {
		for v := range vals {
			h.Add("X-Many-"+strconv.Itoa(k), "v"+strconv.Itoa(v))
		}
	}
	return h
}

// A body longer than what the writer holds inline is still held whole,
// and still never sent when the record fails.
func TestHeldBodyBeyondInlineBuffer(t *testing.T) {
	body := strings.Repeat("0123456789abcdef", 300) // 4.8 KB, written in pieces
	s := &ctxSink{}
	a, err := audit.New(audit.Config{Sink: s})
	require.NoError(t, err)
	var sentEarly bool
	h := a.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		rec := w.(interface{ Unwrap() http.ResponseWriter }).Unwrap().(*httptest.ResponseRecorder)
		for i := 0; i < len(body); i += 100 {
			_, _ = w.Write([]byte(body[i:min(i+100, len(body))]))
		}
		sentEarly = rec.Body.Len() > 0
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/x", nil))
	assert.False(t, sentEarly, "held until the record was stored")
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, body, rec.Body.String())

	s.setFail(true)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/x", nil))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.NotContains(t, rec.Body.String(), "0123456789abcdef")
}

// A handler that panics after writing: its held response is dropped, and
// the writer it leaves behind sends nothing afterwards either.
func TestPanicDropsHeldResponseForGood(t *testing.T) {
	s := &ctxSink{}
	a, err := audit.New(audit.Config{Sink: s})
	require.NoError(t, err)
	var kept http.ResponseWriter
	h := a.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		kept = w
		w.Header().Set("Location", "/api/tickets/t-1")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":"t-1"}`))
		panic("bug")
	}))
	rec := httptest.NewRecorder()
	assert.Panics(t, func() { h.ServeHTTP(rec, httptest.NewRequest("POST", "/x", nil)) })
	require.Len(t, s.recs, 1)
	assert.Equal(t, "error", s.recs[0].Outcome)
	assert.False(t, rec.Code == http.StatusCreated && rec.Body.Len() > 0)
	assert.Empty(t, rec.Body.String(), "nothing of the held body was sent")

	// A goroutine the handler left behind keeps writing: nothing goes out.
	kept.WriteHeader(http.StatusAccepted)
	n, err := kept.Write([]byte(strings.Repeat("late ", 20000))) // past the 64 KiB hold
	assert.Error(t, err)
	assert.Zero(t, n)
	assert.Error(t, http.NewResponseController(kept).Flush())
	assert.Empty(t, rec.Body.String())
	assert.NotEqual(t, http.StatusAccepted, rec.Code)
}

// After a failed record, the writer the handler kept stays dropped too:
// no late byte is appended to the 503.
func TestFailedRecordDropsLateWrites(t *testing.T) {
	s := &ctxSink{fail: true}
	a, err := audit.New(audit.Config{Sink: s})
	require.NoError(t, err)
	var kept http.ResponseWriter
	h := a.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		kept = w
		_, _ = w.Write([]byte("done"))
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/x", nil))
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	body := rec.Body.String()
	_, err = kept.Write([]byte("late secret"))
	assert.Error(t, err)
	assert.Equal(t, body, rec.Body.String())
}

type ctxKey struct{}

// The sink gets the request's values but not its cancellation: a client
// that hangs up does not cost the record of a change that happened.
func TestSinkContextOutlivesTheClient(t *testing.T) {
	s := &ctxSink{}
	a, err := audit.New(audit.Config{Sink: s})
	require.NoError(t, err)
	ctx, cancel := context.WithCancelCause(context.WithValue(context.Background(), ctxKey{}, "v"))
	h := a.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		cancel(errors.New("client went away"))
		w.WriteHeader(http.StatusNoContent)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/x", nil).WithContext(ctx))
	assert.Equal(t, http.StatusNoContent, rec.Code)
	require.Len(t, s.ctxs, 1)
	got := s.ctxs[0]
	require.Error(t, ctx.Err(), "precondition: the request's context is canceled")
	assert.NoError(t, got.Err())
	assert.Nil(t, got.Done())
	_, hasDeadline := got.Deadline()
	assert.False(t, hasDeadline)
	assert.NoError(t, context.Cause(got))
	assert.Equal(t, "v", got.Value(ctxKey{}))
	child, stop := context.WithCancel(got)
	defer stop()
	assert.NoError(t, child.Err(), "a context derived from it is not canceled by the request's")
	assert.NoError(t, context.Cause(child))

	// The refusal while the trail is broken is recorded the same way.
	s.setFail(true)
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/x", nil))
	s.setFail(false)
	ctx, cancel = context.WithCancelCause(context.Background())
	cancel(errors.New("gone"))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/x", nil).WithContext(ctx))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.NoError(t, s.ctxs[len(s.ctxs)-1].Err())
}

// io.WriteString through the held-response writer is held exactly as
// Write is: not sent until the record is stored, sent early past 64 KiB,
// never sent when the record fails, refused after a panic, and passed
// straight through when the hold is off (fail-open).
func TestWriteStringHeldLikeWrite(t *testing.T) {
	s := &ctxSink{}
	a, err := audit.New(audit.Config{Sink: s})
	require.NoError(t, err)
	var early int
	var kept http.ResponseWriter
	body := "part;"
	h := a.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kept = w
		_, isStringWriter := w.(io.StringWriter)
		require.True(t, isStringWriter)
		rec := w.(interface{ Unwrap() http.ResponseWriter }).Unwrap().(*httptest.ResponseRecorder)
		n, err := io.WriteString(w, body)
		assert.NoError(t, err)
		assert.Equal(t, len(body), n)
		_, _ = io.WriteString(w, body)
		early = rec.Body.Len()
		if r.URL.Path == "/panic" {
			panic("bug")
		}
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/x", nil))
	assert.Zero(t, early, "held until the record was stored")
	assert.Equal(t, body+body, rec.Body.String())

	body = strings.Repeat("x", 40<<10) // two of them pass the 64 KiB hold
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/x", nil))
	assert.Equal(t, 2*(40<<10), early, "past the hold, both went out while the handler ran")
	assert.Equal(t, body+body, rec.Body.String())

	body = "secret-result"
	s.setFail(true)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/x", nil))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.NotContains(t, rec.Body.String(), body)
	_, err = io.WriteString(kept, "late")
	assert.Error(t, err, "dropped for good")
	assert.NotContains(t, rec.Body.String(), "late")

	s.setFail(false)
	a2, err := audit.New(audit.Config{Sink: s})
	require.NoError(t, err)
	h = a2.Handler(h.(*audit.Handler).Unwrap())
	rec = httptest.NewRecorder()
	assert.Panics(t, func() { h.ServeHTTP(rec, httptest.NewRequest("POST", "/panic", nil)) })
	assert.Empty(t, rec.Body.String())
	_, err = io.WriteString(kept, "late")
	assert.Error(t, err)

	open, err := audit.New(audit.Config{Sink: s, InsecureFailOpen: true})
	require.NoError(t, err)
	h = open.Handler(h.(*audit.Handler).Unwrap())
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/x", nil))
	assert.Equal(t, len(body)*2, early, "no hold when failing open")
	assert.Equal(t, body+body, rec.Body.String())
}
