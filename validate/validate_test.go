package validate_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/validate"
)

type address struct {
	Street string `json:"street" validate:"required"`
	Zip    string `json:"zip" validate:"required,numeric,len=5"`
}

type signup struct {
	Email    string   `json:"email" validate:"required,email"`
	Password string   `json:"password" validate:"required,min=12"`
	Age      int      `json:"age" validate:"gte=18"`
	Address  *address `json:"address,omitempty"`
	Tags     []string `json:"tags,omitempty" validate:"max=3"`
}

func okHandler(t *testing.T) *validate.Handler[signup] {
	return validate.JSON(func(w http.ResponseWriter, r *http.Request, in *signup) {
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(in.Email))
	}, nil)
}

func post(h http.Handler, ct, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/signup", strings.NewReader(body))
	if ct != "" {
		r.Header.Set("Content-Type", ct)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func problem(t *testing.T, w *httptest.ResponseRecorder) validate.Problem {
	t.Helper()
	require.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
	var p validate.Problem
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &p))
	assert.Equal(t, "about:blank", p.Type)
	assert.Equal(t, w.Code, p.Status)
	return p
}

const good = `{"email":"a@example.com","password":"correct horse battery","age":30}`

func TestJSONErrorClasses(t *testing.T) {
	deep := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	deepObj := strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000)
	big := `{"email":"a@example.com","password":"` + strings.Repeat("x", 1<<20) + `"}`
	exact := `{"email":"a@example.com","password":"correct horse battery","age":30}`
	exact += strings.Repeat(" ", (1<<20)-len(exact))
	tests := []struct {
		name   string
		ct     string
		body   string
		status int
		fields []validate.FieldError
	}{
		{"good", "application/json", good, 201, nil},
		{"good with charset", "application/json; charset=utf-8", good, 201, nil},
		{"exactly 1 MB", "application/json", exact, 201, nil},
		{"1 MB + 1 byte", "application/json", exact + " ", 413, nil},
		{"far too large", "application/json", big, 413, nil},
		{"no content type", "", good, 415, nil},
		{"text/plain", "text/plain", good, 415, nil},
		{"form", "application/x-www-form-urlencoded", "email=a", 415, nil},
		{"latin1", "application/json; charset=iso-8859-1", good, 415, nil},
		{"empty", "application/json", "", 400, nil},
		{"whitespace", "application/json", "  \n", 400, nil},
		{"syntax", "application/json", `{"email":`, 400, nil},
		{"two values", "application/json", `{"a":1}{"b":2}`, 400, nil},
		{"trailing garbage", "application/json", good + "x", 400, nil},
		{"duplicate key", "application/json", `{"email":"a@example.com","email":"b@example.com"}`, 400, nil},
		{"duplicate key case", "application/json", `{"email":"a@example.com","EMAIL":"b@example.com"}`, 400, nil},
		{"duplicate key escaped", "application/json", `{"email":"a@example.com","\u0065mail":"b@example.com"}`, 400, nil},
		{"invalid utf-8", "application/json", "{\"email\":\"a\xff@example.com\"}", 400, nil},
		{"lone high surrogate", "application/json", `{"email":"a\ud800@example.com"}`, 400, nil},
		{"lone low surrogate", "application/json", `{"email":"a\udc00@example.com"}`, 400, nil},
		{"surrogate pair", "application/json", `{"email":"a@example.com","password":"correct horse \ud83d\ude00","age":30}`, 201, nil},
		{"escaped quote and unicode", "application/json", `{"email":"a@example.com","password":"\"correct\" \u00e9\u00E9 horse","age":30}`, 201, nil},
		{"same key in sibling objects", "application/json", `{"email":"a@example.com","password":"correct horse battery","age":30,"tags":[],"address":{"street":"x","zip":"12345"}}`, 201, nil},
		{"10000 deep arrays", "application/json", deep, 400, nil},
		{"10000 deep objects", "application/json", deepObj, 400, nil},
		{"null body", "application/json", `null`, 422, []validate.FieldError{
			{Field: "email", Rule: "required"}, {Field: "password", Rule: "required"}, {Field: "age", Rule: "gte", Param: "18"}}},
		{"array body", "application/json", `[]`, 422, []validate.FieldError{{Field: "(body)", Rule: "type", Param: "struct"}}},
		{"unknown field", "application/json", `{"email":"a@example.com","password":"correct horse battery","age":30,"role":"admin"}`, 422,
			[]validate.FieldError{{Field: "(unknown)", Rule: "unknown"}}},
		{"wrong type", "application/json", `{"email":"a@example.com","password":"correct horse battery","age":"thirty"}`, 422,
			[]validate.FieldError{{Field: "age", Rule: "type", Param: "int"}}},
		{"rules", "application/json", `{"email":"nope","password":"short","age":3,"address":{"street":"","zip":"1"},"tags":["a","b","c","d"]}`, 422,
			[]validate.FieldError{
				{Field: "email", Rule: "email"}, {Field: "password", Rule: "min", Param: "12"}, {Field: "age", Rule: "gte", Param: "18"},
				{Field: "address.street", Rule: "required"}, {Field: "address.zip", Rule: "len", Param: "5"}, {Field: "tags", Rule: "max", Param: "3"}}},
	}
	h := okHandler(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := post(h, tc.ct, tc.body)
			require.Equal(t, tc.status, w.Code, w.Body.String())
			if tc.status == 201 {
				return
			}
			p := problem(t, w)
			assert.Equal(t, tc.fields, p.Errors)
			assert.NotContains(t, w.Body.String(), "json:", "internal error text leaked")
		})
	}
}

