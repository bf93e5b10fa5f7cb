package cors_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/cors"
)

func TestSensitiveReadRefusesCrossSiteNavigations(t *testing.T) {
	p, err := cors.New(cors.Config{AllowedOrigins: []string{trusted}, AllowCredentials: true, PublicOrigin: "https://portal.example.com"})
	require.NoError(t, err)
	// Without the marker, cross-origin protection lets the GET through
	// (safe method): the export runs in the victim's name.
	var reached atomic.Int32
	export := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		reached.Add(1)
		_, _ = w.Write([]byte("id,subject\n"))
	})
	unmarked := p.Handler(export)
	r := httptest.NewRequest("GET", "https://portal.example.com/api/clients/c-1/export", nil)
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	w := httptest.NewRecorder()
	unmarked.ServeHTTP(w, r)
	require.Equal(t, http.StatusOK, w.Code, "precondition: cross-origin protection alone does not stop a GET")

	h := p.Handler(p.SensitiveRead(export))
	tests := []struct {
		name    string
		headers map[string]string
		want    int
	}{
		{"cross-site link", map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}, 403},
		{"sibling subdomain", map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
		{"cross-site with foreign origin", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, 403},
		{"old browser, foreign referer", map[string]string{"Referer": "https://evil.example/page"}, 403},
		{"old browser, foreign origin", map[string]string{"Origin": "https://portal.example.com.evil.example"}, 403},
		{"old browser, null origin", map[string]string{"Origin": "null"}, 403},
		{"unparseable referer", map[string]string{"Referer": "::"}, 403},
		{"same origin", map[string]string{"Sec-Fetch-Site": "same-origin"}, 200},
		{"typed URL or bookmark", map[string]string{"Sec-Fetch-Site": "none"}, 200},
		{"old browser, own referer", map[string]string{"Referer": "https://portal.example.com/app"}, 200},
		{"trusted origin fetch", map[string]string{"Sec-Fetch-Site": "same-site", "Origin": trusted}, 200},
		{"no browser headers (curl)", nil, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reached.Store(0)
			r := httptest.NewRequest("GET", "https://portal.example.com/api/clients/c-1/export", nil)
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			assert.Equal(t, tt.want, w.Code)
			if tt.want == 403 {
				assert.Equal(t, int32(0), reached.Load(), "refused before the handler")
				assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
			}
		})
	}
	sr := h.Unwrap().(*cors.SensitiveReadHandler)
	assert.True(t, sr.CrossSiteReadsRefused())
	assert.Same(t, p, sr.Policy())
}

func TestSensitiveReadWithoutPublicOriginUsesHost(t *testing.T) {
	p, err := cors.New(cors.Config{})
	require.NoError(t, err)
	h := p.SensitiveRead(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	for origin, want := range map[string]int{"https://portal.example.com": 200, "https://evil.example": 403} {
		r := httptest.NewRequest("GET", "https://portal.example.com/export", nil)
		r.Header.Set("Origin", origin)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		assert.Equal(t, want, w.Code, origin)
	}
}

func FuzzSensitiveRead(f *testing.F) {
	p, err := cors.New(cors.Config{AllowedOrigins: []string{trusted}, PublicOrigin: trusted})
	if err != nil {
		f.Fatal(err)
	}
	f.Add("cross-site", "", "https://evil.example/")
	f.Add("", "https://portal.example.com", "")
	f.Add("", "", "https://portal.example.com@evil.example/")
	f.Fuzz(func(t *testing.T, site, origin, referer string) {
		r := httptest.NewRequest("GET", "https://portal.example.com/export", nil)
		r.Header["Sec-Fetch-Site"] = []string{site}
		r.Header["Origin"] = []string{origin}
		r.Header["Referer"] = []string{referer}
		err := p.CheckSensitiveRead(r)
		if (site == "cross-site" || site == "same-site") && origin != trusted && err == nil {
			t.Fatalf("cross-site read allowed: site=%q origin=%q", site, origin)
		}
		if site == "" && origin == "" && referer == "https://evil.example/" && err == nil {
			t.Fatal("foreign referer allowed")
		}
	})
}
