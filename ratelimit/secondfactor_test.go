package ratelimit_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/ratelimit"
)

func TestSecondFactor(t *testing.T) {
	clk := newClock()
	l, err := ratelimit.New(ratelimit.Config{Now: clk.Now})
	require.NoError(t, err)
	verify := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Code") == "424242" {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	})
	// The account comes from the server side (the pending sign-in), here
	// a header standing in for the session.
	acct := func(r *http.Request) string { return r.Header.Get("X-Pending") }
	h := l.SecondFactor(verify, acct)
	assert.Equal(t, ratelimit.KindSecondFactor, h.Kind())
	assert.Equal(t, ratelimit.SecondFactorPolicy, h.Policy())
	assert.True(t, h.Kind().Auth())
	assert.Equal(t, ratelimit.FailClosed, h.FailMode(), "an auth limit fails closed")
	attempt := func(ip, account, code string) int {
		return serve(h, req(ip+":1", "X-Pending", account, "X-Code", code)).Code
	}

	// Attack: guessing codes from many addresses locks the account after
	// five, and the right code then gets 429 too (no oracle).
	for i := range 5 {
		require.Equal(t, 401, attempt(fmt.Sprintf("198.51.100.%d", i+1), "u-admin", fmt.Sprintf("%06d", i)))
	}
	assert.Equal(t, 429, attempt("192.0.2.1", "u-admin", "424242"))
	// Attack: one address guessing across accounts is locked too.
	for i := range 5 {
		attempt("203.0.113.7", fmt.Sprintf("u-%d", i), "000000")
	}
	assert.Equal(t, 429, attempt("203.0.113.7", "u-other", "424242"))

	// The lockout is longer than the login lockout: 5 minutes is not enough.
	clk.Advance(5 * time.Minute)
	assert.Equal(t, 429, attempt("192.0.2.1", "u-admin", "424242"))
	clk.Advance(10 * time.Minute)
	assert.Equal(t, 200, attempt("192.0.2.1", "u-admin", "424242"))
	// Success resets the account: five more tries are allowed.
	for i := range 5 {
		require.Equal(t, 401, attempt(fmt.Sprintf("198.51.100.%d", i+50), "u-admin", "111111"))
	}
	assert.Equal(t, 429, attempt("192.0.2.2", "u-admin", "424242"))
}

func TestSecondFactorPreset(t *testing.T) {
	p, ok := ratelimit.PresetPolicy(ratelimit.KindSecondFactor)
	require.True(t, ok)
	assert.Equal(t, ratelimit.SecondFactorPolicy, p)
	assert.Equal(t, "second-factor", ratelimit.KindSecondFactor.String())
	assert.Less(t, float64(p.Rate), float64(ratelimit.LoginFailuresPolicy.Rate), "stricter than password failures")
}
