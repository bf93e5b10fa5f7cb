package portalapp

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
)

// Upload limits (INPUT006): size of the whole request, number of files,
// and the content types accepted, sniffed from the bytes (the client's
// declared type is not trusted).
const (
	MaxUploadBytes = 5 << 20
	MaxUploadFiles = 5
)

// UploadTypes are the accepted sniffed content types.
var UploadTypes = []string{"application/pdf", "image/png", "image/jpeg", "text/plain; charset=utf-8"}

// uploads parses a multipart/form-data request with field "file" within the
// limits and hands the files to fn.
func uploads(fn func(http.ResponseWriter, *http.Request, []Uploaded)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
			writeProblem(w, http.StatusUnsupportedMediaType, "Unsupported Media Type", "send files as multipart/form-data")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxUploadBytes)
		mr, err := r.MultipartReader()
		if err != nil {
			writeProblem(w, http.StatusBadRequest, "Bad Request", "the upload is not valid multipart/form-data")
			return
		}
		var files []Uploaded
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				var tooBig *http.MaxBytesError
				if errors.As(err, &tooBig) {
					writeProblem(w, http.StatusRequestEntityTooLarge, "Content Too Large", "uploads are limited to 5 MiB per request")
					return
				}
				writeProblem(w, http.StatusBadRequest, "Bad Request", "the upload is not valid multipart/form-data")
				return
			}
			if part.FormName() != "file" || part.FileName() == "" {
				writeProblem(w, http.StatusBadRequest, "Bad Request", "send each file in a part named file")
				return
			}
			if len(files) == MaxUploadFiles {
				writeProblem(w, http.StatusBadRequest, "Bad Request", "at most 5 files per request")
				return
			}
			data, err := io.ReadAll(part)
			if err != nil {
				writeProblem(w, http.StatusRequestEntityTooLarge, "Content Too Large", "uploads are limited to 5 MiB per request")
				return
			}
			ct := http.DetectContentType(data)
			if !slices.Contains(UploadTypes, ct) {
				writeProblem(w, http.StatusUnsupportedMediaType, "Unsupported Media Type", "accepted files: PDF, PNG, JPEG, plain text")
				return
			}
			name := strings.Map(func(r rune) rune {
				if r < 0x20 || r == 0x7f || r == '"' || r == '/' || r == '\\' {
					return '_'
				}
				return r
			}, filepath.Base(part.FileName()))
			if len(name) > 200 {
				name = name[:200]
			}
			files = append(files, Uploaded{Name: name, ContentType: ct, Size: int64(len(data)), Body: bytes.NewReader(data)})
		}
		if len(files) == 0 {
			writeProblem(w, http.StatusBadRequest, "Bad Request", "send at least one file")
			return
		}
		fn(w, r, files)
	})
}
