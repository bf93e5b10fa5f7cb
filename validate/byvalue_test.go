package validate_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/go-playground/validator/v10"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/validate"
)

type rvAddress struct {
	Street string `json:"street" validate:"required,max=20"`
	Zip    string `json:"zip" validate:"required,numeric,len=5"`
}

// rvTicket exercises what the shared validator checks, on a struct it
// validates by value: nested and optional structs, slices and maps with
// dive, an array, numbers, times, pointers, cross-field rules (within the
// struct and across it), required structs.
type rvTicket struct {
	Subject  string               `json:"subject" validate:"required,max=30"`
	Priority string               `json:"priority" validate:"oneof=low normal high"`
	Tags     []string             `json:"tags" validate:"max=3,dive,required,max=8"`
	Labels   map[string]string    `json:"labels" validate:"max=2,dive,keys,alpha,endkeys,max=5"`
	Pair     [2]int               `json:"pair" validate:"dive,gte=0,lte=9"`
	Amount   float64              `json:"amount" validate:"gte=0"`
	Min      int                  `json:"min"`
	Max      int                  `json:"max" validate:"gtefield=Min"`
	Due      time.Time            `json:"due"`
	Until    *time.Time           `json:"until" validate:"omitnil,gtfield=Due"`
	Address  rvAddress            `json:"address" validate:"required"`
	Billing  *rvAddress           `json:"billing"`
	Copies   []rvAddress          `json:"copies" validate:"dive"`
	Contact  string               `json:"contact" validate:"required_without=Phone,omitempty,email"`
	Phone    string               `json:"phone"`
	Confirm  string               `json:"confirm" validate:"eqfield=Subject"`
	ZipAgain string               `json:"zip_again" validate:"omitempty,eqcsfield=Address.Zip"`
	Notes    map[string]rvAddress `json:"notes" validate:"dive"`
}

// reference validates as the package did before it validated copies: the
// same validator settings, given a pointer.
func reference(t *testing.T, body string) (ok bool, fields []validate.FieldError) {
	t.Helper()
	v := validator.New(validator.WithRequiredStructEnabled())
	v.RegisterTagNameFunc(func(f reflect.StructField) string {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			return ""
		}
		if name == "" {
			return f.Name
		}
		return name
	})
	var in rvTicket
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return false, nil
	}
	err := v.Struct(&in)
	var ves validator.ValidationErrors
	if err == nil {
		return true, nil
	}
	require.True(t, errors.As(err, &ves), "reference: %v", err)
	for _, fe := range ves {
		_, ns, _ := strings.Cut(fe.Namespace(), ".")
		fields = append(fields, validate.FieldError{Field: ns, Rule: fe.Tag(), Param: fe.Param()})
	}
	return true, fields
}

func decodeTicket(body string) (int, *validate.Error) {
	var got *validate.Error
	h := validate.JSON(func(w http.ResponseWriter, _ *http.Request, _ *rvTicket) {
		w.WriteHeader(http.StatusNoContent)
	}, &validate.Options{ErrorWriter: func(w http.ResponseWriter, _ *http.Request, err *validate.Error) {
		got = err
		w.WriteHeader(err.Status)
	}})
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec.Code, got
}

// checkSameAsReference: a body the reference decodes is accepted exactly
// when the reference's validation passes, and refused with the same field
// errors in the same order otherwise.
func checkSameAsReference(t *testing.T, body string) {
	decoded, want := reference(t, body)
	code, got := decodeTicket(body)
	if !decoded {
		return // refused before validation (the package is stricter than a plain decoder)
	}
	if got != nil && (got.Status == http.StatusBadRequest || got.Status == http.StatusRequestEntityTooLarge) {
		// Refused before validation although a plain decoder reads it:
		// the package is stricter (trailing data after the value, as
		// in "{}0", duplicate keys, depth), so validation never ran.
		require.Empty(t, got.Fields, "a refusal before validation names no field")
		return
	}
	if want == nil {
		if code != http.StatusNoContent && got != nil && len(got.Fields) > 0 {
			t.Fatalf("refused %s with %v; the reference accepts it", body, got.Fields)
		}
		return
	}
	require.NotNil(t, got, "accepted %s; the reference refuses it with %v", body, want)
	assert.Equal(t, want, got.Fields, body)
}

