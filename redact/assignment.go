package redact

import (
	"regexp"
	"strings"
)

// The generic assignment rule finds secrets by the name they are assigned
// to, in every syntax a portal's repository holds: env files and shell
// (`SECRET_KEY=…`, `export …`), YAML (`secret_key_base: …`), JSON
// (`"client_secret": "…"`), TOML and HCL (`secret_key = "…"`), Java
// properties (`aws.secret-key=…`), PHP arrays (`'password' => '…'`) and
// code literals (`apiKey := "…"`). The name must end in a secret word
// (password, passwd, passphrase, pwd, secret, token, key, credential, or
// secret_key_base); the value must look random: long enough, not a
// placeholder, not a reference to another variable or field, with a digit
// or three character classes and enough entropy.

// assignmentPattern matches a secret word, the rest of the name, a
// separator and the value. Group 1 is the name from the secret word on
// (the name's start is found by walking left), group 2 the value.
var assignmentPattern = regexp.MustCompile(`(?i)((?:pass(?:word|wd|phrase)?|pwd|secret|token|key|credential)[a-z0-9_.-]*)["']?[ \t]*(?::=|=>|[:=])[ \t]*(?:"([^"\s]{6,256})"|'([^'\s]{6,256})'|\x60([^\x60\s]{6,256})\x60|(?:base64:)?([^\s"'\x60,;<>(){}\[\]|&\\]{6,256}))`)

// nameWords are the secret words a name must end with (normalised: lower
// case, without '-', '_', '.' and trailing digits or a plural s).
var nameWords = []string{"password", "passwd", "passphrase", "pwd", "secret", "token", "key", "credential", "keybase"}

// notSecretNames end in a secret word but name something that is not one.
var notSecretNames = []string{
	"publickey", "primarykey", "foreignkey", "sortkey", "cachekey", "partitionkey", "idempotencykey",
	"rowkey", "lookupkey", "uniquekey", "routingkey", "objectkey", "mapkey", "hashkey", "indexkey",
	"nexttoken", "pagetoken", "nextpagetoken", "continuationtoken", "synctoken", "cursortoken",
	"tokentype", "keyid", "passwordpolicy", "sshkey", "gpgkey", "licensekey", "registrykey", "keyboardkey",
}

// passwordWords mark a name whose value may be a human password: a
// shorter minimum length applies.
var passwordWords = []string{"password", "passwd", "passphrase", "pwd"}

// assignmentSpan validates one match of assignmentPattern in s and
// returns the value span.
func assignmentSpan(s string, m []int) (int, int, bool) {
	nameStart, nameEnd := m[2], m[3]
	for nameStart > 0 && isNameByte(s[nameStart-1]) {
		nameStart--
	}
	name := normName(s[nameStart:nameEnd])
	word := ""
	for _, w := range nameWords {
		if strings.HasSuffix(name, w) {
			word = w
			break
		}
	}
	if word == "" || name == "key" {
		return 0, 0, false
	}
	for _, n := range notSecretNames {
		if strings.HasSuffix(name, n) {
			return 0, 0, false
		}
	}
	st, en, g := -1, -1, 0
	for g = 4; g+1 < len(m); g += 2 {
		if m[g] >= 0 {
			st, en = m[g], m[g+1]
			break
		}
	}
	if st < 0 {
		return 0, 0, false
	}
	v := s[st:en]
	quoted := g < 10 // groups 2-4 are inside quotes, group 5 is bare
	if !quoted && en < len(s) && s[en] == '(' {
		return 0, 0, false // a call: os.Getenv(…), cfg.Get(…)
	}
	minLen, minEntropy := 16, 3.0
	for _, w := range passwordWords {
		if strings.HasSuffix(name, w) {
			minLen, minEntropy = 8, 2.5 // people choose passwords: "hunter2hunter2"
		}
	}
	if !plausibleSecret(v, quoted, minLen, minEntropy) {
		return 0, 0, false
	}
	return st, en, true
}

// plausibleSecret applies the value gates of the assignment rules.
func plausibleSecret(v string, quoted bool, minLen int, minEntropy float64) bool {
	if len(v) < minLen || IsPlaceholder(v) {
		return false
	}
	if !quoted && (!plausibleValue(v) || isReference(v)) {
		return false
	}
	if quoted && len(v) >= 20 && Entropy(v) >= 4.0 {
		return true // a long random literal, with or without digits
	}
	var lowerC, upperC, digit, other bool
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c >= 'a' && c <= 'z':
			lowerC = true
		case c >= 'A' && c <= 'Z':
			upperC = true
		case c >= '0' && c <= '9':
			digit = true
		default:
			other = true
		}
	}
	classes := 0
	for _, b := range []bool{lowerC, upperC, digit, other} {
		if b {
			classes++
		}
	}
	if !digit && classes < 3 {
		return false // words, identifiers, messages
	}
	if !digit && isIdentifierChain(v) {
		return false // an identifier
	}
	return Entropy(v) >= minEntropy
}

// isReference reports whether an unquoted value names another variable or
// field (cfg.GitHubToken, settings.SECRET_KEY, $TOKEN, %TOKEN%) rather than
// holding a value.
func isReference(v string) bool {
	if strings.HasPrefix(v, "$") || (strings.HasPrefix(v, "%") && strings.HasSuffix(v, "%")) {
		return true
	}
	if !isIdentifierChain(v) {
		return false
	}
	if strings.Contains(v, ".") {
		// a field path: every segment starts with a letter and few digits
		digits := 0
		for i := 0; i < len(v); i++ {
			if v[i] >= '0' && v[i] <= '9' {
				digits++
			}
		}
		return digits <= 3
	}
	return false
}

// isIdentifierChain: letters, digits, '_' and '$' in '.'-separated segments
// that each start with a letter, '_' or '$'.
func isIdentifierChain(v string) bool {
	for _, seg := range strings.Split(v, ".") {
		if seg == "" {
			return false
		}
		c := seg[0]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '$') {
			return false
		}
		for i := 1; i < len(seg); i++ {
			c := seg[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$') {
				return false
			}
		}
	}
	return true
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
}

// normName lowercases a name and drops separators, trailing digits and a
// plural s: "AWS_SECRET_ACCESS_KEY" → "awssecretaccesskey", "API_KEYS" →
// "apikey", "secret_key_base" → "secretkeybase".
func normName(n string) string {
	b := make([]byte, 0, len(n))
	for i := 0; i < len(n); i++ {
		c := lower[n[i]]
		if c == '-' || c == '_' || c == '.' {
			continue
		}
		b = append(b, c)
	}
	for len(b) > 0 && b[len(b)-1] >= '0' && b[len(b)-1] <= '9' {
		b = b[:len(b)-1]
	}
	if len(b) > 1 && b[len(b)-1] == 's' && !strings.HasSuffix(string(b), "pass") {
		b = b[:len(b)-1]
	}
	return string(b)
}

// firstGroupSpan returns the first non-empty capture group: the command
// line rules have one group per quoting style.
func firstGroupSpan(_ string, m []int) (int, int, bool) {
	for g := 2; g+1 < len(m); g += 2 {
		if m[g] >= 0 && m[g+1] > m[g] {
			return m[g], m[g+1], true
		}
	}
	return 0, 0, false
}
