package validate_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/launchready/launchready/validate"
)

type newTicket struct {
	Subject string `json:"subject" validate:"required,max=120"`
	Body    string `json:"body" validate:"required"`
}

func Example() {
	mux := http.NewServeMux()
	mux.Handle("POST /api/clients/{id}/tickets", validate.Path(validate.Rules{"id": validate.UUID},
		validate.JSON(func(w http.ResponseWriter, r *http.Request, in *newTicket) {
			w.WriteHeader(http.StatusCreated)
			fmt.Fprintf(w, "created %q", in.Subject)
		}, nil)))

	for _, body := range []string{
		`{"subject":"Invoice question","body":"Hello"}`,
		`{"subject":"","body":"Hello","priority":"urgent"}`,
		`{"subject":"","body":"Hello"}`,
	} {
		r := httptest.NewRequest(http.MethodPost, "/api/clients/00000000-0000-4000-8000-000000000001/tickets", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		fmt.Println(w.Code, w.Body.String())
	}
	// Output:
	// 201 created "Invoice question"
	// 422 {"type":"about:blank","title":"Invalid input","status":422,"detail":"the body has a field the schema does not declare","errors":[{"field":"(unknown)","rule":"unknown"}]}
	// 422 {"type":"about:blank","title":"Invalid input","status":422,"detail":"the body breaks the schema's rules; see errors","errors":[{"field":"subject","rule":"required"}]}
}
