package authz_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/authz"
)

// scribbler is a broken ResponseWriter that overwrites what it is given
// (io.Writer forbids it); it must not change the documents later denials
// send.
type scribbler struct{ *httptest.ResponseRecorder }

func (s scribbler) Write(p []byte) (int, error) {
	n, err := s.ResponseRecorder.Write(p)
	for i := range p {
		p[i] = 'X'
	}
	return n, err
}

func TestDefaultDenyDocuments(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404, 405, 500, 429} {
		for range 2 { // the second time after a scribbler had the first
			w := httptest.NewRecorder()
			authz.DefaultDeny(scribbler{w}, httptest.NewRequest("GET", "/", nil), authz.Denial{Status: status})
			assert.Equal(t, status, w.Code)
			assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
			var doc map[string]any
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &doc), w.Body.String())
			assert.Equal(t, "about:blank", doc["type"])
			assert.EqualValues(t, status, doc["status"])
			assert.NotEmpty(t, doc["title"])
			assert.NotContains(t, doc, "step_up")
			assert.Equal(t, byte('\n'), w.Body.Bytes()[w.Body.Len()-1])
		}
	}
	w := httptest.NewRecorder()
	authz.DefaultDeny(w, httptest.NewRequest("GET", "/", nil), authz.Denial{Status: http.StatusMethodNotAllowed})
	assert.NotEmpty(t, w.Header().Get("Allow"))
}
