package attack_test

import (
	"bytes"
	"net/http"
	"slices"
	"testing"
	"time"
)

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// TestUserEnumeration (AUTH/RATE): login and password reset answer known
// and unknown accounts alike — status, body and, within a tolerance, the
// median time over many interleaved tries (bcrypt dominates; an unknown
// account must cost a comparison too). Each try leaves from its own
// loopback address so the per-IP limits stay out of the way, and each
// account name gets at most the failures the lockout allows; the first
// answer after the lockout must match too (lockout does not reveal
// accounts).
func TestUserEnumeration(t *testing.T) {
	g := newTally(t, "user-enumeration")
	known := []string{adminEmail, agentEmail, aliceEmail, bobEmail}
	const perName = 5 // LoginFailuresPolicy burst: 5 failures per account
	const rounds = 2  // one portal per round: fresh per-account budgets
	var kLogin, uLogin, kReset, uReset []time.Duration
	ipn := 0
	for round := 0; round < rounds; round++ {
		p := startPortal(t)
		unknown := []string{unknownAccount(), unknownAccount(), unknownAccount(), unknownAccount()}
		// Warm up the connection path and the bcrypt code.
		p.clientFrom(loopbackIP(20, 4000+round)).login(t, unknownAccount(), "warm-up-password")
		var lastK, lastU *response
		for i := 0; i < perName+1; i++ {
			for j := range known {
				ipn++
				kc := p.clientFrom(loopbackIP(20+round, ipn))
				ipn++
				uc := p.clientFrom(loopbackIP(20+round, ipn))
				// Alternate which goes first so load drifts hit both sides.
				var rk, ru *response
				if (i+j)%2 == 0 {
					rk = kc.login(t, known[j], "wrong-password-1")
					ru = uc.login(t, unknown[j], "wrong-password-1")
				} else {
					ru = uc.login(t, unknown[j], "wrong-password-1")
					rk = kc.login(t, known[j], "wrong-password-1")
				}
				g.check(rk.status == ru.status, "login try %d: known %s vs unknown %s", i, rk, ru)
				g.check(bytes.Equal(rk.body, ru.body), "login try %d: bodies differ: %q vs %q", i, rk.body, ru.body)
				if i < perName && rk.status == http.StatusUnauthorized && ru.status == http.StatusUnauthorized {
					kLogin = append(kLogin, rk.dur)
					uLogin = append(uLogin, ru.dur)
				}
				lastK, lastU = rk, ru
			}
		}
		if lastK.status == http.StatusTooManyRequests {
			t.Logf("round %d: the lockout answers known and unknown accounts alike (%d)", round, lastK.status)
		}
		_ = lastU
		// Password reset: always 202, same body, similar time.
		for i := 0; i < 3; i++ {
			for j := range known {
				ipn++
				kc := p.clientFrom(loopbackIP(20+round, ipn))
				ipn++
				uc := p.clientFrom(loopbackIP(20+round, ipn))
				rk := kc.must(t, "POST", "/api/password-reset", map[string]string{"email": known[j]})
				ru := uc.must(t, "POST", "/api/password-reset", map[string]string{"email": unknown[j]})
				g.check(rk.status == ru.status, "reset: known %s vs unknown %s", rk, ru)
				g.check(bytes.Equal(rk.body, ru.body), "reset: bodies differ: %q vs %q", rk.body, ru.body)
				if rk.status == http.StatusAccepted && ru.status == http.StatusAccepted {
					kReset = append(kReset, rk.dur)
					uReset = append(uReset, ru.dur)
				}
			}
		}
	}
	cmp := func(name string, k, u []time.Duration, floor time.Duration) {
		mk, mu := median(k), median(u)
		diff := mk - mu
		if diff < 0 {
			diff = -diff
		}
		tol := max(floor, max(mk, mu)/2)
		t.Logf("%s: %d known / %d unknown tries, median %v vs %v (diff %v, tolerance %v)", name, len(k), len(u), mk, mu, diff, tol)
		g.check(len(k) >= 20 && len(u) >= 20, "%s: too few samples (%d, %d)", name, len(k), len(u))
		g.check(diff <= tol, "%s: median time differs by %v (known %v, unknown %v): the response time reveals accounts", name, diff, mk, mu)
	}
	cmp("login", kLogin, uLogin, 25*time.Millisecond)
	cmp("password-reset", kReset, uReset, 25*time.Millisecond)
}
