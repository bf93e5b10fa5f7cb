package cors_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	rscors "github.com/rs/cors"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/cors"
)

const trusted = "https://portal.example.com"

func TestNewRefuses(t *testing.T) {
	fn := func(string) bool { return true }
	tests := []struct {
		name string
		cfg  cors.Config
		want string
	}{
		{"star with credentials", cors.Config{AllowedOrigins: []string{"*"}, AllowCredentials: true}, `Config.AllowedOrigins[0] is "*" with Config.AllowCredentials`},
		{"star next to others", cors.Config{AllowedOrigins: []string{trusted, "*"}}, `Config.AllowedOrigins[1] is "*" next to other origins`},
		{"h* pattern (rs/cors #197)", cors.Config{AllowedOrigins: []string{"h*"}}, `Config.AllowedOrigins[0] is "h*", an over-broad pattern`},
		{"https://* pattern", cors.Config{AllowedOrigins: []string{"https://*"}}, `an over-broad pattern`},
		{"tld wildcard", cors.Config{AllowedOrigins: []string{"https://*.com"}, InsecureAllowWildcardSubdomains: true}, `an over-broad pattern`},
		{"infix wildcard", cors.Config{AllowedOrigins: []string{"https://portal*.example.com"}, InsecureAllowWildcardSubdomains: true}, `an over-broad pattern`},
		{"scheme wildcard", cors.Config{AllowedOrigins: []string{"*://portal.example.com"}}, `an over-broad pattern`},
		{"wildcard subdomain without option", cors.Config{AllowedOrigins: []string{"https://*.example.com"}}, `set Config.InsecureAllowWildcardSubdomains`},
		{"null", cors.Config{AllowedOrigins: []string{"null"}}, `Config.AllowedOrigins[0] is "null"; remove it`},
		{"path", cors.Config{AllowedOrigins: []string{"https://portal.example.com/app"}}, `an origin has no path, query or trailing slash: write "https://portal.example.com"`},
		{"trailing slash", cors.Config{AllowedOrigins: []string{"https://portal.example.com/"}}, `trailing slash`},
		{"default https port", cors.Config{AllowedOrigins: []string{"https://portal.example.com:443"}}, `browsers omit the default port, so this never matches: write "https://portal.example.com"`},
		{"default http port", cors.Config{AllowedOrigins: []string{"http://localhost:80"}, InsecureAllowHTTP: true}, `browsers omit the default port`},
		{"plain http", cors.Config{AllowedOrigins: []string{"http://portal.example.com"}}, `a plain-http origin`},
		{"uppercase", cors.Config{AllowedOrigins: []string{"https://Portal.example.com"}}, `write it in lowercase`},
		{"no scheme", cors.Config{AllowedOrigins: []string{"portal.example.com"}}, `write scheme://host[:port]`},
		{"ftp scheme", cors.Config{AllowedOrigins: []string{"ftp://portal.example.com"}}, `the scheme must be https`},
		{"userinfo", cors.Config{AllowedOrigins: []string{"https://u@portal.example.com"}}, `no user info`},
		{"bad port", cors.Config{AllowedOrigins: []string{"https://portal.example.com:99999"}}, `port must be a number`},
		{"empty", cors.Config{AllowedOrigins: []string{""}}, `Config.AllowedOrigins[0] is empty`},
		{"duplicate", cors.Config{AllowedOrigins: []string{trusted, trusted}}, `is listed twice`},
		{"lowercase method", cors.Config{AllowedOrigins: []string{trusted}, AllowedMethods: []string{"patch"}}, `Config.AllowedMethods[0] is "patch"; write it in upper case ("PATCH")`},
		{"star method", cors.Config{AllowedOrigins: []string{trusted}, AllowedMethods: []string{"*"}}, `Config.AllowedMethods[0] is "*"`},
		{"func and list", cors.Config{AllowedOrigins: []string{trusted}, AllowOriginFunc: fn}, `Config.AllowOriginFunc and Config.AllowedOrigins are both set`},
		{"star headers with credentials", cors.Config{AllowedOrigins: []string{trusted}, AllowCredentials: true, AllowedHeaders: []string{"*"}}, `Config.AllowedHeaders[0] is "*" with Config.AllowCredentials`},
		{"bad header", cors.Config{AllowedOrigins: []string{trusted}, AllowedHeaders: []string{"X Bad"}}, `not a header name`},
		{"excessive max age", cors.Config{AllowedOrigins: []string{trusted}, MaxAge: 24 * time.Hour}, `Config.MaxAge is 24h0m0s; at most 2h0m0s`},
		{"negative max age", cors.Config{MaxAge: -time.Second}, `Config.MaxAge is -1s`},
		{"bad public origin", cors.Config{PublicOrigin: "https://portal.example.com/"}, `Config.PublicOrigin is`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := cors.New(tt.cfg)
			require.Error(t, err)
			assert.Nil(t, p)
			assert.Contains(t, err.Error(), tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "cors: "), err.Error())
		})
	}
}

