package mfa_test

import (
	"strings"
	"testing"

	"github.com/launchready/launchready/mfa"
)

// Seeds are in testdata/fuzz/FuzzXxx.

func FuzzParseCode(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		c, err := mfa.ParseCode(s)
		if err != nil {
			return
		}
		if len(c) != mfa.CodeDigits || strings.Trim(c, "0123456789") != "" {
			t.Fatalf("ParseCode(%q) = %q, not 6 digits", s, c)
		}
		if again, err := mfa.ParseCode(c); err != nil || again != c {
			t.Fatalf("ParseCode not idempotent on %q", c)
		}
	})
}

func FuzzParseRecoveryCode(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		c, err := mfa.ParseRecoveryCode(s)
		if err != nil {
			return
		}
		if len(c) != 10 || strings.Trim(c, "abcdefghijklmnopqrstuvwxyz234567") != "" {
			t.Fatalf("ParseRecoveryCode(%q) = %q", s, c)
		}
		if _, err := mfa.ParseCode(s); err == nil {
			t.Fatalf("%q parses as both a TOTP code and a recovery code", s)
		}
	})
}

func FuzzParseURI(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		u, err := mfa.ParseURI(s)
		if err != nil {
			return
		}
		if len(u.Secret) < mfa.MinSecretBytes || u.Account == "" {
			t.Fatalf("ParseURI(%q) accepted %+v", s, u)
		}
	})
}
