package authz_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/authz"
)

// The Mux builds log records only for levels the logger takes: each kind of
// record still reaches a logger at its level, and none below.
func TestLogRecordsFollowTheLoggerLevel(t *testing.T) {
	for _, tc := range []struct {
		level                               slog.Level
		firewall, denial, authFail, loadErr bool
	}{
		{slog.LevelInfo, true, true, true, true},
		{slog.LevelWarn, false, false, true, true},
		{slog.LevelError, false, false, false, true},
	} {
		t.Run(tc.level.String(), func(t *testing.T) {
			var buf bytes.Buffer
			m, err := authz.NewMux(authz.Config{
				Authenticate: func(r *http.Request) (authz.Principal, error) {
					if r.Header.Get("X-Test-User") == "broken-session" {
						return authz.Principal{}, errors.New("session store unavailable")
					}
					return authenticate(r)
				},
				Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: tc.level})),
			})
			require.NoError(t, err)
			m.HandleFunc("GET /api/clients/{id}", authz.Authenticated().Object(loadClient, authz.SameTenant), ok)
			m.HandleFunc("GET /api/export", authz.Authenticated().RequireMFA(), ok)

			check := func(want bool, text string) {
				t.Helper()
				if want {
					assert.Contains(t, buf.String(), text)
				} else {
					assert.NotContains(t, buf.String(), text)
				}
				buf.Reset()
			}
			assert.Equal(t, 400, serve(m, "GET", "/api/clients/..%2Fadmin", "bob").Code)
			check(tc.firewall, "path firewall")
			assert.Equal(t, 404, serve(m, "GET", "/api/clients/client-a", "bob").Code)
			check(tc.denial, "principal=u-bob")
			assert.Equal(t, 401, serve(m, "GET", "/api/export", "bob").Code)
			check(tc.denial, "step_up=mfa")
			assert.Equal(t, 401, serve(m, "GET", "/api/clients/client-a", "broken-session").Code)
			check(tc.authFail, "session store unavailable")
			assert.Equal(t, 500, serve(m, "GET", "/api/clients/broken", "alice").Code)
			check(tc.loadErr, "database is down")
		})
	}
}
