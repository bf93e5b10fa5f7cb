package portalapp_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/launchready/launchready/examples/portalapp"
)

// The bare twin answers the load generator's requests with the portal's
// handlers and store, as the support agent, with no kit middleware: a
// baseline for benchmarks only.
func ExampleBuildBare() {
	b, err := portalapp.BuildBare(portalapp.Options{Addr: "127.0.0.1:8080"})
	if err != nil {
		panic(err)
	}
	rec := httptest.NewRecorder()
	b.Server.Handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/clients/client-a", nil))
	fmt.Println(rec.Code, rec.Header().Get("Content-Type"))
	// Output: 200 application/json
}
