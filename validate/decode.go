package validate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/go-playground/validator/v10"
)

// Defaults applied when an Options field is zero.
const (
	// DefaultMaxBytes caps a JSON body at 1 MB.
	DefaultMaxBytes int64 = 1 << 20
	// DefaultMaxDepth caps nesting of objects and arrays at 32 levels.
	DefaultMaxDepth = 32
)

// Options configure JSON body decoding. The zero value (or nil) is the
// hardened setting.
type Options struct {
	// MaxBytes caps the body. Zero means DefaultMaxBytes (1 MB). A larger
	// body is refused with 413 before it is read past the cap.
	MaxBytes int64
	// MaxDepth caps the nesting of objects and arrays. Zero means
	// DefaultMaxDepth (32).
	MaxDepth int
	// InsecureAllowUnknownFields accepts fields the schema does not declare
	// (they are ignored). Off by default: unknown fields are refused with
	// 422, which stops mass assignment through fields added later. Readiness
	// reports it (INPUT003).
	InsecureAllowUnknownFields bool
	// Validator checks the decoded struct. Nil uses a shared validator that
	// names fields by their json tag.
	Validator *validator.Validate
	// ErrorWriter writes rejections. Nil means WriteProblem.
	ErrorWriter ErrorWriter
}

func (o *Options) resolve() (Options, error) {
	var r Options
	if o != nil {
		r = *o
	}
	if r.MaxBytes < 0 {
		return r, fmt.Errorf("validate: Options.MaxBytes is %d; use a positive cap or 0 for the 1 MB default", r.MaxBytes)
	}
	if r.MaxDepth < 0 || r.MaxDepth > 10000 {
		return r, fmt.Errorf("validate: Options.MaxDepth is %d; use 1 to 10000, or 0 for the default of %d", r.MaxDepth, DefaultMaxDepth)
	}
	if r.MaxBytes == 0 {
		r.MaxBytes = DefaultMaxBytes
	}
	if r.MaxDepth == 0 {
		r.MaxDepth = DefaultMaxDepth
	}
	if r.Validator == nil {
		r.Validator = defaultValidator()
	}
	if r.ErrorWriter == nil {
		r.ErrorWriter = WriteProblem
	}
	return r, nil
}

var (
	sharedOnce      sync.Once
	sharedValidator *validator.Validate
)

func defaultValidator() *validator.Validate {
	sharedOnce.Do(func() {
		v := validator.New(validator.WithRequiredStructEnabled())
		v.RegisterTagNameFunc(jsonName)
		sharedValidator = v
	})
	return sharedValidator
}

// jsonName is the field's JSON name, as encoding/json would use it.
func jsonName(f reflect.StructField) string {
	tag := f.Tag.Get("json")
	name, _, _ := strings.Cut(tag, ",")
	if name == "-" {
		return ""
	}
	if name == "" {
		return f.Name
	}
	return name
}

type buffer struct {
	b    bytes.Buffer
	rd   bytes.Reader
	lim  io.LimitedReader
	keys []keySpan
	// dec is a strict decoder (DisallowUnknownFields) reading rd, kept
	// for the next body when it is known clean (see reusable), which
	// saves its allocations (the decoder, its buffer, its scanner and
	// error state: six of a small body's ten); nil otherwise.
	dec *json.Decoder
}

// maxReusedBody bounds the bodies after which the decoder is kept: its
// buffer grows to the body's size.
const maxReusedBody = 16 << 10

var bufPool = sync.Pool{New: func() any { return new(buffer) }}

// Decode reads r's body into a T with the checks of Options (nil means the
// defaults) and validates it. On failure it returns an *Error (unwrapping to
// ErrMalformed, ErrTooLarge, ErrMediaType or ErrInvalid) that the caller
// writes with WriteError; Decode itself writes nothing. w is needed by
// http.MaxBytesReader to close the connection after an oversized body.
func Decode[T any](w http.ResponseWriter, r *http.Request, opts *Options) (T, error) {
	var v T
	o, err := opts.resolve()
	if err != nil {
		return v, err
	}
	if e := decodeInto(w, r, &v, &o, byValue(reflect.TypeFor[T](), o.Validator)); e != nil {
		return v, e
	}
	return v, nil
}

