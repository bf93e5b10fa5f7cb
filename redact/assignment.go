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
// returns the value span. The scanners use findAssignments, the same rule
// without the regexp; assignmentPattern documents it and holds it to its
// word in a differential test.
func assignmentSpan(s string, m []int) (int, int, bool) {
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
	quoted := g < 10 // groups 2-4 are inside quotes, group 5 is bare
	if !assignmentOK(s, m[2], m[3], st, en, quoted) {
		return 0, 0, false
	}
	return st, en, true
}

// assignmentOK applies the rule's gates to the name that starts with a
// secret word at wordStart and ends at nameEnd, and to the value s[st:en].
func assignmentOK(s string, wordStart, nameEnd, st, en int, quoted bool) bool {
	nameStart := wordStart
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
		return false
	}
	for _, n := range notSecretNames {
		if strings.HasSuffix(name, n) {
			return false
		}
	}
	if !quoted && en < len(s) && s[en] == '(' {
		return false // a call: os.Getenv(…), cfg.Get(…)
	}
	minLen, minEntropy := 16, 3.0
	for _, w := range passwordWords {
		if strings.HasSuffix(name, w) {
			minLen, minEntropy = 8, 2.5 // people choose passwords with repeated words
		}
	}
	return plausibleSecret(s[st:en], quoted, minLen, minEntropy)
}

// secretWordAt returns the end of the secret word (pass, pwd, secret,
// token, key, credential; any case) that starts at s[i], or -1.
func secretWordAt(s string, i int) int {
	for _, w := range [...]string{"pass", "pwd", "secret", "token", "key", "credential"} {
		if hasFoldPrefix(s[i:], w) {
			return i + len(w)
		}
	}
	return -1
}

// isBareValueByte: the bytes of an unquoted value (assignmentPattern's
// [^\s"'\x60,;<>(){}\[\]|&\\]).
var bareValueByte = func() (t [256]bool) {
	for c := range 256 {
		t[c] = true
	}
	for _, c := range []byte(" \t\n\r\v\f\"'`,;<>(){}[]|&\\") {
		t[c] = false
	}
	return
}()

// findAssignments is assignmentPattern with assignmentSpan, without the
// regexp: the rule runs on every line holding "key" or "token", and a
// byte loop costs a fraction of the regexp's NFA there.
func (d *Detector) findAssignments(s string, out []span) []span {
	for i := 0; i < len(s); i++ {
		switch lower[s[i]] {
		case 'p', 's', 't', 'k', 'c':
		default:
			continue
		}
		w := secretWordAt(s, i)
		if w < 0 {
			continue
		}
		j := w
		for j < len(s) && isNameByte(s[j]) {
			j++
		}
		nameEnd := j
		if j < len(s) && (s[j] == '"' || s[j] == '\'') {
			j++
		}
		for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
			j++
		}
		switch {
		case j+1 < len(s) && (s[j:j+2] == ":=" || s[j:j+2] == "=>"):
			j += 2
		case j < len(s) && (s[j] == ':' || s[j] == '='):
			j++
		default:
			i = nameEnd - 1
			continue
		}
		for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
			j++
		}
		st, en, quoted := -1, -1, false
		if j < len(s) && (s[j] == '"' || s[j] == '\'' || s[j] == '`') {
			q := s[j]
			k := j + 1
			for k < len(s) && k-j-1 < 256 && s[k] != q && !isSpace(s[k]) {
				k++
			}
			if k < len(s) && s[k] == q && k-j-1 >= 6 {
				st, en, quoted = j+1, k, true
			}
		} else {
			if hasFoldPrefix(s[j:], "base64:") {
				j += len("base64:")
			}
			k := j
			for k < len(s) && k-j < 256 && bareValueByte[s[k]] {
				k++
			}
			if k-j >= 6 {
				st, en = j, k
			}
		}
		if st >= 0 && assignmentOK(s, i, nameEnd, st, en, quoted) && d.validSpan(s[st:en]) {
			out = append(out, span{st, en, d})
			i = en - 1
			continue
		}
		i = nameEnd - 1
	}
	return out
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// plausibleSecret applies the value gates of the assignment rules.
func plausibleSecret(v string, quoted bool, minLen int, minEntropy float64) bool {
	if len(v) < minLen || IsPlaceholder(v) || strings.Contains(v, "://") {
		return false // a URL's password is url-password's; the rest of a URL is not a secret
	}
	if !quoted && (!plausibleValue(v) || isReference(v)) {
		return false
	}
	if quoted && len(v) > 2 && v[0] == '+' && v[len(v)-1] == '+' && isIdentifierChain(strings.TrimSuffix(strings.TrimSpace(v[1:len(v)-1]), "()")) {
		return false // concatenation in code: "token = "+cfg.Token()+"\n"
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
