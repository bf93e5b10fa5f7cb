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
	// LogOnly detectors run in the log handler only: they mask likely
	// secrets in log lines on looser gates than a scan may use without
	// flooding its report, and scans never report them.
	LogOnly bool

	bit         uint64
	span        func(s string, m []int) (start, end int, ok bool) // picks and validates the span from a submatch index; nil: first group or whole match
	assignments bool                                              // found by findAssignments; Pattern documents the rule
	need        string                                            // the pattern cannot match unless the text contains this (a cheap second gate)
	generic     bool                                              // yields to a specific detector matching the same span
	needSep     bool                                              // prefilter: a '+', '(', '-' or space must occur (phone numbers)
	digits      int                                               // prefilter: minimum digit count in the unit, for keyword-less detectors
	at          bool
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
	"xxxx", "****", "...", "…", "your", "todo", "fixme", "insert", "secret_here", "token_here", "key_here",
	"jbswy3dpehpk3pxp", // the base32 TOTP secret of the otpauth documentation examples
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
	if t[0] == '%' && len(t) <= 6 && (t[len(t)-1]|0x20) >= 'a' && (t[len(t)-1]|0x20) <= 'z' {
		return true // a format verb: "%s", "%-10v"
	}
	if strings.Contains(t, `"+`) || strings.Contains(t, `+"`) || strings.Contains(t, "`+") || strings.Contains(t, "+`") {
		return true // a string built in code: "…:"+password+"@…"
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

// vendorPlaceholder reports the placeholders written in a vendor's token
// format ("xoxb-your-token", "sk-proj-...", "ACxxxxxxxx…"). It looks only
// for marks that random token characters cannot produce by chance at
// scale: the full word list of IsPlaceholder would reject one random
// base62 token in a few thousand ("…XYourh…").
func vendorPlaceholder(s string) bool {
	l := strings.ToLower(s)
	for _, w := range []string{"xxxx", "****", "...", "…", "your_", "your-", "_here", "-here", "example", "<", "${", "{{"} {
		if strings.Contains(l, w) {
			return true
		}
	}
	return strings.Count(s, s[:1]) == len(s)
}

// cookieValueOK rejects placeholders and file paths
// (SESSION_SECRET_FILE=/run/secrets/session is a setting, not a cookie).
func cookieValueOK(s string) bool {
	return !IsPlaceholder(s) && s[0] != '/' && !strings.HasPrefix(s, "./") && !strings.HasPrefix(s, "../")
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
		Name: "openai-key", Kind: Secret,
		Source:     "OpenAI API keys (platform.openai.com/docs/api-reference/authentication): sk-proj-/sk-svcacct-/sk-admin- project, service-account and admin keys, and legacy sk- keys; the base64 of \"OpenAI\" (T3BlbkFJ) sits in the middle",
		Keywords:   []string{"sk-proj-", "sk-svcacct-", "sk-admin-", "t3blbkfj"},
		Pattern:    regexp.MustCompile(`\bsk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,250}|[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20})\b`),
		MinEntropy: 3.5,
	},
	{
		Name: "anthropic-key", Kind: Secret,
		Source:     "Anthropic API and admin keys (docs.anthropic.com/en/api/getting-started): sk-ant-api03- / sk-ant-admin01- + 93 base64url characters + AA",
		Keywords:   []string{"sk-ant-"},
		Pattern:    regexp.MustCompile(`\bsk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_-]{80,110}AA\b`),
		MinEntropy: 3.5,
	},
	{
		Name: "npm-token", Kind: Secret,
		Source:     "npm access tokens (docs.npmjs.com/about-access-tokens, github.blog 2021-09-23): npm_ + 36 base62 characters, in .npmrc as //registry.npmjs.org/:_authToken=",
		Keywords:   []string{"npm_"},
		Pattern:    regexp.MustCompile(`\bnpm_[A-Za-z0-9]{36}\b`),
		MinEntropy: 3.5,
	},
	{
		Name: "twilio-credential", Kind: Secret,
		Source:     "Twilio credentials (twilio.com/docs/iam/api-keys, /docs/glossary/what-is-a-sid): API key SIDs SK + 32 hex, account SIDs AC + 32 hex, and 32-hex auth tokens and API secrets assigned to a Twilio name",
		Keywords:   []string{"twilio"},
		Pattern:    regexp.MustCompile(`\b((?:SK|AC)[0-9a-f]{32})\b|(?i:twilio[a-z0-9_.-]*(?:token|secret))["']?\s*[:=]\s*["']?([0-9a-f]{32})\b`),
		span:       firstGroupSpan,
		MinEntropy: 3.0,
	},
	{
		Name: "mailgun-key", Kind: Secret,
		Source:     "Mailgun API keys (documentation.mailgun.com/docs/mailgun/api-reference/authentication): key- + 32 hex (legacy), or 32 hex-8 hex-8 hex assigned to a Mailgun name",
		Keywords:   []string{"key-", "mailgun"},
		Pattern:    regexp.MustCompile(`\b(key-[0-9a-f]{32})\b|(?i:mailgun[a-z0-9_.-]*)["']?\s*[:=]\s*["']?([0-9a-f]{32}-[0-9a-f]{8}-[0-9a-f]{8})\b`),
		span:       firstGroupSpan,
		MinEntropy: 3.0,
	},
	{
		Name: "postmark-token", Kind: Secret,
		Source:   "Postmark server and account tokens (postmarkapp.com/developer/api/overview#authentication): a UUID in X-Postmark-Server-Token / X-Postmark-Account-Token or assigned to a Postmark name",
		Keywords: []string{"postmark"},
		Pattern:  regexp.MustCompile(`(?i:postmark[a-z0-9_.-]*)["']?\s*[:=]\s*["']?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b`),
	},
	{
		Name: "resend-key", Kind: Secret,
		Source:     "Resend API keys (resend.com/docs/dashboard/api-keys/introduction): re_ + 8 base62 + _ + 24 base62",
		Keywords:   []string{"re_"},
		Pattern:    regexp.MustCompile(`\bre_[A-Za-z0-9]{8}_[A-Za-z0-9]{24}\b`),
		MinEntropy: 3.5,
	},
	{
		Name: "sentry-dsn", Kind: Secret,
		Source:   "Sentry DSNs with a secret key (docs.sentry.io/concepts/key-terms/dsn-explainer): https://<32-hex public key>:<32-hex secret key>@<host>/<project id>",
		Keywords: []string{"sentry", "ingest."},
		Pattern:  regexp.MustCompile(`\bhttps?://[0-9a-f]{32}:([0-9a-f]{32})@[A-Za-z0-9.-]+/\d+`),
	},
	{
		Name: "datadog-key", Kind: Secret,
		Source:   "Datadog API keys (32 hex) and application keys (40 hex) (docs.datadoghq.com/account_management/api-app-keys), as DD_API_KEY / DD_APP_KEY / DD-API-KEY / datadog_api_key",
		Keywords: []string{"dd_ap", "dd-ap", "datadog", "ddap"},
		Pattern:  regexp.MustCompile(`(?i:(?:dd|datadog)[_-]?(?:api|app|application)[_-]?key)["']?\s*[:=]\s*["']?([0-9a-f]{40}|[0-9a-f]{32})\b`),
	},
	{
		Name: "azure-storage-key", Kind: Secret,
		Source:   "Azure storage connection strings (learn.microsoft.com/azure/storage/common/storage-configure-connection-string): AccountKey= 88 base64 characters; Service Bus and Event Hubs SharedAccessKey= 44",
		Keywords: []string{"accountkey=", "sharedaccesskey="},
		Pattern:  regexp.MustCompile(`(?i:AccountKey|SharedAccessKey)=([A-Za-z0-9+/]{86}==|[A-Za-z0-9+/]{43}=)`),
	},
	{
		Name: "heroku-key", Kind: Secret,
		Source:   "Heroku API keys (devcenter.heroku.com/articles/authentication): HRKU- + 60 characters, or a UUID assigned to a Heroku name (HEROKU_API_KEY)",
		Keywords: []string{"hrku-", "heroku"},
		Pattern:  regexp.MustCompile(`\b(HRKU-[A-Za-z0-9_-]{60})(?:[^A-Za-z0-9_-]|$)|(?i:heroku[a-z0-9_.-]*(?:key|token))["']?\s*[:=]\s*["']?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\b`),
		span:     firstGroupSpan,
	},
	{
		Name: "digitalocean-token", Kind: Secret,
		Source:   "DigitalOcean tokens (docs.digitalocean.com/reference/api/create-personal-access-token): dop_v1_ personal, doo_v1_ OAuth, dor_v1_ refresh + 64 hex",
		Keywords: []string{"dop_v1_", "doo_v1_", "dor_v1_"},
		Pattern:  regexp.MustCompile(`\bdo[por]_v1_[0-9a-f]{64}\b`),
	},
	{
		Name: "shopify-token", Kind: Secret,
		Source:   "Shopify app tokens (shopify.dev/docs/apps/build/authentication-authorization/access-tokens): shpat_ admin, shpca_ custom app, shppa_ private app, shpss_ shared secret + 32 hex",
		Keywords: []string{"shpat_", "shpca_", "shppa_", "shpss_"},
		Pattern:  regexp.MustCompile(`\bshp(?:at|ca|pa|ss)_[0-9a-fA-F]{32}\b`),
	},
	{
		Name: "vault-token", Kind: Secret,
		Source:     "HashiCorp Vault tokens (developer.hashicorp.com/vault/docs/concepts/tokens#token-prefixes): hvs. service, hvb. batch, hvr. recovery + 24 or more base64url characters",
		Keywords:   []string{"hvs.", "hvb.", "hvr."},
		Pattern:    regexp.MustCompile(`\bhv[sbr]\.[A-Za-z0-9_-]{24,200}`),
		MinEntropy: 3.5,
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
		Valid:    notPlaceholder, generic: true, need: "@",
	},
	{
		Name: "dsn-password", Kind: Secret,
		Source:   "scheme-less DSNs of the Go MySQL driver (github.com/go-sql-driver/mysql#dsn-data-source-name): user:password@tcp(host:port)/db, @unix(/path)/db",
		Keywords: []string{"tcp(", "unix("},
		Pattern:  regexp.MustCompile(`[A-Za-z0-9_.-]{1,64}:([^@\s"'/]{1,256})@(?:tcp|unix)\(`),
		Valid:    notPlaceholder,
	},
	{
		Name: "cli-password", Kind: Secret,
		Source:   "passwords on command lines (shell history, CI logs): mysql/mysqldump/mysqladmin -p<password>, sshpass -p <password>, aws configure set aws_secret_access_key|aws_session_token <value>",
		Keywords: []string{"mysql", "sshpass", "configure set"},
		Pattern:  regexp.MustCompile(`\bmysql(?:dump|admin)?\b[^\n|;&]*?\s-p(?:'([^'\s]{4,128})'|"([^"\s]{4,128})"|([^\s'"-][^\s'"]{3,127}))|\bsshpass\s+-p\s*(?:'([^'\s]{4,128})'|"([^"\s]{4,128})"|([^\s'"]{4,128}))|\baws\s+configure\s+set\s+(?:aws_secret_access_key|aws_session_token)\s+["']?([A-Za-z0-9/+=]{16,})`),
		span:     firstGroupSpan, Valid: notPlaceholder,
	},
	{
		Name: "xml-password", Kind: Secret,
		Source:   "password and secret elements in XML and HTML configuration (Maven settings.xml <password>, NuGet, .NET, Tomcat): <password>…</password>, <secret>, <apiKey>, <token>, <clientSecret>",
		Keywords: []string{"<pass", "<secret", "<api", "<token", "<client"},
		Pattern:  regexp.MustCompile(`(?i)<(?:password|passwd|secret|api[_-]?key|token|client[_-]?secret)>\s*([^<\s]{6,256})\s*</`),
		Valid:    func(v string) bool { return !IsPlaceholder(v) && !isReference(v) },
		need:     "</",
	},
	{
		Name: "secret-assignment", Kind: Secret,
		Source:   "values assigned to names ending in password, passwd, passphrase, pwd, secret, token, key, credential or secret_key_base, in env files, shell, YAML, JSON, TOML, HCL, properties, PHP and code literals; gated on length, entropy, character classes, placeholders and references (see assignment.go)",
		Keywords: []string{"pass", "pwd", "secret", "token", "key", "credential"},
		Pattern:  assignmentPattern,
		span:     assignmentSpan, generic: true, assignments: true,
	},
	{
		Name: "password-assignment", Kind: Secret, LogOnly: true,
		Source:     "password=/secret:/api_key=/token= in log lines, on looser gates than secret-assignment (six characters, any character classes): a log line is masked when in doubt",
		Keywords:   []string{"pass", "pwd", "secret", "api_key", "apikey", "api-key", "token", "auth"},
		Pattern:    regexp.MustCompile(`(?i)(?:password|passwd|passphrase|pwd|secret|api[_-]?key|access[_-]?token|auth[_-]?token|refresh[_-]?token|client[_-]?secret|token)["']?\s*(?:[:=]|:=)\s*["']?([^\s"'&,;<>\])}]{6,256})`),
		MinEntropy: 2.0, Valid: plausibleValue, generic: true,
	},
	{
		Name: "session-cookie", Kind: Secret,
		Source:     "session cookies of common frameworks (PHPSESSID, JSESSIONID, connect.sid, session, sid, __Host-session)",
		Keywords:   []string{"sess", "sid="},
		Pattern:    regexp.MustCompile(`(?i)(?:session|sessid|\bsid)[a-z_.-]*=([A-Za-z0-9%._~+/-]{16,512}={0,2})`),
		MinEntropy: 3.0, Valid: cookieValueOK, generic: true, need: "=",
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
		if d.Kind == PII || d.LogOnly {
			notScanned |= d.bit
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
	if d.Kind == Secret && !d.generic && !d.Multiline && vendorPlaceholder(s) {
		return false // "xoxb-your-token", "sk-ant-...", "ACxxxx…"
	}
	return d.Valid == nil || d.Valid(s)
}
