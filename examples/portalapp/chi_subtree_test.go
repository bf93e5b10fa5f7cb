package portalapp_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/authz"
	"github.com/launchready/launchready/readiness"
)

// A chi router mounted on one authenticated authz route serves a whole
// API version under that one policy: another tenant's ticket is readable,
// and no route of it is in the inventory. readiness reports the subtree
// (AUTH012) by name.
func TestChiRouterMountedOnOneRouteIsReported(t *testing.T) {
	users := map[string]authz.Principal{
		"alice": {ID: "u-alice", Roles: []string{"client"}, Tenant: "client-a"},
	}
	mux, err := authz.NewMux(authz.Config{Authenticate: func(r *http.Request) (authz.Principal, error) {
		if p, ok := users[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]; ok {
			return p, nil
		}
		return authz.Principal{}, authz.ErrUnauthenticated
	}})
	require.NoError(t, err)
	v1 := chi.NewRouter()
	v1.Get("/api/v1/tickets/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ticket "+chi.URLParam(r, "id")+" of client-b") // no tenant check
	})
	mux.Handle("GET /api/v1/", authz.Authenticated(), v1)

	// The attack: alice (client-a) reads client-b's ticket.
	req := httptest.NewRequest("GET", "/api/v1/tickets/t-b1", nil)
	req.Header.Set("Authorization", "Bearer alice")
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)

	report, err := readiness.Run(t.Context(), readiness.Target{Server: &http.Server{Handler: mux, ReadHeaderTimeout: time.Second}})
	require.NoError(t, err)
	fs := report.ByID("AUTH012")
	require.Len(t, fs, 1, "%s", report)
	assert.Equal(t, "GET /api/v1/", fs[0].Route)
	assert.Contains(t, fs[0].Seen, "/api/v1/*")
	assert.Contains(t, fs[0].Seen, "*chi.Mux")
	assert.True(t, fs[0].Blocks())
}