func TestNewAccepts(t *testing.T) {
	tests := []struct {
		name string
		cfg  cors.Config
	}{
		{"zero", cors.Config{}},
		{"exact with credentials", cors.Config{AllowedOrigins: []string{trusted, "https://admin.example.com", "https://portal.example.com:8443"}, AllowCredentials: true}},
		{"public api star", cors.Config{AllowedOrigins: []string{"*"}}},
		{"wildcard subdomain insecure", cors.Config{AllowedOrigins: []string{"https://*.example.com"}, InsecureAllowWildcardSubdomains: true, AllowCredentials: true}},
		{"http dev", cors.Config{AllowedOrigins: []string{"http://localhost:5173", "http://127.0.0.1:8080"}, InsecureAllowHTTP: true}},
		{"ipv6", cors.Config{AllowedOrigins: []string{"https://[::1]:8443"}}},
		{"origin func", cors.Config{AllowOriginFunc: func(o string) bool { return o == trusted }, AllowCredentials: true}},
		{"methods headers", cors.Config{AllowedOrigins: []string{trusted}, AllowedMethods: []string{"GET", "PATCH", "DELETE"}, AllowedHeaders: []string{"Content-Type", "X-Request-ID"}, ExposedHeaders: []string{"RateLimit"}, MaxAge: time.Hour}},
		{"public origin", cors.Config{PublicOrigin: trusted}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := cors.New(tt.cfg)
			require.NoError(t, err)
			require.NotNil(t, p)
		})
	}
}

func newServer(t *testing.T, c cors.Config) (*cors.Policy, http.Handler, *int) {
	t.Helper()
	p, err := cors.New(c)
	require.NoError(t, err)
	reached := new(int)
	return p, p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		*reached++
		w.WriteHeader(http.StatusOK)
	})), reached
}

func preflight(origin, method, headers string) *http.Request {
	r := httptest.NewRequest(http.MethodOptions, "https://api.example.com/api/clients", nil)
	r.Header.Set("Origin", origin)
	r.Header.Set("Access-Control-Request-Method", method)
	if headers != "" {
		r.Header.Set("Access-Control-Request-Headers", headers)
	}
	return r
}

func TestPreflight(t *testing.T) {
	_, h, reached := newServer(t, cors.Config{AllowedOrigins: []string{trusted}, AllowCredentials: true, AllowedMethods: []string{"GET", "POST", "PATCH"}})
	tests := []struct {
		name, origin, method, headers string
		grant                         bool
	}{
		{"trusted", trusted, "PATCH", "content-type", true},
		{"untrusted", "https://evil.test", "PATCH", "", false},
		{"suffix look-alike", "https://portal.example.com.evil.test", "POST", "", false},
		{"prefix look-alike", "https://evilportal.example.com", "POST", "", false},
		{"null", "null", "POST", "", false},
		{"http downgrade", "http://portal.example.com", "POST", "", false},
		{"method not granted", trusted, "DELETE", "", false},
		{"header not granted", trusted, "POST", "x-evil", false},
		{"oversized request headers", trusted, "POST", strings.Repeat("content-type,", 200), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, preflight(tt.origin, tt.method, tt.headers))
			assert.Equal(t, http.StatusNoContent, rec.Code)
			assert.Contains(t, strings.Join(rec.Header().Values("Vary"), ","), "Origin")
			if tt.grant {
				assert.Equal(t, tt.origin, rec.Header().Get("Access-Control-Allow-Origin"))
				assert.Equal(t, "true", rec.Header().Get("Access-Control-Allow-Credentials"))
				assert.Equal(t, "600", rec.Header().Get("Access-Control-Max-Age"))
			} else {
				assert.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"))
				assert.Empty(t, rec.Header().Get("Access-Control-Allow-Credentials"))
			}
		})
	}
	assert.Zero(t, *reached, "preflights never reach the handler")
}

