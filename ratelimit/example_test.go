package ratelimit_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/launchready/launchready/ratelimit"
)

func Example() {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	limits, err := ratelimit.New(ratelimit.Config{
		TrustedProxies: []string{"10.0.0.0/8"}, // the load balancer
		Now:            func() time.Time { return now },
	})
	if err != nil {
		panic(err)
	}
	account := func(r *http.Request) string { return r.FormValue("email") }
	login := limits.Login(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
	}), ratelimit.ByIP(), ratelimit.ByAccount(account))

	var last *httptest.ResponseRecorder
	for range ratelimit.LoginPolicy.Burst + 1 {
		r := httptest.NewRequest("POST", "/api/login?email=alice@example.com", nil)
		r.RemoteAddr = "10.0.0.1:443"
		r.Header.Set("X-Forwarded-For", "1.2.3.4, 203.0.113.9") // 1.2.3.4 is spoofed
		last = httptest.NewRecorder()
		login.ServeHTTP(last, r)
	}
	fmt.Println(last.Code, last.Header().Get("Retry-After"))
	fmt.Println(last.Header().Get("RateLimit-Policy"))
	// Output:
	// 429 30
	// "login";q=10;w=300
}
