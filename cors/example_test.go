package cors_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/launchready/launchready/cors"
)

func Example() {
	policy, err := cors.New(cors.Config{
		AllowedOrigins:   []string{"https://portal.example.com"},
		AllowCredentials: true,
	})
	if err != nil {
		panic(err)
	}
	headers, err := cors.NewHeaders(cors.HeadersConfig{})
	if err != nil {
		panic(err)
	}
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") })
	h := headers.Handler(policy.Handler(api))

	for _, origin := range []string{"https://portal.example.com", "https://portal.example.com.evil.test"} {
		r := httptest.NewRequest("POST", "https://api.example.com/api/tickets", nil)
		r.Header.Set("Origin", origin)
		r.Header.Set("Sec-Fetch-Site", "cross-site")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		fmt.Printf("%s: %d grant=%q\n", origin, rec.Code, rec.Header().Get("Access-Control-Allow-Origin"))
	}

	_, err = cors.New(cors.Config{AllowedOrigins: []string{"*"}, AllowCredentials: true})
	fmt.Println(err)
	// Output:
	// https://portal.example.com: 200 grant="https://portal.example.com"
	// https://portal.example.com.evil.test: 403 grant=""
	// cors: Config.AllowedOrigins[0] is "*" with Config.AllowCredentials; any site could read responses with the user's cookies: list the exact trusted origins
}

// An export route refuses links from other sites: the browser would send
// the session cookie with that navigation.
func ExamplePolicy_SensitiveRead() {
	policy, err := cors.New(cors.Config{PublicOrigin: "https://portal.example.com"})
	if err != nil {
		panic(err)
	}
	export := policy.SensitiveRead(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("id,subject\n"))
	}))
	for _, site := range []string{"same-origin", "cross-site"} {
		r := httptest.NewRequest("GET", "https://portal.example.com/api/clients/c-1/export", nil)
		r.Header.Set("Sec-Fetch-Site", site)
		w := httptest.NewRecorder()
		export.ServeHTTP(w, r)
		fmt.Println(site, w.Code)
	}
	// Output:
	// same-origin 200
	// cross-site 403
}