func TestActualRequests(t *testing.T) {
	_, h, _ := newServer(t, cors.Config{AllowedOrigins: []string{trusted}, AllowCredentials: true})
	tests := []struct {
		name, method, origin, site string
		cookie                     bool
		status                     int
		grant                      bool
	}{
		{"simple trusted", "GET", trusted, "same-site", false, 200, true},
		{"credentialed trusted", "GET", trusted, "same-site", true, 200, true},
		{"credentialed untrusted gets no grant", "GET", "https://evil.test", "cross-site", true, 200, false},
		{"look-alike gets no grant", "GET", "https://portal.example.com.evil.test", "cross-site", true, 200, false},
		{"null gets no grant", "GET", "null", "cross-site", true, 200, false},
		{"no origin", "GET", "", "", true, 200, false},
		{"trusted cross-site POST", "POST", trusted, "same-site", true, 200, true},
		{"untrusted cross-site POST refused", "POST", "https://evil.test", "cross-site", true, 403, false},
		{"same-site untrusted POST refused", "POST", "https://evilportal.example.com", "same-site", true, 403, false},
		{"null POST refused", "DELETE", "null", "cross-site", true, 403, false},
		{"same-origin POST", "POST", "https://api.example.com", "same-origin", true, 200, false},
		{"non-browser POST", "POST", "", "", false, 200, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "https://api.example.com/api/clients", nil)
			if tt.origin != "" {
				r.Header.Set("Origin", tt.origin)
			}
			if tt.site != "" {
				r.Header.Set("Sec-Fetch-Site", tt.site)
			}
			if tt.cookie {
				r.Header.Set("Cookie", "__Host-session=x")
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			assert.Equal(t, tt.status, rec.Code)
			assert.Equal(t, []string{"Origin"}, rec.Header().Values("Vary"))
			if tt.grant {
				assert.Equal(t, tt.origin, rec.Header().Get("Access-Control-Allow-Origin"))
				assert.Equal(t, "true", rec.Header().Get("Access-Control-Allow-Credentials"))
			} else {
				assert.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"))
			}
			if tt.status == 403 {
				assert.Equal(t, "application/problem+json", rec.Header().Get("Content-Type"))
				assert.NotContains(t, rec.Body.String(), tt.origin, "never echo the submitted origin")
			}
		})
	}
}

func TestZeroConfigTrustsNoOne(t *testing.T) {
	// rs/cors treats an empty list as "allow all"; ours grants nothing.
	_, h, _ := newServer(t, cors.Config{})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, preflight("https://evil.test", "GET", ""))
	assert.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"))
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Origin", "https://evil.test")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	assert.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"))
}

func TestWildcardSubdomains(t *testing.T) {
	_, h, _ := newServer(t, cors.Config{AllowedOrigins: []string{"https://*.example.com"}, InsecureAllowWildcardSubdomains: true, AllowCredentials: true})
	for origin, ok := range map[string]bool{
		"https://a.example.com":                true,
		"https://example.com":                  false,
		"https://evilexample.com":              false,
		"https://a.example.com.evil.test":      false,
		"http://a.example.com":                 false,
		"https://a.example.com:8443":           false,
		"https://a.example.com/.x.example.com": false,
	} {
		r := httptest.NewRequest("POST", "/", nil)
		r.Header.Set("Origin", origin)
		r.Header.Set("Sec-Fetch-Site", "cross-site")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if ok {
			assert.Equal(t, origin, rec.Header().Get("Access-Control-Allow-Origin"), origin)
			assert.Equal(t, 200, rec.Code, origin)
		} else {
			assert.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"), origin)
			assert.Equal(t, 403, rec.Code, origin)
		}
	}
}