// CheckContentType reports whether the request declares a JSON body:
// application/json, with no charset or charset=utf-8.
func CheckContentType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "application/json" {
		return nil
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/json" {
		return newError(ErrMediaType, "send the body as application/json")
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return newError(ErrMediaType, "send the body as application/json in UTF-8")
	}
	return nil
}

// decodeInto decodes r's body into dst, a pointer, and validates the value;
// with byValue (see byValue) it hands the validator a copy of the value
// rather than the pointer.
func decodeInto(w http.ResponseWriter, r *http.Request, dst any, o *Options, byValue bool) *Error {
	if err := CheckContentType(r); err != nil {
		return err.(*Error)
	}
	if r.ContentLength > o.MaxBytes {
		return tooLarge(o.MaxBytes)
	}
	if r.Body == nil || r.Body == http.NoBody {
		return newError(ErrMalformed, string(errEmpty))
	}
	buf := bufPool.Get().(*buffer)
	defer func() {
		if buf.b.Cap() <= 64<<10 { // do not pin large buffers in the pool
			buf.b.Reset()
			buf.rd.Reset(nil)
			bufPool.Put(buf)
		}
	}()
	// Read at most one byte past the cap, as http.MaxBytesReader would,
	// through a reader that lives in the pooled buffer (MaxBytesReader
	// would be an allocation per request).
	buf.lim = io.LimitedReader{R: r.Body, N: o.MaxBytes + 1}
	_, err := buf.b.ReadFrom(&buf.lim)
	buf.lim.R = nil
	if err != nil {
		return newError(ErrMalformed, "the body could not be read")
	}
	if int64(buf.b.Len()) > o.MaxBytes {
		bodyTooLarge(w)
		return tooLarge(o.MaxBytes)
	}
	data := buf.b.Bytes()
	buf.keys, err = scan(data, o.MaxDepth, buf.keys)
	if err != nil {
		var se scanError
		if errors.As(err, &se) {
			return newError(ErrMalformed, string(se))
		}
		return newError(ErrMalformed, string(errSyntax))
	}
	buf.rd.Reset(data)
	dec := buf.dec
	buf.dec = nil
	if dec == nil || o.InsecureAllowUnknownFields {
		dec = json.NewDecoder(&buf.rd)
		if !o.InsecureAllowUnknownFields {
			dec.DisallowUnknownFields()
		}
	}
	start := dec.InputOffset()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err) // a decoder that failed is not kept
	}
	if !o.InsecureAllowUnknownFields && reusable(data, dec.InputOffset()-start) {
		buf.dec = dec
	}
	target := dst
	if byValue {
		target = reflect.ValueOf(dst).Elem().Interface()
	}
	if err := o.Validator.Struct(target); err != nil {
		return ruleErrors(err)
	}
	return nil
}

// byValue reports whether validating a T is cheaper, and checks exactly the
// same, when the validator gets a copy of the value instead of a pointer
// to it.
//
// Why: validator/v10 asks every field whether it implements its Valuer
// interface (reflect.Value.Interface), and for a field reached through a
// pointer, so addressable, that copies the field to the heap: one
// allocation per string, number, slice or nested struct. Fields of a
// copy are not addressable and are not copied again, so a copy costs one
// allocation however many fields T has.
//
// When the answer is the same: only the shared default validator, which
// has no custom rules, struct-level rules or type functions that could see
// the difference, and only for a struct T without the validateFn rule (the
// one built-in rule that looks for pointer-receiver methods of an
// addressable field). A copy is taken only if T has two or more such
// fields and is at most maxValueCopy bytes, so it saves allocations.
func byValue(t reflect.Type, v *validator.Validate) bool {
	if v != defaultValidator() || t.Kind() != reflect.Struct {
		return false
	}
	if plan, ok := byValuePlans.Load(t); ok {
		return plan.(bool)
	}
	plan := t.Size() <= maxValueCopy && boxedFields(t) >= 2 && !usesValidateFn(t, map[reflect.Type]bool{})
	byValuePlans.Store(t, plan)
	return plan
}

// maxValueCopy bounds the value byValue copies.
const maxValueCopy = 1 << 10

