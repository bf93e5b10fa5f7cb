package authz_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/authz"
)

func TestDenialsAreLoggedNotShown(t *testing.T) {
	var buf bytes.Buffer
	m, err := authz.NewMux(authz.Config{Authenticate: authenticate,
		Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	require.NoError(t, err)
	m.HandleFunc("GET /api/clients/{id}", authz.Authenticated().Object(loadClient, authz.SameTenant), ok)

	w := serve(m, "GET", "/api/clients/broken", "alice")
	assert.Equal(t, http.StatusInternalServerError, w.Code)
	assert.NotContains(t, w.Body.String(), "database")
	assert.Contains(t, buf.String(), "level=ERROR")
	assert.Contains(t, buf.String(), "database is down", "the operator sees the loader error")
	assert.Contains(t, buf.String(), `route="GET /api/clients/{id}"`)

	buf.Reset()
	w = serve(m, "GET", "/api/clients/client-a", "bob")
	assert.Equal(t, http.StatusNotFound, w.Code)
	assert.Contains(t, buf.String(), "level=INFO")
	assert.Contains(t, buf.String(), "principal=u-bob")
	assert.Equal(t, "no-store", w.Header().Get("Cache-Control"))
	assert.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"))

	buf.Reset()
	w = serve(m, "GET", "/api/clients/..%2Fadmin?token=s3cr3t", "bob")
	assert.Equal(t, http.StatusBadRequest, w.Code)
	assert.NotContains(t, buf.String(), "s3cr3t", "the firewall never logs the request target")
	assert.NotContains(t, w.Body.String(), "admin", "nor echoes it")
}
