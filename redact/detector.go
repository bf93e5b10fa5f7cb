package redact

import (
	"hash/crc32"
	"math"
	"regexp"
	"strings"
)

// Kind separates credentials from personal data. Secret scans report only
// secrets; the log handler masks both.
type Kind int

const (
	// Secret is a credential: a token, key or password.
	Secret Kind = iota + 1
	// PII is personal data: an email address, a phone or card number.
	PII
)

func (k Kind) String() string {
	if k == PII {
		return "pii"
	}
	return "secret"
}

// A Detector finds one kind of secret or personal data in text. Detection is
// keyword prefilter, then pattern, then validation (checksum, entropy,
// placeholder rejection). Detectors are read-only once built.
type Detector struct {
	// Name identifies the detector in findings and masks, e.g. "github-token".
	Name string
	// Kind says whether a match is a secret or personal data.
	Kind Kind
	// Source names the published format the pattern follows.
	Source string
	// Keywords: at least one must occur (case-insensitive) in the text before
	// the pattern runs. Empty means the detector's own prefilter decides
	// (digits for card and phone numbers, '@' for emails).
	Keywords []string
	// Pattern matches the candidate. When it has a capture group, the first
	// group is the secret span that is masked; otherwise the whole match.
	Pattern *regexp.Regexp
	// MinEntropy is the minimum Shannon entropy (bits per character) of the
	// span; zero disables the test.
	MinEntropy float64
	// Valid, when set, must accept the span (checksums, Luhn, placeholders).
	Valid func(span string) bool
	// Multiline detectors (PEM blocks) see the text after the keyword line,
	// not just the line.
	Multiline bool

	bit     uint64
	generic bool // yields to a specific detector matching the same span
	needSep bool // prefilter: a '+', '(', '-' or space must occur (phone numbers)
	digits  int  // prefilter: minimum digit count in the unit, for keyword-less detectors
	at      bool
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// githubChecksumOK verifies the CRC32 checksum of a GitHub token: the last six
// characters are the base62 encoding (left-padded with '0') of the IEEE CRC32
// of the 30 random characters before them.
func githubChecksumOK(tok string) bool {
	i := strings.IndexByte(tok, '_')
	if i < 0 || len(tok)-i-1 != 36 {
		return false
	}
	body := tok[i+1:]
	return base62Pad(crc32.ChecksumIEEE([]byte(body[:30])), 6) == body[30:]
}

func base62Pad(n uint32, width int) string {
	var b [16]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = base62[n%62]
		n /= 62
	}
	for len(b)-i < width {
		i--
		b[i] = '0'
	}
	return string(b[i:])
}

