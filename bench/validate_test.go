package bench

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-playground/validator/v10"

	"github.com/launchready/launchready/validate"
)

type validateBenchAddress struct {
	Street  string `json:"street" validate:"required,max=100"`
	City    string `json:"city" validate:"required,max=60"`
	Zip     string `json:"zip" validate:"required,numeric,len=5"`
	Country string `json:"country" validate:"required,iso3166_1_alpha2"`
}

type validateBenchTicket struct {
	ClientID    string               `json:"client_id" validate:"required,uuid"`
	Subject     string               `json:"subject" validate:"required,max=120"`
	Body        string               `json:"body" validate:"required,max=4000"`
	Priority    string               `json:"priority" validate:"oneof=low normal high"`
	ContactMail string               `json:"contact_email" validate:"required,email"`
	Tags        []string             `json:"tags" validate:"max=10,dive,max=20"`
	Address     validateBenchAddress `json:"address"`
	Amount      float64              `json:"amount" validate:"gte=0"`
	Notify      bool                 `json:"notify"`
}

// validateBenchBody is a typical ~1 KB ticket body.
var validateBenchBody = func() string {
	b := `{"client_id":"6f1c2a9e-3b4d-4e5f-8a7b-9c0d1e2f3a4b","subject":"Invoice 2026-114 shows the wrong VAT rate",` +
		`"body":"` + strings.Repeat("The invoice for October lists 19% VAT but our contract says 7%. ", 9) + `",` +
		`"priority":"high","contact_email":"alice@client-a.test","tags":["billing","vat","invoice","urgent"],` +
		`"address":{"street":"Hauptstrasse 12","city":"Berlin","zip":"10115","country":"DE"},"amount":1234.56,"notify":true}`
	return b
}()

var validateBenchValidator = validator.New(validator.WithRequiredStructEnabled())

func validateBenchRequest() *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/api/tickets", strings.NewReader(validateBenchBody))
	r.Header.Set("Content-Type", "application/json")
	return r
}

// BenchmarkValidateDecode compares validate.JSON (size cap, content type,
// one value, duplicate keys, UTF-8, depth, unknown fields, then validator)
// with the plain json.Decoder + validator.Struct most portals write.
func BenchmarkValidateDecode(b *testing.B) {
	b.Logf("body is %d bytes", len(validateBenchBody))
	b.Run("launchready", func(b *testing.B) {
		h := validate.JSON(func(w http.ResponseWriter, r *http.Request, in *validateBenchTicket) {
			if in.Subject == "" {
				b.Fatal("not decoded")
			}
		}, nil)
		w := httptest.NewRecorder()
		b.ReportAllocs()
		b.SetBytes(int64(len(validateBenchBody)))
		for b.Loop() {
			h.ServeHTTP(w, validateBenchRequest())
		}
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	})
	b.Run("plain_decoder_validator", func(b *testing.B) {
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var in validateBenchTicket
			if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			if err := validateBenchValidator.Struct(&in); err != nil {
				w.WriteHeader(http.StatusUnprocessableEntity)
				return
			}
		})
		w := httptest.NewRecorder()
		b.ReportAllocs()
		b.SetBytes(int64(len(validateBenchBody)))
		for b.Loop() {
			h.ServeHTTP(w, validateBenchRequest())
		}
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	})
}
