package flows_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/launchready/launchready/flows"
)

// FuzzParse feeds arbitrary files to the YAML and JSON parsers. A file
// either fails with ErrInvalid or validates, and a validated flow runs
// against a server without panicking.
func FuzzParse(f *testing.F) {
	seed, err := os.ReadFile("testdata/portal.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed, false)
	f.Add([]byte(`{"flows":[{"name":"f","steps":[{"name":"s","request":"GET /a?x={{c}}","capture":{"c":"$[0].b"}}]}]}`), true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`[{"b":"x","id":1}]`))
	}))
	defer srv.Close()
	rn := &flows.Runner{BaseURL: srv.URL, LookupEnv: func(string) (string, bool) { return "v", true }}
	f.Fuzz(func(t *testing.T, data []byte, isJSON bool) {
		name := "f.yaml"
		if isJSON {
			name = "f.json"
		}
		file, err := flows.Parse(data, name)
		if err != nil {
			return
		}
		if len(file.Flows) == 0 {
			t.Fatal("a parsed file has flows")
		}
		for _, fl := range file.Flows {
			for i := range fl.Steps {
				fl.Steps[i].Timeout = 0
			}
			if len(fl.Steps) > 3 {
				fl.Steps = fl.Steps[:3]
			}
			_ = rn.Run(context.Background(), fl)
		}
	})
}