// Entropy returns the Shannon entropy of s in bits per byte.
func Entropy(s string) float64 {
	if s == "" {
		return 0
	}
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	var h float64
	n := float64(len(s))
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

var placeholderWords = []string{
	"changeme", "change_me", "change-me", "changethis", "placeholder", "example",
	"your_", "your-", "yourkey", "<your", "replace", "redacted", "dummy", "notreal",
	"xxxxxx", "******", "todo", "fixme", "insert", "secret_here", "token_here", "key_here",
	"password", "p@ssw0rd", "passw0rd", "letmein", "qwerty", "123456", "admin123", "sample",
}

// IsPlaceholder reports whether s is a template or placeholder rather than a
// real value: "${VAR}", "{{ .Secret }}", "<YOUR_KEY>", "$VAR", "changeme",
// published documentation examples (they contain "EXAMPLE"), repeated
// characters and the like. File scans skip placeholders; configured secrets
// that are placeholders are findings (SECRET002).
func IsPlaceholder(s string) bool {
	t := strings.TrimSpace(s)
	if t == "" {
		return true
	}
	if strings.Contains(t, "${") || strings.Contains(t, "{{") || strings.Contains(t, "%(") ||
		(strings.HasPrefix(t, "<") && strings.HasSuffix(t, ">")) ||
		(strings.HasPrefix(t, "$") && !strings.ContainsAny(t[1:], "$!@#%^&*")) ||
		strings.HasPrefix(t, "process.env") || strings.HasPrefix(t, "os.") {
		return true
	}
	l := strings.ToLower(t)
	for _, w := range placeholderWords {
		if strings.Contains(l, w) {
			return true
		}
	}
	// one repeated character ("aaaaaaaa", "00000000")
	if strings.Count(t, t[:1]) == len(t) {
		return true
	}
	return false
}

// pemBodyOK accepts a PEM private-key block only with a key in it: at least
// 64 base64 characters between the BEGIN line and the END line (or the end
// of the text) with the entropy of random data. Documentation blocks
// ("...", "<your key>") and a lone BEGIN line are not keys.
func pemBodyOK(s string) bool {
	i := strings.Index(s, "KEY-----")
	if i < 0 {
		return false
	}
	body := s[i+len("KEY-----"):]
	if j := strings.Index(body, "-----END"); j >= 0 {
		body = body[:j]
	}
	var b strings.Builder
	for k := 0; k < len(body); k++ {
		c := body[k]
		switch {
		case c == '\\' && k+1 < len(body) && (body[k+1] == 'n' || body[k+1] == 'r'):
			k++ // an escaped line break in a JSON or code string
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/':
			b.WriteByte(c)
		}
	}
	return b.Len() >= 64 && Entropy(b.String()) >= 4.5
}

func notPlaceholder(s string) bool { return !IsPlaceholder(s) }

// plausibleValue rejects code expressions on the right of an assignment
// ("os.Getenv(", "cfg.Password", "null", "true").
func plausibleValue(s string) bool {
	if IsPlaceholder(s) || strings.ContainsAny(s, "()[]{}<>") {
		return false
	}
	switch strings.ToLower(s) {
	case "null", "nil", "none", "true", "false", "undefined", "string", "required", "optional", "text", "hidden":
		return false
	}
	return true
}

// luhn reports whether the digits pass the Luhn checksum.
func luhn(d string) bool {
	sum, dbl := 0, false
	for i := len(d) - 1; i >= 0; i-- {
		n := int(d[i] - '0')
		if dbl {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
		dbl = !dbl
	}
	return sum%10 == 0
}

// cardOK checks issuer prefix, length and Luhn (ISO/IEC 7812, issuer ranges
// as published by the card networks).
func cardOK(s string) bool {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			b.WriteByte(s[i])
		}
	}
	d := b.String()
	n := len(d)
	if n < 13 || n > 19 || !luhn(d) {
		return false
	}
	p2 := atoi(d[:2])
	p3 := atoi(d[:3])
	p4 := atoi(d[:4])
	switch {
	case d[0] == '4': // Visa
		return n == 13 || n == 16 || n == 19
	case (p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720): // Mastercard
		return n == 16
	case p2 == 34 || p2 == 37: // American Express
		return n == 15
	case p4 == 6011 || p2 == 65 || (p3 >= 644 && p3 <= 649): // Discover
		return n >= 16 && n <= 19
	case p4 >= 3528 && p4 <= 3589: // JCB
		return n >= 16 && n <= 19
	case p2 == 36 || p2 == 38 || (p3 >= 300 && p3 <= 305): // Diners Club
		return n == 14
	}
	return false
}

func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

func phoneOK(s string) bool {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			n++
		}
	}
	return n >= 8 && n <= 15
}