const rvValid = `{"subject":"VAT","priority":"high","tags":["a","b"],"labels":{"ab":"x"},"pair":[1,2],` +
	`"amount":1.5,"min":1,"max":2,"due":"2026-12-01T00:00:00Z","until":"2026-12-02T00:00:00Z",` +
	`"address":{"street":"Main 1","zip":"10115"},"billing":{"street":"B","zip":"12345"},` +
	`"copies":[{"street":"C","zip":"54321"}],"contact":"a@b.test","confirm":"VAT","zip_again":"10115",` +
	`"notes":{"n":{"street":"N","zip":"11111"}}}`

func TestValidationByValueMatchesPointer(t *testing.T) {
	bodies := []string{
		rvValid,
		`{"subject":"","priority":"urgent","confirm":"x"}`,
		`{"subject":"VAT","priority":"low","confirm":"VAT","address":{"street":"S","zip":"1"}}`,
		`{"subject":"VAT","priority":"low","confirm":"VAT","address":{"street":"S","zip":"12345"},"phone":"1"}`,
		`{"subject":"VAT","priority":"low","confirm":"VAT","address":{"street":"S","zip":"12345"},"contact":"nope"}`,
		`{"subject":"VAT","priority":"low","confirm":"VAT","address":{"street":"S","zip":"12345"},"contact":"a@b.test","tags":["","123456789","x","y"]}`,
		`{"subject":"VAT","priority":"low","confirm":"VAT","address":{"street":"S","zip":"12345"},"contact":"a@b.test","labels":{"1":"x","ab":"toolong","c":"d"}}`,
		`{"subject":"VAT","priority":"low","confirm":"VAT","address":{"street":"S","zip":"12345"},"contact":"a@b.test","pair":[-1,10],"amount":-1,"min":5,"max":4}`,
		`{"subject":"VAT","priority":"low","confirm":"VAT","address":{"street":"S","zip":"12345"},"contact":"a@b.test","due":"2026-12-02T00:00:00Z","until":"2026-12-01T00:00:00Z"}`,
		`{"subject":"VAT","priority":"low","confirm":"VAT","address":{"street":"S","zip":"12345"},"contact":"a@b.test","billing":{"street":"","zip":"x"},"copies":[{"street":"","zip":""}],"notes":{"n":{}}}`,
		`{"subject":"VAT","priority":"low","confirm":"VAT","address":{"street":"S","zip":"12345"},"contact":"a@b.test","zip_again":"99999"}`,
	}
	for _, body := range bodies {
		checkSameAsReference(t, body)
	}
	code, _ := decodeTicket(rvValid)
	require.Equal(t, http.StatusNoContent, code, "precondition: the valid body passes")
	code, got := decodeTicket(bodies[1])
	require.Equal(t, http.StatusUnprocessableEntity, code)
	assert.NotEmpty(t, got.Fields, "negative: an invalid body is refused with its fields")
}

// FuzzValidationByValueMatchesPointer: for any body, validating a copy
// accepts and refuses exactly what validating through a pointer did.
func FuzzValidationByValueMatchesPointer(f *testing.F) {
	f.Add(rvValid)
	f.Add(`{"subject":"","priority":"urgent"}`)
	f.Add(`{"tags":["",""],"labels":{"1":"toolong"},"pair":[-1,10],"min":3,"max":1}`)
	f.Add(`{"address":{"zip":"abcde"},"billing":{},"copies":[{}],"notes":{"x":{}},"zip_again":"1"}`)
	f.Add(`{"due":"2026-12-02T00:00:00Z","until":"2026-12-01T00:00:00Z","contact":"x"}`)
	f.Fuzz(func(t *testing.T, body string) {
		if len(body) > 4096 {
			t.Skip()
		}
		checkSameAsReference(t, body)
	})
}

type validateFnValue struct{ S string }

// Validate has a pointer receiver: validator/v10's validateFn rule finds it
// only on an addressable field.
func (v *validateFnValue) Validate() bool { return v.S == "ok" }

type validateFnBody struct {
	A validateFnValue `json:"a" validate:"validateFn"`
	B string          `json:"b"`
}

// A struct that uses validateFn is validated through its pointer, as
// before: the rule still finds the pointer-receiver method, so a good
// value is accepted and a bad one refused.
func TestValidateFnStillSeesPointerMethods(t *testing.T) {
	h := validate.JSON(func(w http.ResponseWriter, _ *http.Request, _ *validateFnBody) {
		w.WriteHeader(http.StatusNoContent)
	}, nil)
	for body, want := range map[string]int{
		`{"a":{"S":"ok"},"b":"x"}`:  http.StatusNoContent,
		`{"a":{"S":"bad"},"b":"x"}`: http.StatusUnprocessableEntity,
	} {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		assert.Equal(t, want, rec.Code, body)
	}
}