func TestJSONNeverEchoesValues(t *testing.T) {
	secret := "hunter2-" + strings.Repeat("s", 3) // short: fails min=12
	bodies := []string{
		`{"email":"a@example.com","password":"` + secret + `","age":30}`,
		`{"email":"a@example.com","password":"` + secret + `","age":"x"}`,
		`{"email":"a@example.com","password":"` + secret + `","role":"` + secret + `"}`,
		`{"email":"a@example.com","password":"` + secret + `","` + secret + `":1}`,
		`{"email":"a@example.com","password":"` + secret + `","password":"` + secret + `"}`,
		`{"email":"a@example.com","password":"` + secret + `"`,
		`{"email":"a@example.com","password":"` + secret + "\xff\"}",
		`{"email":"a@example.com","password":["` + secret + `"]}`,
		`{"email":"a@example.com","password":"` + secret + `"}{}`,
	}
	h := okHandler(t)
	for i, b := range bodies {
		w := post(h, "application/json", b)
		assert.GreaterOrEqual(t, w.Code, 400, "body %d", i)
		assert.Less(t, w.Code, 500, "body %d", i)
		assert.NotContains(t, w.Body.String(), "hunter2", "body %d echoed the password", i)
	}
}

func TestDecode(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(good))
	r.Header.Set("Content-Type", "application/json")
	v, err := validate.Decode[signup](httptest.NewRecorder(), r, nil)
	require.NoError(t, err)
	assert.Equal(t, 30, v.Age)

	r = httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"a":1}{"b":2}`))
	r.Header.Set("Content-Type", "application/json")
	_, err = validate.Decode[signup](httptest.NewRecorder(), r, &validate.Options{MaxBytes: 64})
	require.Error(t, err)
	assert.ErrorIs(t, err, validate.ErrMalformed)
	var ve *validate.Error
	require.True(t, errors.As(err, &ve))
	assert.Equal(t, 400, ve.Status)

	_, err = validate.Decode[signup](httptest.NewRecorder(), r, &validate.Options{MaxBytes: -1})
	assert.EqualError(t, err, "validate: Options.MaxBytes is -1; use a positive cap or 0 for the 1 MB default")

	w := httptest.NewRecorder()
	validate.WriteError(w, r, errors.New("db: secret internals"))
	assert.Equal(t, 400, w.Code)
	assert.NotContains(t, w.Body.String(), "secret")
}

func TestOptions(t *testing.T) {
	type small struct {
		A map[string]any `json:"a"`
	}
	var called bool
	h := validate.JSON(func(w http.ResponseWriter, r *http.Request, in *small) { called = true }, &validate.Options{
		MaxBytes: 100, MaxDepth: 3, InsecureAllowUnknownFields: true,
		ErrorWriter: func(w http.ResponseWriter, r *http.Request, err *validate.Error) {
			w.WriteHeader(err.Status)
			_, _ = w.Write([]byte("custom " + err.Title))
		},
	})
	assert.Equal(t, int64(100), h.MaxBytes())
	assert.Equal(t, 3, h.MaxDepth())
	assert.True(t, h.AllowsUnknownFields())
	assert.Equal(t, "validate_test.small", h.Schema())
	assert.Nil(t, h.Unwrap())

	w := post(h, "application/json", `{"a":{"b":1},"extra":true}`)
	assert.Equal(t, 200, w.Code)
	assert.True(t, called)
	w = post(h, "application/json", `{"a":{"b":{"c":{"d":1}}}}`)
	assert.Equal(t, 400, w.Code)
	assert.Equal(t, "custom Malformed request", w.Body.String())
	w = post(h, "application/json", `{"a":"`+strings.Repeat("x", 100)+`"}`)
	assert.Equal(t, 413, w.Code)

	d := validate.JSON(func(http.ResponseWriter, *http.Request, *small) {}, nil)
	assert.Equal(t, validate.DefaultMaxBytes, d.MaxBytes())
	assert.Equal(t, validate.DefaultMaxDepth, d.MaxDepth())
	assert.False(t, d.AllowsUnknownFields())
	assert.Panics(t, func() {
		validate.JSON(func(http.ResponseWriter, *http.Request, *small) {}, &validate.Options{MaxDepth: -1})
	})
}

func TestManyKeysDuplicate(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < 200; i++ {
		b.WriteString(`"k` + strings.Repeat("x", i) + `":1,`)
	}
	type anyMap map[string]int
	h := validate.JSON(func(w http.ResponseWriter, r *http.Request, in *anyMap) {}, nil)
	assert.Equal(t, 200, post(h, "application/json", b.String()+`"last":1}`).Code)
	assert.Equal(t, 400, post(h, "application/json", b.String()+`"KXXX":1}`).Code)

	type list []map[string]any
	l := validate.JSON(func(w http.ResponseWriter, r *http.Request, in *list) {}, nil)
	assert.Equal(t, 200, post(l, "application/json", `[{"a":1},{"a":1,"b":{"a":2}}]`).Code, "same key in separate objects")
	assert.Equal(t, 400, post(l, "application/json", `[{"a":1},{"a":1,"A":2}]`).Code)
}

func TestJSONConcurrent(t *testing.T) {
	h := okHandler(t)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				body, want := good, 201
				if (i+j)%2 == 1 {
					body, want = `{"email":"x","password":"short"}`, 422
				}
				w := post(h, "application/json", body)
				assert.Equal(t, want, w.Code)
			}
		}(i)
	}
	wg.Wait()
}

func TestPathAndQuery(t *testing.T) {
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	mux := http.NewServeMux()
	mux.Handle("GET /clients/{id}", validate.Path(validate.Rules{"id": validate.UUID}, inner))
	mux.Handle("GET /tickets/{n}", validate.Path(validate.Rules{"n": validate.Int}, inner))
	mux.Handle("GET /orgs/{slug}", validate.Path(validate.Rules{"slug": validate.Slug},
		validate.Query(validate.Rules{"page": validate.Int, "code": validate.Pattern("code", `^[A-Z]{3}$`, "ABC")}, inner).Required("page")))
	tests := []struct {
		path   string
		status int
	}{
		{"/clients/00000000-0000-4000-8000-000000000001", 204},
		{"/clients/1", 400},
		{"/clients/..%2Fadmin", 400},
		{"/clients/00000000-0000-4000-8000-00000000000g", 400},
		{"/tickets/42", 204},
		{"/tickets/042", 400},
		{"/tickets/-1", 400},
		{"/tickets/1e3", 400},
		{"/tickets/99999999999999999999", 400},
		{"/orgs/client-a?page=2", 204},
		{"/orgs/client-a?page=2&code=ABC", 204},
		{"/orgs/client-a?page=2&code=abc", 400},
		{"/orgs/client-a", 400},
		{"/orgs/client-a?page=1&page=2", 400},
		{"/orgs/Client_A?page=1", 400},
		{"/orgs/%27%20OR%201=1?page=1", 400},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, tc.path, nil))
			require.Equal(t, tc.status, w.Code, w.Body.String())
			if tc.status == 400 {
				p := problem(t, w)
				require.NotEmpty(t, p.Errors)
				assert.NotContains(t, w.Body.String(), "OR 1")
			}
		})
	}
	ph := validate.Path(validate.Rules{"id": validate.UUID}, inner)
	assert.Equal(t, map[string]string{"id": "uuid"}, ph.PathRules())
	ex, ok := ph.PathExample("id")
	assert.True(t, ok)
	assert.True(t, validate.UUID.Match(ex))
	assert.Panics(t, func() { validate.Pattern("x", `[a-z]+`, "a") })
	assert.Panics(t, func() { validate.Path(validate.Rules{"id": {}}, inner) })
}

func TestLimit(t *testing.T) {
	h := validate.Limit(10, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := new(bytes.Buffer).ReadFrom(r.Body); err != nil {
			w.WriteHeader(413)
			return
		}
		w.WriteHeader(204)
	}))
	assert.Equal(t, int64(10), h.MaxBytes())
	assert.Equal(t, 204, post(h, "text/csv", "a,b").Code)
	assert.Equal(t, 413, post(h, "text/csv", strings.Repeat("a", 11)).Code)
	r := httptest.NewRequest(http.MethodPost, "/", struct{ *strings.Reader }{strings.NewReader(strings.Repeat("a", 11))})
	r.ContentLength = -1
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	assert.Equal(t, 413, w.Code, "streamed body over the cap")
}

var (
	pngBytes = append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...)
	pdfBytes = []byte("%PDF-1.7\n1 0 obj <<>> endobj\n")
)

type part struct {
	field, name, ctype string
	data               []byte
}

func multipartBody(t *testing.T, parts ...part) (string, *bytes.Buffer) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		if p.name != "" {
			h.Set("Content-Disposition", `form-data; name="`+p.field+`"; filename="`+p.name+`"`)
		} else {
			h.Set("Content-Disposition", `form-data; name="`+p.field+`"`)
		}
		if p.ctype != "" {
			h.Set("Content-Type", p.ctype)
		}
		pw, err := mw.CreatePart(h)
		require.NoError(t, err)
		_, _ = pw.Write(p.data)
	}
	require.NoError(t, mw.Close())
	return mw.FormDataContentType(), &b
}

func TestUpload(t *testing.T) {
	var got []string
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			w.WriteHeader(500)
			return
		}
		for _, fh := range r.MultipartForm.File["file"] {
			got = append(got, fh.Filename)
		}
		w.WriteHeader(201)
	})
	h, err := validate.Upload(validate.UploadLimits{MaxBytes: 4096, MaxFileBytes: 1024, MaxFiles: 2,
		AllowedTypes: []string{"image/png", "application/pdf"}}, inner)
	require.NoError(t, err)
	pngOnly := validate.MustUpload(validate.UploadLimits{AllowedTypes: []string{"image/png"}}, inner)
	tests := []struct {
		name   string
		h      http.Handler
		parts  []part
		status int
	}{
		{"png", h, []part{{"file", "a.png", "image/png", pngBytes}, {"note", "", "", []byte("hi")}}, 201},
		{"pdf undeclared", h, []part{{"file", "a.pdf", "", pdfBytes}}, 201},
		{"pdf octet-stream", h, []part{{"file", "a.pdf", "application/octet-stream", pdfBytes}}, 201},
		{"pdf declared png", h, []part{{"file", "a.png", "image/png", pdfBytes}}, 415},
		{"pdf declared png, png only", pngOnly, []part{{"file", "a.png", "image/png", pdfBytes}}, 415},
		{"pdf undeclared, png only", pngOnly, []part{{"file", "a.pdf", "", pdfBytes}}, 415},
		{"html", h, []part{{"file", "x.html", "", []byte("<html><script>alert(1)</script>")}}, 415},
		{"file too large", h, []part{{"file", "a.png", "image/png", append(pngBytes, make([]byte, 1024)...)}}, 413},
		{"too many files", h, []part{{"file", "a.png", "", pngBytes}, {"file", "b.png", "", pngBytes}, {"file", "c.png", "", pngBytes}}, 400},
		{"body too large", h, []part{{"note", "", "", make([]byte, 5000)}}, 413},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ct, body := multipartBody(t, tc.parts...)
			w := post(tc.h, ct, body.String())
			require.Equal(t, tc.status, w.Code, w.Body.String())
			if tc.status != 201 {
				problem(t, w)
				assert.NotContains(t, w.Body.String(), "alert")
			}
		})
	}
	assert.Equal(t, 415, post(h, "application/json", "{}").Code)
	assert.Equal(t, 400, post(h, "multipart/form-data; boundary=x", "garbage").Code)
	assert.Equal(t, []string{"a.png", "a.pdf", "a.pdf"}, got)
	assert.Equal(t, int64(4096), h.MaxBytes())
	assert.Equal(t, []string{"image/png", "application/pdf"}, h.Limits().AllowedTypes)

	_, err = validate.Upload(validate.UploadLimits{}, inner)
	assert.EqualError(t, err, "validate: UploadLimits.AllowedTypes is empty; list the media types the route accepts, e.g. image/png, application/pdf")
	_, err = validate.Upload(validate.UploadLimits{MaxBytes: 10, MaxFileBytes: 20, AllowedTypes: []string{"image/png"}}, inner)
	assert.Error(t, err)
}

func TestNoBody(t *testing.T) {
	h := validate.NoBody(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	assert.True(t, h.RefusesBody())
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/logout", nil))
	assert.Equal(t, 204, w.Code)
	assert.Equal(t, 413, post(h, "application/json", "{}").Code)
	r := httptest.NewRequest(http.MethodPost, "/", struct{ *strings.Reader }{strings.NewReader("x")})
	r.ContentLength = -1
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	assert.Equal(t, 413, w.Code)
}

func TestBody(t *testing.T) {
	var got *signup
	h := validate.Body[signup](&validate.Options{MaxBytes: 512}, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = validate.Value[signup](r)
		assert.Nil(t, validate.Value[address](r))
		w.WriteHeader(201)
	}))
	assert.Equal(t, "validate_test.signup", h.Schema())
	assert.Equal(t, int64(512), h.MaxBytes())
	assert.NotNil(t, h.Unwrap())
	assert.Equal(t, 201, post(h, "application/json", good).Code)
	require.NotNil(t, got)
	assert.Equal(t, "a@example.com", got.Email)
	got = nil
	assert.Equal(t, 422, post(h, "application/json", `{"email":"a@example.com","extra":1}`).Code)
	assert.Equal(t, 413, post(h, "application/json", `{"email":"`+strings.Repeat("a", 600)+`"}`).Code)
	assert.Nil(t, got)
}
