package validate_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/validate"
)

// decodeOnce decodes body as a fuzzBody and describes the outcome: the
// error, or the decoded value.
func decodeOnce(body string) string {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	v, err := validate.Decode[fuzzBody](httptest.NewRecorder(), r, &validate.Options{MaxBytes: 4096})
	if err != nil {
		return "error: " + err.Error()
	}
	inner := v.Inner
	v.Inner = nil
	if inner != nil {
		return fmt.Sprintf("%+v inner=%+v", v, *inner)
	}
	return fmt.Sprintf("%+v inner=nil", v)
}

const cleanBody = `{"name":"clean","count":1}`

// decodeAfter decodes body right after prev, on the same goroutine (so
// through the same pooled buffer and decoder, when one is kept).
func decodeAfter(prev, body string) string {
	decodeOnce(prev)
	return decodeOnce(body)
}

var sequenceBodies = []string{
	cleanBody,
	`{"name":"a","count":2,"tags":["x","y"],"meta":{"k":"v"},"inner":{"x":1.5}}`,
	`{"name":"b"}   `, "{\"name\":\"c\"}\n", ` {"name":"d"}`,
	`[1,2]`, `"x"`, `12`, `null`, `true`, ``,
	`{"name":"a","role":"admin"}`, `{"name":"a","count":"7"}`, `{"name":"a","name":"b"}`,
	`{"a":1}{"b":2}`, `{"name":"` + strings.Repeat("n", 50) + `"}`, `{"count":-1,"name":"z"}`,
	`{"name":"big","tags":["` + strings.Repeat("t", 9) + `"],"meta":{"` + strings.Repeat("k", 3000) + `":"v"}}`,
}

// The decoder a clean body leaves for the next one changes no outcome: every
// body decodes after every other body exactly as after a clean one.
func TestDecoderReuseLeaksNothing(t *testing.T) {
	for _, body := range sequenceBodies {
		want := decodeAfter(cleanBody, body)
		for _, prev := range sequenceBodies {
			assert.Equal(t, want, decodeAfter(prev, body), "%q after %q", body, prev)
		}
	}
}

// Issue 25: a clean body decodes without building a new json.Decoder, its
// buffer and its scanner and error state each time.
func TestDecodeReusesDecoder(t *testing.T) {
	if testing.CoverMode() != "" || raceEnabled {
		t.Skip("instrumentation allocates")
	}
	type ticket struct {
		Subject string `json:"subject" validate:"required,max=120"`
	}
	h := validate.JSON(func(w http.ResponseWriter, _ *http.Request, in *ticket) {
		w.WriteHeader(http.StatusCreated)
	}, nil)
	body := []byte(`{"subject":"Invoice 2026-114 shows the wrong VAT rate"}`)
	rd := bytes.NewReader(body)
	r := httptest.NewRequest(http.MethodPost, "/", rd)
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	allocs := testing.AllocsPerRun(200, func() {
		rd.Reset(body)
		r.Body = nopCloser{rd}
		h.ServeHTTP(w, r)
	})
	require.Equal(t, http.StatusCreated, w.Code)
	// The value, the body limit (http.MaxBytesReader), the subject string
	// and the validator's own: no decoder (10 when each body built one).
	assert.LessOrEqual(t, allocs, 4.0)
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// FuzzDecodeSequence: whatever body came before, a body decodes as it
// does after a clean one.
func FuzzDecodeSequence(f *testing.F) {
	for _, a := range sequenceBodies {
		f.Add(a, sequenceBodies[1])
		f.Add(sequenceBodies[2], a)
	}
	f.Fuzz(func(t *testing.T, prev, body string) {
		if want, got := decodeAfter(cleanBody, body), decodeAfter(prev, body); want != got {
			t.Fatalf("%q after %q: %s, after a clean body: %s", body, prev, got, want)
		}
	})
}
