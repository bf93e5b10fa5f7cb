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

// FuzzUpload sends arbitrary multipart bodies through the upload limits:
// never a panic or a 5xx, and the next handler runs only on bodies whose
// files all sniff as an allowed type.
func FuzzUpload(f *testing.F) {
	const boundary = "XyZ"
	f.Add("--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7\n\r\n--XyZ--\r\n")
	f.Add("--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n%PDF-1.7\n\r\n--XyZ--\r\n")
	f.Add("--XyZ\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n--XyZ--\r\n")
	f.Add("--XyZ\r\n\r\n--XyZ")
	f.Add("")
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseMultipartForm(1 << 16); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusCreated)
	})
	h := validate.MustUpload(validate.UploadLimits{MaxBytes: 8192, MaxFileBytes: 4096, MaxFiles: 3,
		AllowedTypes: []string{"application/pdf"}}, next)
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 500 || w.Code < 200 {
			t.Fatalf("status %d for %q", w.Code, body)
		}
	})
}
