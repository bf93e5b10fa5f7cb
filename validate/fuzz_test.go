package validate_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/launchready/launchready/validate"
)

type fuzzBody struct {
	Name  string            `json:"name" validate:"required,max=40"`
	Count int               `json:"count" validate:"gte=0"`
	Tags  []string          `json:"tags" validate:"max=5,dive,max=10"`
	Meta  map[string]string `json:"meta"`
	Inner *struct {
		X float64 `json:"x"`
	} `json:"inner"`
}

// FuzzDecode sends arbitrary bodies through the JSON handler: it must never
// panic or answer 5xx, a 2xx body must be one valid JSON value, and every
// rejection must be a problem+json document.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"name":"a","count":1,"tags":["x"],"meta":{"k":"v"},"inner":{"x":1.5}}`,
		`{"a":1}{"b":2}`, `{"name":"a","name":"b"}`, `{"name":"a","NAME":"b"}`,
		"{\"name\":\"\xff\"}", `[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`,
		`{"name":"\ud800"}`, `{"count":1e400}`, `{"count":"1"}`, `{"role":"admin","name":"a"}`,
		``, `null`, `"x"`, `-0.0e+1`, `{"name":"a"} `, `{"meta":{"a":"1","A":"2"}}`,
	} {
		f.Add(s)
	}
	h := validate.JSON(func(w http.ResponseWriter, r *http.Request, in *fuzzBody) {
		w.WriteHeader(http.StatusNoContent)
	}, &validate.Options{MaxBytes: 4096})
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch {
		case w.Code == http.StatusNoContent:
			if !json.Valid([]byte(body)) {
				t.Fatalf("accepted invalid JSON %q", body)
			}
		case w.Code >= 400 && w.Code < 500:
			var p validate.Problem
			if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil || p.Status != w.Code {
				t.Fatalf("status %d with a bad problem body %q", w.Code, w.Body.String())
			}
		default:
			t.Fatalf("status %d for %q", w.Code, body)
		}
	})
}
