package flows_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/launchready/launchready/flows"
)

func Example() {
	// A stand-in app: a health route and a client list.
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`[{"id":"client-a"}]`))
	}))
	defer app.Close()

	file, err := flows.Parse([]byte(`
flows:
  - name: clients
    steps:
      - name: list clients
        request: GET /api/clients
        status: 200
        capture: {client: "$[0].id"}
      - name: open client
        request: GET /api/clients/{{client}}
        assert: {body: client-a}
`), "flows.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	runner := &flows.Runner{BaseURL: app.URL}
	res := runner.Run(context.Background(), file.Flows[0])
	fmt.Println(res.OK(), len(res.Steps))
	// Output: true 2
}
