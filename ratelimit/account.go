package ratelimit

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// AccountKey is the one canonical form of an account name (an email
// address or a user name): surrounding white space trimmed, Unicode
// compatibility-normalised (NFKC), case-folded (golang.org/x/text/cases
// Fold, full folding: "ſ" and "K" (Kelvin) fold like "s" and "k"), and
// normalised again, then cut at 256 bytes on a character boundary.
//
// Limits keyed ByAccount use it, and the app's account lookup must match
// names by the same function: store AccountKey(email) next to the account,
// or compare AccountKey(a) == AccountKey(b). When the lookup folds more
// than the limiter (strings.EqualFold folds "ſ" to "s", strings.ToLower
// does not), "agent@acme.teſt" signs in as agent@acme.test while being
// counted in a bucket of its own: the lockout is bypassed.
func AccountKey(name string) string {
	name = strings.TrimSpace(name)
	ascii := true
	for i := 0; i < len(name); i++ {
		if name[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		if len(name) > maxNameLen {
			name = name[:maxNameLen]
		}
		for i := 0; i < len(name); i++ {
			if c := name[i]; c >= 'A' && c <= 'Z' {
				return strings.ToLower(name)
			}
		}
		return name
	}
	if !utf8.ValidString(name) {
		name = strings.ToValidUTF8(name, "\uFFFD")
	}
	// A Caser keeps state: one per call, never shared between goroutines.
	name = norm.NFKC.String(cases.Fold().String(norm.NFKC.String(name)))
	name = strings.TrimSpace(name) // NFKC can turn compatibility spaces into ' '
	if len(name) > maxNameLen {
		cut := maxNameLen
		for cut > 0 && !utf8.RuneStart(name[cut]) {
			cut--
		}
		name = name[:cut]
	}
	return name
}
