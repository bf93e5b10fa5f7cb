package validate_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/validate"
)

type capBody struct {
	S string `json:"s"`
	T string `json:"t"`
}

// streamed hides the body's length, so the cap is enforced while reading,
// not from Content-Length.
func streamed(body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/", io.MultiReader(strings.NewReader(body)))
	r.ContentLength = -1
	r.Header.Set("Content-Type", "application/json")
	return r
}

// The cap holds to the byte on a body of unknown length: exactly MaxBytes
// is decoded, one byte more is refused as too large.
func TestCapOnStreamedBodyToTheByte(t *testing.T) {
	const max = 64
	body := `{"s":"` + strings.Repeat("a", max-len(`{"s":""}`)) + `"}`
	require.Len(t, body, max)
	v, err := validate.Decode[capBody](httptest.NewRecorder(), streamed(body), &validate.Options{MaxBytes: max})
	require.NoError(t, err)
	assert.Len(t, v.S, max-len(`{"s":""}`))

	over := body[:len(body)-2] + `a"}`
	require.Len(t, over, max+1)
	_, err = validate.Decode[capBody](httptest.NewRecorder(), streamed(over), &validate.Options{MaxBytes: max})
	require.Error(t, err)
	assert.ErrorIs(t, err, validate.ErrTooLarge)
	var ve *validate.Error
	require.True(t, errors.As(err, &ve))
	assert.Equal(t, http.StatusRequestEntityTooLarge, ve.Status)

	// Far over the cap: refused after reading one byte past it.
	src := &countingReader{r: strings.NewReader(`{"s":"` + strings.Repeat("a", 1<<20) + `"}`)}
	r := httptest.NewRequest(http.MethodPost, "/", src)
	r.ContentLength = -1
	r.Header.Set("Content-Type", "application/json")
	_, err = validate.Decode[capBody](httptest.NewRecorder(), r, &validate.Options{MaxBytes: max})
	assert.ErrorIs(t, err, validate.ErrTooLarge)
	assert.LessOrEqual(t, src.n, int64(max+1), "read no further than one byte past the cap")
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

// A body that fails while being read is refused as malformed (400), never
// a 500, and the error does not carry the reader's message.
func TestBodyReadErrorIsMalformed(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/", failingReader{})
	r.Header.Set("Content-Type", "application/json")
	_, err := validate.Decode[capBody](httptest.NewRecorder(), r, nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, validate.ErrMalformed)
	assert.NotContains(t, err.Error(), "connection reset")
}
