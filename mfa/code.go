package mfa

import (
	"errors"
	"strings"
)

// CodeDigits is the length of a TOTP code.
const CodeDigits = 6

// ErrMalformed is returned for input that is neither a 6-digit code nor a
// recovery code. It says nothing about whether the code was right.
var ErrMalformed = errors.New("mfa: not a 6-digit code or a recovery code")

// maxInput bounds what the parsers look at: a code with generous spacing.
const maxInput = 64

// ParseCode normalises a TOTP code as people type or paste it: spaces and
// one dash in the middle ("123 456", "123-456") are dropped. The result is
// exactly CodeDigits ASCII digits, or ErrMalformed.
func ParseCode(s string) (string, error) {
	if len(s) > maxInput {
		return "", ErrMalformed
	}
	var b [CodeDigits]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if n == CodeDigits {
				return "", ErrMalformed
			}
			b[n] = c
			n++
		case c == ' ' || c == '\t' || c == '-' && n == CodeDigits/2:
		default:
			return "", ErrMalformed
		}
	}
	if n != CodeDigits {
		return "", ErrMalformed
	}
	return string(b[:]), nil
}

// Recovery codes are recoveryLen characters of recoveryAlphabet (50 bits),
// shown as two groups of five: "k7m2q-x9p4t".
const (
	recoveryLen      = 10
	recoveryAlphabet = "abcdefghijklmnopqrstuvwxyz234567" // base32, lower case
)

// ParseRecoveryCode normalises a recovery code: case is ignored, and
// spaces and dashes are dropped. The result is the 10 characters of the
// code in lower case, or ErrMalformed.
func ParseRecoveryCode(s string) (string, error) {
	if len(s) > maxInput {
		return "", ErrMalformed
	}
	var b [recoveryLen]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		switch {
		case c == ' ' || c == '-' || c == '\t':
			continue
		case strings.IndexByte(recoveryAlphabet, c) < 0 || n == recoveryLen:
			return "", ErrMalformed
		}
		b[n] = c
		n++
	}
	if n != recoveryLen {
		return "", ErrMalformed
	}
	return string(b[:]), nil
}

// formatRecovery shows a normalised code as people read it.
func formatRecovery(code string) string { return code[:5] + "-" + code[5:] }