func TestPublicOriginBehindHostRewritingProxy(t *testing.T) {
	// The proxy forwards to Host: backend:8080; an older browser sends Origin
	// without Sec-Fetch-Site, so the Origin/Host fallback would refuse the
	// app's own page unless the public origin is declared.
	req := func() *http.Request {
		r := httptest.NewRequest("POST", "http://backend:8080/api/tickets", nil)
		r.Header.Set("Origin", trusted)
		return r
	}
	_, without, _ := newServer(t, cors.Config{})
	rec := httptest.NewRecorder()
	without.ServeHTTP(rec, req())
	assert.Equal(t, 403, rec.Code)

	_, with, _ := newServer(t, cors.Config{PublicOrigin: trusted})
	rec = httptest.NewRecorder()
	with.ServeHTTP(rec, req())
	assert.Equal(t, 200, rec.Code)
	assert.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"), "the public origin is same-origin, not a CORS grant")
}

func TestInsecureBypassPattern(t *testing.T) {
	p, h, _ := newServer(t, cors.Config{})
	require.Error(t, p.InsecureBypassPattern("NOT A PATTERN {"))
	require.NoError(t, p.InsecureBypassPattern("POST /webhooks/{provider}"))
	assert.Equal(t, []string{"POST /webhooks/{provider}"}, p.BypassPatterns())
	for path, want := range map[string]int{"/webhooks/stripe": 200, "/api/tickets": 403} {
		r := httptest.NewRequest("POST", path, nil)
		r.Header.Set("Sec-Fetch-Site", "cross-site")
		r.Header.Set("Origin", "https://evil.test")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		assert.Equal(t, want, rec.Code, path)
	}
}

func TestAccessorsAndUnwrap(t *testing.T) {
	next := http.NotFoundHandler()
	p, err := cors.New(cors.Config{AllowedOrigins: []string{trusted}, AllowCredentials: true, PublicOrigin: trusted})
	require.NoError(t, err)
	h := p.Handler(next)
	assert.NotNil(t, h.Unwrap())
	assert.Same(t, p, h.Policy())
	assert.True(t, h.CrossOriginProtected())
	assert.Equal(t, []string{trusted}, p.AllowedOrigins())
	assert.True(t, p.AllowCredentials())
	assert.Equal(t, []string{"GET", "HEAD", "POST"}, p.AllowedMethods())
	assert.Equal(t, []string{"Accept", "Content-Type"}, p.AllowedHeaders())
	assert.Equal(t, cors.DefaultMaxAge, p.MaxAge())
	assert.Equal(t, trusted, p.PublicOrigin())
	assert.False(t, p.InsecureHTTP())
	assert.False(t, p.WildcardSubdomains())
	assert.False(t, p.HasOriginFunc())
}

func TestCustomDenyHandler(t *testing.T) {
	_, h, _ := newServer(t, cors.Config{DenyHandler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	})})
	r := httptest.NewRequest("POST", "/", nil)
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	assert.Equal(t, http.StatusTeapot, rec.Code)
}

// TestConcurrentBypassChanges adds bypass patterns while requests are served
// (run with -race).
func TestConcurrentBypassChanges(t *testing.T) {
	p, err := cors.New(cors.Config{AllowedOrigins: []string{trusted}, AllowCredentials: true})
	require.NoError(t, err)
	h := p.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				if i == 0 && j%10 == 0 {
					assert.NoError(t, p.InsecureBypassPattern("POST /hook"+string(rune('a'+j/10))))
					_ = p.BypassPatterns()
				}
				r := httptest.NewRequest("POST", "/api/x", nil)
				r.Header.Set("Origin", "https://evil.test")
				r.Header.Set("Sec-Fetch-Site", "cross-site")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				assert.Equal(t, 403, rec.Code)
			}
		}()
	}
	wg.Wait()
	assert.Len(t, p.BypassPatterns(), 5)
}

