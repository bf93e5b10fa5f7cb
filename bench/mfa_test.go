package bench

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/launchready/launchready/mfa"
)

// BenchmarkMFAVerify measures the verification of one valid TOTP code at
// sign-in, ±1 step. impl=launchready is mfa.Authenticator.VerifyAt: open
// the AES-GCM sealed secret, compute the three codes of the window,
// compare each in constant time, and record the step in the store (replay
// refusal) under its lock. impl=pquerna-totp is the library's own
// totp.ValidateCustom with the same window on a secret held in clear, with
// no replay state. Every iteration verifies the code of a step three steps
// after the last one, precomputed outside the timer: a step can be used
// once, and with consecutive steps a code equal by chance to its
// neighbour's (one in a million) was refused as a replay — RFC 6238's rule
// working, the benchmark failing. Target (issue 20): well under a
// millisecond.
func BenchmarkMFAVerify(b *testing.B) {
	key := make([]byte, mfa.KeySize)
	_, _ = rand.Read(key)
	raw := make([]byte, 20)
	_, _ = rand.Read(raw)
	k, err := totp.Generate(totp.GenerateOpts{Issuer: "bench", AccountName: "a", Secret: raw})
	if err != nil {
		b.Fatal(err)
	}
	secret := k.Secret()
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	// at is the time of iteration i: step 3i, so the ±1 windows of two
	// iterations never overlap.
	at := func(i int) time.Time { return start.Add(time.Duration(3*i) * mfa.Period) }
	// codes precomputes the codes of n iterations from first.
	codes := func(first, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i], _ = mfa.Code(secret, at(first+i))
		}
		return out
	}
	const chunk = 4096

	b.Run("impl=launchready", func(b *testing.B) {
		auth, err := mfa.New(mfa.Config{Issuer: "Bench", Key: key})
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		if _, err := auth.Import(ctx, "u-1", secret); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		i := 0
		var batch []string
		for b.Loop() {
			if i%chunk == 0 {
				b.StopTimer()
				batch = codes(i, chunk)
				b.StartTimer()
			}
			if _, err := auth.VerifyAt(ctx, "u-1", batch[i%chunk], at(i)); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("impl=pquerna-totp", func(b *testing.B) {
		opts := totp.ValidateOpts{Period: 30, Skew: 1, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
		b.ReportAllocs()
		i := 0
		var batch []string
		for b.Loop() {
			if i%chunk == 0 {
				b.StopTimer()
				batch = codes(i, chunk)
				b.StartTimer()
			}
			ok, err := totp.ValidateCustom(batch[i%chunk], secret, at(i), opts)
			if err != nil || !ok {
				b.Fatal("code refused", err)
			}
			i++
		}
	})
}
