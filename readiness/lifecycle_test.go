package readiness_test

import (
	"context"
	"crypto/rand"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/audit"
	"github.com/launchready/launchready/cors"
	"github.com/launchready/launchready/ratelimit"
	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/session"
)

func findingsWith(t *testing.T, target readiness.Target, prefix string) []readiness.Finding {
	t.Helper()
	rep, err := readiness.Run(context.Background(), target)
	require.NoError(t, err)
	var out []readiness.Finding
	for _, f := range rep.Findings {
		if strings.HasPrefix(f.ID, prefix) {
			out = append(out, f)
		}
	}
	return out
}

func ok200() http.Handler { return http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}) }

func TestRATE010SharedResetBucket(t *testing.T) {
	l, err := ratelimit.New(ratelimit.Config{})
	require.NoError(t, err)
	shared := newRateInventory()
	shared.Handle("POST /api/password-reset", l.PasswordReset(ok200(), ratelimit.ByIP()))
	shared.Handle("POST /api/password-reset/confirm", l.PasswordReset(ok200(), ratelimit.ByIP()))
	fs := findingsWith(t, rateTarget(shared, 1), "RATE010")
	require.Len(t, fs, 1)
	assert.Equal(t, readiness.Warning, fs[0].Severity)
	assert.Contains(t, fs[0].Seen, "POST /api/password-reset/confirm")

	own := newRateInventory()
	own.Handle("POST /api/password-reset", l.PasswordReset(ok200(), ratelimit.ByIP()))
	own.Handle("POST /api/password-reset/confirm", l.PasswordResetConfirm(ok200(), ratelimit.ByIP()))
	own.Handle("POST /api/login", l.Login(l.Failures(ok200(), func(*http.Request) string { return "" }), ratelimit.ByIP()))
	assert.Empty(t, findingsWith(t, rateTarget(own, 1), "RATE010"))

	// One guessing budget for every route that checks a second factor is
	// the point, not an accident.
	codes := newRateInventory()
	pending := func(*http.Request) string { return "u-1" }
	codes.Handle("POST /api/login/mfa", l.SecondFactor(ok200(), pending))
	codes.Handle("POST /api/mfa/step-up", l.SecondFactor(ok200(), pending))
	assert.Empty(t, findingsWith(t, rateTarget(codes, 1), "RATE010"))
}

func TestCORS009ExportWithoutSensitiveReadMarker(t *testing.T) {
	mgr, err := session.New(session.Config{})
	require.NoError(t, err)
	policy, err := cors.New(cors.Config{})
	require.NoError(t, err)
	inv := newRateInventory()
	inv.Handle("GET /api/clients/{id}/export", ok200())
	inv.Handle("GET /files/{name}/download", policy.SensitiveRead(ok200()))
	inv.Handle("GET /api/clients/{id}", ok200())
	fs := findingsWith(t, rateTarget(mgr.Handler(inv), 1), "CORS009")
	require.Len(t, fs, 1)
	assert.Equal(t, "GET /api/clients/{id}/export", fs[0].Route)
	assert.Equal(t, readiness.Blocker, fs[0].Severity)

	// Without cookies a link cannot act in anybody's name.
	assert.Empty(t, findingsWith(t, rateTarget(inv, 1), "CORS009"))
}

func TestAUDIT005And006(t *testing.T) {
	policy, err := cors.New(cors.Config{})
	require.NoError(t, err)
	bare, err := audit.New(audit.Config{Sink: &audit.MemorySink{}})
	require.NoError(t, err)
	inv := newRateInventory()
	inv.Handle("POST /api/tickets", ok200())
	// Auditor inside the CORS layer, no client address.
	fs := findingsWith(t, rateTarget(policy.Handler(bare.Handler(inv)), 1), "AUDIT00")
	ids := []string{}
	for _, f := range fs {
		ids = append(ids, f.ID)
	}
	assert.ElementsMatch(t, []string{"AUDIT005", "AUDIT006"}, ids)

	good, err := audit.New(audit.Config{Sink: &audit.MemorySink{}, ClientIP: func(*http.Request) string { return "192.0.2.1" }})
	require.NoError(t, err)
	for _, f := range findingsWith(t, rateTarget(good.Handler(policy.Handler(inv)), 1), "AUDIT00") {
		assert.NotContains(t, []string{"AUDIT005", "AUDIT006"}, f.ID)
	}
}

// plainSessions hides memstore's All method: a store that cannot list.
type plainSessions struct{ s scs.Store }

func (p plainSessions) Find(token string) ([]byte, bool, error) { return p.s.Find(token) }
func (p plainSessions) Commit(token string, b []byte, exp time.Time) error {
	return p.s.Commit(token, b, exp)
}
func (p plainSessions) Delete(token string) error { return p.s.Delete(token) }

func TestSESS011StoreCannotEndSessionsAfterReset(t *testing.T) {
	inv := newRateInventory()
	inv.Handle("POST /api/password-reset/confirm", ok200())
	blind, err := session.New(session.Config{Store: plainSessions{memstore.NewWithCleanupInterval(0)}})
	require.NoError(t, err)
	fs := findingsWith(t, rateTarget(blind.Handler(inv), 1), "SESS011")
	require.Len(t, fs, 1)
	assert.Equal(t, readiness.Blocker, fs[0].Severity)

	mgr, err := session.New(session.Config{})
	require.NoError(t, err)
	assert.Empty(t, findingsWith(t, rateTarget(mgr.Handler(inv), 1), "SESS011"))
}

func TestRATE012DeviceKeyAcrossReplicas(t *testing.T) {
	login := func(l *ratelimit.Limiter) http.Handler {
		inv := newRateInventory()
		inv.Handle("POST /api/login", l.Login(l.Failures(ok200(), func(*http.Request) string { return "" }), ratelimit.ByIP()))
		return inv
	}
	perProcess, err := ratelimit.New(ratelimit.Config{})
	require.NoError(t, err)
	fs := findingsWith(t, rateTarget(login(perProcess), 3), "RATE012")
	require.Len(t, fs, 1)
	assert.Empty(t, findingsWith(t, rateTarget(login(perProcess), 1), "RATE012"), "one replica knows its devices")

	key := make([]byte, 32)
	_, _ = rand.Read(key)
	shared, err := ratelimit.New(ratelimit.Config{DeviceKey: key})
	require.NoError(t, err)
	assert.Empty(t, findingsWith(t, rateTarget(login(shared), 3), "RATE012"))
}
