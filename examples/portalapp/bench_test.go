package portalapp_test

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/examples/portalapp"
	"github.com/launchready/launchready/readiness"
)

// BenchmarkSupportFlows measures the CPU cost of one support-flow request
// through the portal's whole handler chain (every protection on), without
// the network: client lookup, ticket list, ticket create in turn.
func BenchmarkSupportFlows(b *testing.B) {
	dir := b.TempDir()
	p, err := portalapp.Build(portalapp.Options{Env: readiness.Development, Addr: "127.0.0.1:8080",
		OutboxDir: dir, AuditFile: filepath.Join(dir, "audit.jsonl")})
	require.NoError(b, err)
	h := p.Server.Handler
	login := httptest.NewRequest("POST", "http://127.0.0.1:8080/api/login",
		strings.NewReader(`{"email":"agent@acme.test","password":"`+portalapp.DemoPassword+`"}`))
	login.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, login)
	require.Equal(b, http.StatusOK, rec.Code)
	cookie := rec.Result().Cookies()[0]
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var r *http.Request
		switch i % 3 {
		case 0:
			r = httptest.NewRequest("GET", "http://127.0.0.1:8080/api/clients/client-a", nil)
		case 1:
			r = httptest.NewRequest("GET", "http://127.0.0.1:8080/api/clients/client-a/tickets", nil)
		default:
			r = httptest.NewRequest("POST", "http://127.0.0.1:8080/api/clients/client-b/tickets",
				strings.NewReader(`{"subject":"Load test ticket","priority":"low"}`))
			r.Header.Set("Content-Type", "application/json")
		}
		r.AddCookie(cookie)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code >= 300 {
			b.Fatalf("%s %s: %d %s", r.Method, r.URL.Path, rec.Code, rec.Body)
		}
	}
}
