package audit_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/launchready/launchready/audit"
)

func Example() {
	sink := &audit.MemorySink{} // audit.OpenFile("/var/lib/portal/audit.jsonl", nil) in production
	auditor, err := audit.New(audit.Config{
		Sink: sink,
		Now:  func() time.Time { return time.Date(2026, 11, 28, 15, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		panic(err)
	}
	mux := http.NewServeMux() // authz.Mux in a real portal announces route and principal
	mux.HandleFunc("PATCH /api/tickets/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /api/clients/{id}/export", func(w http.ResponseWriter, r *http.Request) {
		if err := auditor.Event(r, audit.Event{Action: "export", PrincipalID: "u-agent",
			Objects: map[string]string{"client": r.PathValue("id")}}); err != nil {
			http.Error(w, "export unavailable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "id,subject")
	})
	handler := auditor.Handler(mux)

	handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("PATCH", "/api/tickets/t-9", nil))
	handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/api/clients/c-1/export", nil))
	for _, rec := range sink.Records() {
		fmt.Println(rec.Kind, rec.Action, rec.Method, rec.Objects, rec.Status, rec.Outcome)
	}
	// Output:
	// request  PATCH map[id:t-9] 204 success
	// event export GET map[client:c-1] 0 success
}