func TestCheckWithoutMiddleware(t *testing.T) {
	p, err := cors.New(cors.Config{AllowOriginFunc: func(o string) bool { return o == "https://tenant-a.example.com" }, AllowCredentials: true})
	require.NoError(t, err)
	tests := []struct {
		method, origin, site string
		ok                   bool
	}{
		{"GET", "https://evil.test", "cross-site", true}, // safe method
		{"POST", "https://tenant-a.example.com", "cross-site", true},
		{"POST", "https://tenant-b.example.com", "same-site", false},
		{"PUT", "null", "cross-site", false},
		{"POST", "", "same-origin", true},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, "/api/x", nil)
		if tt.origin != "" {
			r.Header.Set("Origin", tt.origin)
		}
		r.Header.Set("Sec-Fetch-Site", tt.site)
		err := p.Check(r)
		if tt.ok {
			assert.NoError(t, err, "%s %s", tt.method, tt.origin)
		} else {
			assert.ErrorIs(t, err, cors.ErrCrossOrigin, "%s %s", tt.method, tt.origin)
		}
	}
	assert.True(t, p.HasOriginFunc())
}

// asRSCors returns one policy's Handler (ours) and rs/cors configured
// alike (theirs), around the same handler, which adds Vary: Accept.
func asRSCors(t *testing.T) (ours, theirs http.Handler) {
	t.Helper()
	p, err := cors.New(cors.Config{AllowedOrigins: []string{trusted}, AllowCredentials: true,
		AllowedMethods: []string{"GET", "POST", "PATCH"}})
	require.NoError(t, err)
	next := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Add("Vary", "Accept")
		w.WriteHeader(http.StatusNoContent)
	})
	return p.Handler(next), rscors.New(rscors.Options{AllowedOrigins: []string{trusted}, AllowCredentials: true,
		AllowedMethods: []string{"GET", "POST", "PATCH"}}).Handler(next)
}

// A non-preflight request with an Origin goes through rs/cors's
// HandlerFunc and then the cross-origin protection: the same headers and
// status as rs/cors's Handler, for every method (DELETE is not allowed:
// rs/cors grants nothing to it) and origin, when the protection lets the
// request through (same-origin fetch metadata).
func TestActualRequestAsRSCors(t *testing.T) {
	ours, theirs := asRSCors(t)
	methods := []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete}
	origins := []string{trusted, "https://evil.example", "null", strings.ToUpper(trusted), trusted + ":443"}
	for _, method := range methods {
		for _, origin := range origins {
			serve := func(h http.Handler) *httptest.ResponseRecorder {
				rec := httptest.NewRecorder()
				r := httptest.NewRequest(method, trusted+"/api/clients", nil)
				r.Header.Set("Sec-Fetch-Site", "same-origin")
				r.Header.Set("Origin", origin)
				h.ServeHTTP(rec, r)
				return rec
			}
			got, want := serve(ours), serve(theirs)
			assert.Equal(t, want.Code, got.Code, "%s from %s", method, origin)
			assert.Equal(t, want.Header(), got.Header(), "%s from %s", method, origin)
		}
	}
	// The protection still refuses a cross-site state change from an
	// untrusted origin (rs/cors alone would serve it).
	rec := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, trusted+"/api/clients", nil)
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	r.Header.Set("Origin", "https://evil.example")
	ours.ServeHTTP(rec, r)
	assert.Equal(t, http.StatusForbidden, rec.Code)
}

// A request without Origin skips rs/cors (the Handler adds its Vary:
// Origin itself); the response headers are what rs/cors would have set,
// whatever Vary held before, and the shared Vary value is never written.
func TestNoOriginAsRSCors(t *testing.T) {
	ours, theirs := asRSCors(t)
	for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPatch} {
		for _, before := range [][]string{nil, {"Accept-Encoding"}} {
			for _, origin := range [][]string{nil, {""}} {
				serve := func(h http.Handler) *httptest.ResponseRecorder {
					rec := httptest.NewRecorder()
					if before != nil {
						rec.Header()["Vary"] = append([]string{}, before...)
					}
					r := httptest.NewRequest(method, trusted+"/api/clients", nil)
					r.Header.Set("Sec-Fetch-Site", "same-origin")
					if origin != nil {
						r.Header["Origin"] = origin
					}
					h.ServeHTTP(rec, r)
					return rec
				}
				got, want := serve(ours), serve(theirs)
				assert.Equal(t, want.Code, got.Code, "%s before %v origin %v", method, before, origin)
				assert.Equal(t, want.Header(), got.Header(), "%s before %v origin %v", method, before, origin)
				assert.Equal(t, append(append([]string{}, before...), "Origin", "Accept"), got.Header().Values("Vary"))
			}
		}
	}
}
