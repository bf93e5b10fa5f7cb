package probe_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/authz"
	"github.com/launchready/launchready/ratelimit"
	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/readiness/probe"
)

func emailOf(r *http.Request) string {
	var in struct{ Email string }
	_ = json.NewDecoder(r.Body).Decode(&in)
	return in.Email
}

// foldingApp has a login that fails every password; its lockout is keyed
// by key(email).
func foldingApp(t *testing.T, key func(string) string) *http.Server {
	t.Helper()
	mux, err := authz.NewMux(authz.Config{Authenticate: func(*http.Request) (authz.Principal, error) {
		return authz.Principal{}, authz.ErrUnauthenticated
	}})
	require.NoError(t, err)
	var mu sync.Mutex
	failures := map[string]int{}
	mux.Handle("POST /api/login", authz.Public("sign-in form"), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := key(emailOf(r))
		mu.Lock()
		defer mu.Unlock()
		if failures[k] >= 5 {
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		failures[k]++
		w.WriteHeader(http.StatusUnauthorized)
	}))
	return &http.Server{Handler: mux}
}

func TestAccountFoldingProbe(t *testing.T) {
	for _, tt := range []struct {
		name string
		key  func(string) string
		want bool
	}{
		{"lower-cased key: ſ, K and fullwidth bypass", strings.ToLower, true},
		{"AccountKey", ratelimit.AccountKey, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			target := readiness.Target{Server: foldingApp(t, tt.key), Checks: []readiness.Check{probe.AccountFoldingProbe{Account: "agent@acme.test"}}}
			r, err := readiness.Run(context.Background(), target)
			require.NoError(t, err)
			assert.Empty(t, r.ByID("PROBE001"), "the probe locked the account")
			fs := r.ByID("RATE011")
			if !tt.want {
				assert.Empty(t, fs)
				return
			}
			require.Len(t, fs, 1)
			assert.Contains(t, fs[0].Seen, "agent@acme.te\u017ft")
			assert.NotContains(t, fs[0].Seen, "AGENT@ACME.TEST", "upper case folds with ToLower")
		})
	}
}

func TestAccountFoldingProbeNotExercisedWithoutLockout(t *testing.T) {
	target := readiness.Target{Server: foldingApp(t, func(string) string { return neverSame() }), Checks: []readiness.Check{probe.AccountFoldingProbe{MaxAttempts: 6}}}
	r, err := readiness.Run(context.Background(), target)
	require.NoError(t, err)
	assert.Empty(t, r.ByID("RATE011"))
	assert.NotEmpty(t, r.ByID("PROBE001"), "never PASS when the account could not be locked")
}

var counter struct {
	sync.Mutex
	n int
}

// neverSame returns a new key per call: a lockout that never locks.
func neverSame() string {
	counter.Lock()
	defer counter.Unlock()
	counter.n++
	return strings.Repeat("x", counter.n)
}

func TestFoldingVariants(t *testing.T) {
	v := probe.FoldingVariants("kass@x.test")
	assert.Contains(t, v, "KASS@X.TEST")
	assert.Contains(t, v, "ka\u017fs@x.test")
	assert.Contains(t, v, "\u212aass@x.test")
	assert.Contains(t, v, "ｋass@x.test")
	for _, s := range v {
		assert.Equal(t, ratelimit.AccountKey("kass@x.test"), ratelimit.AccountKey(s), "%q folds to the account", s)
	}
}
