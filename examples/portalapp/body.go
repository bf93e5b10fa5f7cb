package portalapp

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/go-playground/validator/v10"
)

// maxJSONBody bounds every JSON body of the API.
const maxJSONBody = 16 << 10

var validate = validator.New(validator.WithRequiredStructEnabled())

// jsonBody decodes and validates the request body into a fresh T before
// calling fn: Content-Type application/json, at most maxJSONBody bytes, one
// JSON value, no unknown fields, valid UTF-8, then the struct's validate
// tags. Errors name the field and rule, never the submitted value.
func jsonBody[T any](fn func(http.ResponseWriter, *http.Request, *T)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil || mt != "application/json" {
			writeProblem(w, http.StatusUnsupportedMediaType, "Unsupported Media Type", "send the body as application/json")
			return
		}
		raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBody))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				writeProblem(w, http.StatusRequestEntityTooLarge, "Content Too Large", "the body is larger than the route accepts")
				return
			}
			writeProblem(w, http.StatusBadRequest, "Bad Request", "the body could not be read")
			return
		}
		if !utf8.Valid(raw) {
			writeProblem(w, http.StatusBadRequest, "Bad Request", "the body is not valid UTF-8")
			return
		}
		in := new(T)
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(in); err != nil {
			writeProblem(w, http.StatusBadRequest, "Bad Request", decodeDetail(err))
			return
		}
		if dec.More() {
			writeProblem(w, http.StatusBadRequest, "Bad Request", "the body must hold exactly one JSON value")
			return
		}
		if err := validate.Struct(in); err != nil {
			var ve validator.ValidationErrors
			if errors.As(err, &ve) && len(ve) > 0 {
				writeProblem(w, http.StatusUnprocessableEntity, "Unprocessable Entity",
					"field "+jsonName(ve[0].Field())+" fails rule "+ve[0].Tag())
				return
			}
			writeProblem(w, http.StatusUnprocessableEntity, "Unprocessable Entity", "the body is not valid")
			return
		}
		fn(w, r, in)
	})
}

func decodeDetail(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		return "field " + typeErr.Field + " has the wrong type"
	}
	if strings.HasPrefix(err.Error(), "json: unknown field ") {
		return "the body has a field the route does not accept"
	}
	return "the body is not valid JSON"
}

func jsonName(field string) string { return strings.ToLower(field[:1]) + field[1:] }
