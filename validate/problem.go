package validate

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
)

// Sentinel errors, one per class of rejection. Every *Error unwraps to one of
// them, so callers of Decode can branch with errors.Is.
var (
	// ErrMalformed: the body is not exactly one well-formed JSON value
	// (syntax, trailing data, duplicate keys, invalid UTF-8, nesting too
	// deep, empty body) or a path/query parameter is malformed. Status 400.
	ErrMalformed = errors.New("validate: malformed input")
	// ErrTooLarge: the body exceeds the size cap. Status 413.
	ErrTooLarge = errors.New("validate: body too large")
	// ErrMediaType: the Content-Type is not accepted, or an uploaded file's
	// sniffed type is not allowed. Status 415.
	ErrMediaType = errors.New("validate: unsupported media type")
	// ErrInvalid: the value decoded but breaks the schema's rules (unknown
	// field, wrong type, a failed validate tag). Status 422.
	ErrInvalid = errors.New("validate: invalid input")
)

// FieldError is one rule failure. It names the field (by its JSON name, as a
// dotted path for nested fields) and the rule, never the submitted value.
type FieldError struct {
	// Field is the JSON path of the field: "email", "address.zip",
	// "items[2].qty". A field the schema does not declare is reported as
	// "(unknown)": its name is client text and is not echoed.
	Field string `json:"field"`
	// Rule is the failed rule: a validator tag ("required", "email", "min"),
	// "type" for a value of the wrong JSON type, "unknown" for a field the
	// schema does not declare.
	Rule string `json:"rule"`
	// Param is the rule's parameter from the schema ("8" for min=8), if any.
	Param string `json:"param,omitempty"`
}

// Error is a rejection: its status, a short title and detail written by this
// package (never the submitted input, never an internal error string), and
// the per-field failures of a 422.
type Error struct {
	Status int
	Title  string
	Detail string
	Fields []FieldError
	kind   error
}

func (e *Error) Error() string { return "validate: " + e.Detail }

// Unwrap returns the sentinel of the error's class (ErrMalformed…).
func (e *Error) Unwrap() error { return e.kind }

func newError(kind error, detail string) *Error {
	e := &Error{Detail: detail, kind: kind}
	switch kind {
	case ErrTooLarge:
		e.Status, e.Title = http.StatusRequestEntityTooLarge, "Request body too large"
	case ErrMediaType:
		e.Status, e.Title = http.StatusUnsupportedMediaType, "Unsupported media type"
	case ErrInvalid:
		e.Status, e.Title = http.StatusUnprocessableEntity, "Invalid input"
	default:
		e.Status, e.Title = http.StatusBadRequest, "Malformed request"
	}
	return e
}

// Problem is the RFC 9457 problem details document written for an Error.
type Problem struct {
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Detail string       `json:"detail,omitempty"`
	Errors []FieldError `json:"errors,omitempty"`
}

// Problem returns the problem document for e.
func (e *Error) Problem() Problem {
	return Problem{Type: "about:blank", Title: e.Title, Status: e.Status, Detail: e.Detail, Errors: e.Fields}
}

// An ErrorWriter writes the response for a rejected request. Replace it (in
// Options, PathOptions or UploadLimits) to render errors in the app's own
// format; it must not echo request input.
type ErrorWriter func(w http.ResponseWriter, r *http.Request, err *Error)

// WriteProblem is the default ErrorWriter: it writes err as
// application/problem+json with err.Status.
func WriteProblem(w http.ResponseWriter, _ *http.Request, err *Error) {
	body, mErr := json.Marshal(err.Problem())
	if mErr != nil { // cannot happen: Problem holds only strings and ints
		body = []byte(`{"type":"about:blank","title":"Malformed request","status":400}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(err.Status)
	_, _ = w.Write(body)
}

// WriteError writes err with WriteProblem when it is an *Error (as returned
// by Decode) and a plain 400 problem otherwise.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = newError(ErrMalformed, "the request could not be read")
	}
	WriteProblem(w, r, e)
}