// byValuePlans caches byValue's answer per type.
var byValuePlans sync.Map // reflect.Type → bool

// boxedFields counts t's exported fields the validator would copy to the
// heap when they are addressable: those whose values are not pointers.
func boxedFields(t reflect.Type) int {
	n := 0
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() || f.Tag.Get("validate") == "-" {
			continue
		}
		switch f.Type.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Chan, reflect.Func, reflect.UnsafePointer, reflect.Interface:
		default:
			n++
		}
	}
	return n
}

// usesValidateFn reports whether the validateFn rule appears anywhere in
// t's fields, nested types included.
func usesValidateFn(t reflect.Type, seen map[reflect.Type]bool) bool {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		if t.Kind() == reflect.Map && usesValidateFn(t.Key(), seen) {
			return true
		}
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || seen[t] {
		return false
	}
	seen[t] = true
	for i := range t.NumField() {
		f := t.Field(i)
		if strings.Contains(string(f.Tag), "validateFn") || usesValidateFn(f.Type, seen) {
			return true
		}
	}
	return false
}

// reusable reports whether a decoder that decoded data, reading consumed
// bytes of it, may decode the next body: it holds nothing of this one. The
// value must be an object or an array, whose end the decoder sees without
// reading past it (after a number or a string it reads on, and keeps the
// reader's io.EOF as its error for good), and must end exactly at the end
// of data, so no byte of this body stays in its buffer.
func reusable(data []byte, consumed int64) bool {
	return len(data) > 0 && len(data) <= maxReusedBody && (data[0] == '{' || data[0] == '[') &&
		consumed == int64(len(data))
}

// bodyTooLarge tells the server, as http.MaxBytesReader does when a body
// passes its cap, that the request's body was cut short, so it closes the
// connection after the answer instead of reading on. A MaxBytesReader of
// no bytes over one byte says exactly that (net/http's hook for it is not
// exported); only an oversized body pays for it.
func bodyTooLarge(w http.ResponseWriter) {
	var one [1]byte
	_, _ = http.MaxBytesReader(w, io.NopCloser(strings.NewReader("x")), 0).Read(one[:])
}

func tooLarge(n int64) *Error {
	return newError(ErrTooLarge, "the body is larger than "+strconv.FormatInt(n, 10)+" bytes")
}

func decodeError(err error) *Error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		e := newError(ErrInvalid, "a field has the wrong JSON type")
		field := "(body)"
		if te.Field != "" {
			field = safeField(te.Field)
		}
		e.Fields = []FieldError{{Field: field, Rule: "type", Param: te.Type.Kind().String()}}
		return e
	}
	if strings.HasPrefix(err.Error(), "json: unknown field ") {
		// The key is client text and may be anything (even a secret pasted
		// into the wrong place), so it is not echoed.
		e := newError(ErrInvalid, "the body has a field the schema does not declare")
		e.Fields = []FieldError{{Field: "(unknown)", Rule: "unknown"}}
		return e
	}
	return newError(ErrMalformed, "the body does not match the expected JSON shape")
}

// safeField returns a client-supplied field name when it is short and plain
// (letters, digits, _ - . [ ]), and a placeholder otherwise, so an error
// body never carries arbitrary client text.
func safeField(s string) string {
	if s == "" || len(s) > 64 {
		return "(field)"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '_' || c == '-' || c == '.' || c == '[' || c == ']') {
			return "(field)"
		}
	}
	return s
}

func ruleErrors(err error) *Error {
	var ves validator.ValidationErrors
	if !errors.As(err, &ves) {
		var inv *validator.InvalidValidationError
		if errors.As(err, &inv) {
			return nil // T is not a struct: nothing to validate beyond decoding
		}
		return newError(ErrInvalid, "the body breaks the schema's rules")
	}
	e := newError(ErrInvalid, "the body breaks the schema's rules; see errors")
	e.Fields = make([]FieldError, 0, len(ves))
	for _, fe := range ves {
		ns := fe.Namespace()
		if _, rest, ok := strings.Cut(ns, "."); ok {
			ns = rest // drop the root type's name
		}
		e.Fields = append(e.Fields, FieldError{Field: ns, Rule: fe.Tag(), Param: fe.Param()})
	}
	return e
}
