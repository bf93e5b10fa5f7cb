package mfa_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/launchready/launchready/mfa"
)

func Example() {
	ctx := context.Background()
	key := make([]byte, mfa.KeySize) // in production: mfa.KeyFromEnv("PORTAL_MFA_KEY")
	_, _ = rand.Read(key)
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	auth, err := mfa.New(mfa.Config{Issuer: "Acme Portal", Key: key, Now: func() time.Time { return now }})
	if err != nil {
		panic(err)
	}

	// Enrolment: show enr.PNG (or enr.URI) to the user, then confirm with
	// a code their app shows.
	enr, _ := auth.Enroll(ctx, "u-42", "ada@acme.test")
	code, _ := mfa.Code(enr.Secret, now) // what the authenticator app shows
	recovery, _ := auth.Confirm(ctx, "u-42", code)
	fmt.Println("recovery codes:", len(recovery))

	// Sign-in, a step later: the app's next code works, once.
	now = now.Add(mfa.Period)
	code, _ = mfa.Code(enr.Secret, now)
	method, err := auth.Verify(ctx, "u-42", code)
	fmt.Println(method, err)
	_, err = auth.Verify(ctx, "u-42", code)
	fmt.Println(err)
	// Output:
	// recovery codes: 10
	// otp <nil>
	// mfa: the code was used already
}