// defaultDetectors is the one detector set used by the log handler and the
// secret scans.
var defaultDetectors = []*Detector{
	{
		Name: "github-token", Kind: Secret,
		Source:   "GitHub token formats (github.blog 2021-04-05): ghp_/gho_/ghu_/ghs_/ghr_ + 30 base62 + 6-char base62 CRC32 checksum",
		Keywords: []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_"},
		Pattern:  regexp.MustCompile(`\bgh[pousr]_[A-Za-z0-9]{36}\b`),
		Valid:    githubChecksumOK,
	},
	{
		Name: "github-fine-grained-token", Kind: Secret,
		Source:   "GitHub fine-grained personal access tokens: github_pat_ + 82 characters",
		Keywords: []string{"github_pat_"},
		Pattern:  regexp.MustCompile(`\bgithub_pat_[A-Za-z0-9_]{82}\b`),
	},
	{
		Name: "aws-access-key-id", Kind: Secret,
		Source:   "AWS IAM identifiers (docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html): AKIA/ASIA + 16 base32 characters",
		Keywords: []string{"akia", "asia", "abia", "acca"},
		Pattern:  regexp.MustCompile(`\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b`),
		Valid:    notPlaceholder,
	},
	{
		Name: "aws-secret-access-key", Kind: Secret,
		Source:     "AWS secret access key: 40 base64 characters, named aws_secret_access_key in credentials files and environments",
		Keywords:   []string{"aws_secret", "secretaccesskey", "secret_access_key"},
		Pattern:    regexp.MustCompile(`(?i)(?:aws_?secret_?access_?key|secretaccesskey)["']?\s*[:=]\s*["']?([A-Za-z0-9/+=]{40})(?:[^A-Za-z0-9/+=]|$)`),
		MinEntropy: 3.5, Valid: notPlaceholder,
	},
	{
		Name: "stripe-key", Kind: Secret,
		Source:     "Stripe API keys (docs.stripe.com/keys): sk_/rk_ + live_/test_ + base62; webhook secrets whsec_",
		Keywords:   []string{"sk_live_", "sk_test_", "rk_live_", "rk_test_", "whsec_"},
		Pattern:    regexp.MustCompile(`\b(?:(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{24,247}|whsec_[A-Za-z0-9]{32,})\b`),
		MinEntropy: 3.5,
	},
	{
		Name: "slack-token", Kind: Secret,
		Source:     "Slack tokens (api.slack.com/authentication/token-types): xoxb-/xoxp-/xoxa-/xoxr-/xoxs-, and hooks.slack.com webhook URLs",
		Keywords:   []string{"xox", "hooks.slack.com"},
		Pattern:    regexp.MustCompile(`\bxox[bpars]-[0-9A-Za-z-]{10,250}|https://hooks\.slack\.com/services/T[A-Z0-9]{6,12}/B[A-Z0-9]{6,12}/[A-Za-z0-9]{20,32}`),
		MinEntropy: 3.0,
	},
	{
		Name: "google-api-key", Kind: Secret,
		Source:     "Google Cloud API keys (cloud.google.com/docs/authentication/api-keys): AIza + 35 characters; OAuth access tokens ya29.",
		Keywords:   []string{"aiza", "ya29."},
		Pattern:    regexp.MustCompile(`\bAIza[0-9A-Za-z_-]{35}|\bya29\.[0-9A-Za-z_-]{30,}`),
		MinEntropy: 3.5,
	},
	{
		Name: "sendgrid-key", Kind: Secret,
		Source:     "SendGrid API keys (docs.sendgrid.com): SG. + 22 + . + 43 base64url characters",
		Keywords:   []string{"sg."},
		Pattern:    regexp.MustCompile(`\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}`),
		MinEntropy: 3.5,
	},
	{
		Name: "gitlab-token", Kind: Secret,
		Source:     "GitLab token prefixes (docs.gitlab.com/security/tokens): glpat-, gldt-, glrt-, glptt-, gloas- + 20 or more characters",
		Keywords:   []string{"glpat-", "gldt-", "glrt-", "glptt-", "gloas-"},
		Pattern:    regexp.MustCompile(`\bgl(?:pat|dt|rt|ptt|oas)-[0-9A-Za-z_.-]{20,}`),
		MinEntropy: 3.0,
	},
	{
		Name: "jwt", Kind: Secret,
		Source:   "RFC 7519 JSON Web Token, compact serialisation (RFC 7515 §7.1): base64url header starting eyJ . payload . signature",
		Keywords: []string{"eyj"},
		Pattern:  regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}`),
	},
	{
		Name: "private-key", Kind: Secret,
		Source:   "RFC 7468 textual encoding: -----BEGIN ... PRIVATE KEY----- blocks (PKCS#1, PKCS#8, EC, OpenSSH)",
		Keywords: []string{"private key-----"},
		Pattern:  regexp.MustCompile(`-----BEGIN[A-Z0-9 ]{0,30} PRIVATE KEY-----(?:(?:[A-Za-z0-9+/=\r\n\t :,.\\]|-[A-Za-z0-9])*-----END[A-Z0-9 ]{0,30} PRIVATE KEY-----|[A-Za-z0-9+/=\r\n\\]*)`),
		Valid:    pemBodyOK, Multiline: true,
	},
	{
		Name: "url-password", Kind: Secret,
		Source:   "RFC 3986 §3.2.1 userinfo: scheme://user:password@host (database and broker URLs)",
		Keywords: []string{"://"},
		Pattern:  regexp.MustCompile(`\b[A-Za-z][A-Za-z0-9+.-]{1,20}://[^:@/\s"'<>]{0,128}:([^@/\s"'<>]{1,256})@[A-Za-z0-9.\[\]-]`),
		Valid:    notPlaceholder,
	},
	{
		Name: "password-assignment", Kind: Secret,
		Source:     "password=/secret:/api_key= assignments in config files, env files, query strings and log lines",
		Keywords:   []string{"pass", "pwd", "secret", "api_key", "apikey", "api-key", "token", "auth"},
		Pattern:    regexp.MustCompile(`(?i)(?:password|passwd|passphrase|pwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token|refresh[_-]?token|client[_-]?secret|token)["']?\s*(?:[:=]|:=)\s*["']?([^\s"'&,;<>\])}]{6,256})`),
		MinEntropy: 2.0, Valid: plausibleValue, generic: true,
	},
	{
		Name: "session-cookie", Kind: Secret,
		Source:     "session cookies of common frameworks (PHPSESSID, JSESSIONID, connect.sid, session, sid, __Host-session)",
		Keywords:   []string{"sess", "sid="},
		Pattern:    regexp.MustCompile(`(?i)\b(?:__Host-|__Secure-)?(?:[a-z_.-]*session[a-z_.-]*|sid|connect\.sid|phpsessid|jsessionid)=([A-Za-z0-9%._~+/-]{16,512}={0,2})`),
		MinEntropy: 3.0, Valid: notPlaceholder, generic: true,
	},
	{
		Name: "card-number", Kind: PII,
		Source:  "ISO/IEC 7812 primary account numbers: issuer prefix (Visa, Mastercard, Amex, Discover, JCB, Diners), length, Luhn check digit",
		Pattern: regexp.MustCompile(`\b(?:\d{13,19}|\d{4}(?: \d{4}){2} \d{1,7}|\d{4}(?:-\d{4}){2}-\d{1,7}|\d{4}[ -]\d{6}[ -]\d{4,5})\b`),
		Valid:   cardOK, digits: 13, generic: true,
	},
	{
		Name: "email", Kind: PII,
		Source:  "RFC 5322 addr-spec (dot-atom local part) with RFC 6531 internationalised local parts and IDN domains (RFC 5890, U-labels and xn-- A-labels); the whole local part is masked, the domain kept",
		Pattern: regexp.MustCompile(`([\p{L}\p{N}\p{M}._%+-]{1,64})@(?:[\p{L}\p{N}\p{M}-]{1,63}\.)+(?:xn--[A-Za-z0-9-]{1,59}|[\p{L}\p{M}]{2,24})`),
		at:      true,
	},
	{
		Name: "phone", Kind: PII,
		Source:  "ITU-T E.164 international numbers (+ country code) and NANP (xxx) xxx-xxxx / xxx-xxx-xxxx",
		Pattern: regexp.MustCompile(`\+[1-9]\d{0,2}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){1,4}\b|\(\d{3}\) ?\d{3}-\d{4}\b|\b\d{3}-\d{3}-\d{4}\b`),
		Valid:   phoneOK, digits: 8, needSep: true,
	},
}

func init() {
	for i, d := range defaultDetectors {
		d.bit = 1 << uint(i)
		if d.Kind == PII {
			piiMask |= d.bit
		}
		if d.Multiline {
			multilineMask |= d.bit
		}
	}
	buildPrefilter(defaultDetectors)
}

// Detectors returns the built-in detector set. The slice is a copy; the
// detectors are shared and must not be modified.
func Detectors() []*Detector { return append([]*Detector(nil), defaultDetectors...) }

// validSpan applies entropy and validation to a candidate span.
func (d *Detector) validSpan(s string) bool {
	if d.MinEntropy > 0 && Entropy(s) < d.MinEntropy {
		return false
	}
	return d.Valid == nil || d.Valid(s)
}
