package validate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
)

// UploadLimits bound a multipart/form-data upload. Zero fields take the
// defaults; AllowedTypes is required.
type UploadLimits struct {
	// MaxBytes caps the whole request body. Zero means 10 MB.
	MaxBytes int64
	// MaxFileBytes caps each file. Zero means 5 MB.
	MaxFileBytes int64
	// MaxFiles caps the number of file parts. Zero means 10.
	MaxFiles int
	// MaxParts caps the number of parts of any kind. Zero means 100.
	MaxParts int
	// AllowedTypes lists the accepted media types ("image/png",
	// "application/pdf"), as net/http.DetectContentType sniffs them from
	// each file's first 512 bytes. The declared part type is not trusted:
	// it must be absent, application/octet-stream, or equal to the sniffed
	// type. Required.
	AllowedTypes []string
	// ErrorWriter writes rejections. Nil means WriteProblem.
	ErrorWriter ErrorWriter
}

func (l UploadLimits) resolve() (UploadLimits, error) {
	if l.MaxBytes < 0 || l.MaxFileBytes < 0 || l.MaxFiles < 0 || l.MaxParts < 0 {
		return l, errors.New("validate: UploadLimits has a negative limit; use positive limits or 0 for the defaults")
	}
	if len(l.AllowedTypes) == 0 {
		return l, errors.New("validate: UploadLimits.AllowedTypes is empty; list the media types the route accepts, e.g. image/png, application/pdf")
	}
	if l.MaxBytes == 0 {
		l.MaxBytes = 10 << 20
	}
	if l.MaxFileBytes == 0 {
		l.MaxFileBytes = 5 << 20
	}
	if l.MaxFileBytes > l.MaxBytes {
		return l, fmt.Errorf("validate: UploadLimits.MaxFileBytes (%d) exceeds MaxBytes (%d); lower it", l.MaxFileBytes, l.MaxBytes)
	}
	if l.MaxFiles == 0 {
		l.MaxFiles = 10
	}
	if l.MaxParts == 0 {
		l.MaxParts = 100
	}
	l.AllowedTypes = slices.Clone(l.AllowedTypes)
	for i, t := range l.AllowedTypes {
		mt, _, err := mime.ParseMediaType(t)
		if err != nil {
			return l, fmt.Errorf("validate: UploadLimits.AllowedTypes[%d] %q is not a media type", i, t)
		}
		l.AllowedTypes[i] = mt
	}
	if l.ErrorWriter == nil {
		l.ErrorWriter = WriteProblem
	}
	return l, nil
}

// UploadHandler enforces UploadLimits before calling the next handler.
// Build it with Upload.
type UploadHandler struct {
	limits UploadLimits
	next   http.Handler
}

// Upload returns a handler that reads the whole multipart body (up to
// MaxBytes) and checks the part count, every file's size and sniffed type
// before the next handler runs; next then reads the same body as usual
// (r.ParseMultipartForm or r.MultipartReader). Rejections: 415 for a body
// that is not multipart/form-data or a file of a type not allowed, 413 for
// too large, 400 for a malformed body or too many parts. Upload returns an
// error for invalid limits.
func Upload(limits UploadLimits, next http.Handler) (*UploadHandler, error) {
	l, err := limits.resolve()
	if err != nil {
		return nil, err
	}
	return &UploadHandler{limits: l, next: next}, nil
}

// MustUpload is Upload that panics on invalid limits, for route tables.
func MustUpload(limits UploadLimits, next http.Handler) *UploadHandler {
	h, err := Upload(limits, next)
	if err != nil {
		panic(err)
	}
	return h
}

func (h *UploadHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, e := h.check(w, r)
	if e != nil {
		writeRefusal(w, r, e, h.limits.ErrorWriter)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	h.next.ServeHTTP(w, r)
}

func (h *UploadHandler) check(w http.ResponseWriter, r *http.Request) ([]byte, *Error) {
	l := &h.limits
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, newError(ErrMediaType, "send the upload as multipart/form-data")
	}
	if r.ContentLength > l.MaxBytes {
		return nil, tooLarge(l.MaxBytes)
	}
	if r.Body == nil {
		return nil, newError(ErrMalformed, "the upload is empty")
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, l.MaxBytes)); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge(l.MaxBytes)
		}
		return nil, newError(ErrMalformed, "the upload could not be read")
	}
	mr := multipart.NewReader(bytes.NewReader(buf.Bytes()), params["boundary"])
	files, parts := 0, 0
	sniff := make([]byte, 512)
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, newError(ErrMalformed, "the upload is not valid multipart/form-data")
		}
		parts++
		if parts > l.MaxParts {
			return nil, newError(ErrMalformed, fmt.Sprintf("the upload has more than %d parts", l.MaxParts))
		}
		if p.FileName() == "" {
			continue // a form field; its size counts toward MaxBytes
		}
		files++
		field := safeField(p.FormName())
		if files > l.MaxFiles {
			return nil, newError(ErrMalformed, fmt.Sprintf("the upload has more than %d files", l.MaxFiles))
		}
		n, err := io.ReadFull(p, sniff)
		if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
			return nil, newError(ErrMalformed, "the upload is not valid multipart/form-data")
		}
		rest, err := io.Copy(io.Discard, p)
		if err != nil {
			return nil, newError(ErrMalformed, "the upload is not valid multipart/form-data")
		}
		if int64(n)+rest > l.MaxFileBytes {
			e := newError(ErrTooLarge, fmt.Sprintf("a file is larger than %d bytes", l.MaxFileBytes))
			e.Fields = []FieldError{{Field: field, Rule: "max_file_bytes"}}
			return nil, e
		}
		sniffed, _, _ := mime.ParseMediaType(http.DetectContentType(sniff[:n]))
		declared := p.Header.Get("Content-Type")
		if declared != "" {
			dt, _, err := mime.ParseMediaType(declared)
			if err != nil || (dt != sniffed && dt != "application/octet-stream") {
				e := newError(ErrMediaType, "a file's content does not match its declared type")
				e.Fields = []FieldError{{Field: field, Rule: "content_type"}}
				return nil, e
			}
		}
		if !slices.Contains(l.AllowedTypes, sniffed) {
			e := newError(ErrMediaType, "a file's type is not allowed; allowed: "+strings.Join(l.AllowedTypes, ", "))
			e.Fields = []FieldError{{Field: field, Rule: "content_type"}}
			return nil, e
		}
	}
	return buf.Bytes(), nil
}

// Unwrap returns the wrapped handler.
func (h *UploadHandler) Unwrap() http.Handler { return h.next }

// Limits returns the effective limits (defaults filled in).
func (h *UploadHandler) Limits() UploadLimits {
	l := h.limits
	l.AllowedTypes = slices.Clone(l.AllowedTypes)
	return l
}

// MaxBytes is the cap on the whole body.
func (h *UploadHandler) MaxBytes() int64 { return h.limits.MaxBytes }
