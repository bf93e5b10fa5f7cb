// Package redacttest generates test corpora for the redact detectors and the
// secret scans: true secrets for every detector and benign look-alikes. The
// tokens are built at run time from random pieces (and computed checksums),
// so no real-looking token is ever committed.
package redacttest

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"strings"
)

// A Sample is one line of text. Detector is the detector that must fire on
// it (empty for a benign look-alike that no detector may flag) and Secret the
// span that must not survive redaction.
type Sample struct {
	Detector string
	Text     string
	Secret   string
}

const (
	alnum   = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b64url  = alnum + "-_"
	b64std  = alnum + "+/"
	base32  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	hexchar = "0123456789abcdef"
	b62     = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)

// Gen generates samples deterministically from a seed.
type Gen struct{ r *rand.Rand }

// New returns a generator seeded with seed.
func New(seed uint64) *Gen { return &Gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))} }

func (g *Gen) pick(alpha string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alpha[g.r.IntN(len(alpha))]
	}
	return string(b)
}

func base62Pad(n uint32, width int) string {
	s := ""
	for n > 0 {
		s = string(b62[n%62]) + s
		n /= 62
	}
	for len(s) < width {
		s = "0" + s
	}
	return s
}

// GitHubToken returns a token with a valid CRC32 checksum.
func (g *Gen) GitHubToken() string {
	body := g.pick(alnum, 30)
	return "gh" + string("pousr"[g.r.IntN(5)]) + "_" + body + base62Pad(crc32.ChecksumIEEE([]byte(body)), 6)
}

func luhnDigit(d string) byte {
	sum := 0
	dbl := true
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
	return byte('0' + (10-sum%10)%10)
}

// Card returns a Luhn-valid number with the given prefix and length.
func (g *Gen) Card(prefix string, length int) string {
	d := prefix + g.pick("0123456789", length-len(prefix)-1)
	return d + string(luhnDigit(d))
}

// Password returns a human-style password.
func (g *Gen) Password() string {
	words := []string{"Horse", "Battery", "Staple", "Tiger", "Maple", "Orbit", "Quartz", "Violet"}
	return words[g.r.IntN(len(words))] + g.pick("0123456789", 3) + words[g.r.IntN(len(words))] + g.pick("!#%*", 1)
}

// JWT returns a syntactically valid unsigned-looking JWT.
func (g *Gen) JWT() string {
	enc := base64.RawURLEncoding
	h := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	p := enc.EncodeToString([]byte(fmt.Sprintf(`{"sub":"%s","iat":%d}`, g.pick(alnum, 10), 1700000000+g.r.IntN(1e7))))
	return h + "." + p + "." + g.pick(b64url, 43)
}

// PEM returns a PEM private-key block of random base64.
func (g *Gen) PEM() string {
	var b strings.Builder
	b.WriteString("-----BEGIN " + "RSA PRIVATE KEY-----\n")
	for i := 0; i < 6; i++ {
		b.WriteString(g.pick(b64std, 64) + "\n")
	}
	b.WriteString("-----END " + "RSA PRIVATE KEY-----")
	return b.String()
}

// Secrets returns n true samples for every detector.
func (g *Gen) Secrets(n int) []Sample {
	var out []Sample
	add := func(det, text, secret string) { out = append(out, Sample{det, text, secret}) }
	for i := 0; i < n; i++ {
		t := g.GitHubToken()
		add("github-token", "export GITHUB_TOKEN="+t, t)
		t = "github" + "_pat_" + g.pick(alnum+"_", 82)
		add("github-fine-grained-token", "token: "+t, t)
		t = "AK" + "IA" + g.pick(base32, 16)
		add("aws-access-key-id", `aws_access_key_id = `+t, t)
		t = g.pick(b64std, 40)
		add("aws-secret-access-key", "aws_secret_access_key = "+t, t)
		t = "sk_" + "live_" + g.pick(alnum, 24+g.r.IntN(8))
		add("stripe-key", `stripe.Key = "`+t+`"`, t)
		t = "xo" + "xb-" + g.pick("0123456789", 12) + "-" + g.pick("0123456789", 13) + "-" + g.pick(alnum, 24)
		add("slack-token", "SLACK_BOT_TOKEN="+t, t)
		t = "AI" + "za" + g.pick(alnum+"-_", 35)
		add("google-api-key", `const mapsKey = "`+t+`";`, t)
		t = "SG" + "." + g.pick(b64url, 22) + "." + g.pick(b64url, 43)
		add("sendgrid-key", "SENDGRID="+t, t)
		t = "gl" + "pat-" + g.pick(alnum, 20)
		add("gitlab-token", "CI_TOKEN: "+t, t)
		t = g.JWT()
		add("jwt", "Authorization: Bearer "+t, t)
		t = g.PEM()
		add("private-key", t, t)
		t = g.Password()
		add("url-password", "DATABASE_URL=postgres://app:"+t+"@db.internal:5432/portal", t)
		t = g.Password()
		add("password-assignment", "login failed for user 42 with password="+t, t)
		t = g.pick(b64url, 32)
		add("session-cookie", "Cookie: session="+t+"; theme=dark", t)
		prefixes := []struct {
			p string
			n int
		}{{"4", 16}, {"51", 16}, {"2221", 16}, {"37", 15}, {"6011", 16}, {"3530", 16}}
		c := prefixes[g.r.IntN(len(prefixes))]
		t = g.Card(c.p, c.n)
		add("card-number", "charged card "+t+" for invoice", t)
		local := "jane." + g.pick("abcdefghij", 6)
		add("email", "reset link sent to "+local+"@client-a.test", local)
		t = "+44 20 7946 " + g.pick("0123456789", 4)
		add("phone", "call back on "+t+" today", t)
	}
	return out
}

// Benign returns n rounds of look-alikes that no detector may flag.
func (g *Gen) Benign(n int) []Sample {
	var out []Sample
	add := func(text string) { out = append(out, Sample{Text: text}) }
	for i := 0; i < n; i++ {
		u := g.pick(hexchar, 32)
		add(fmt.Sprintf("request id %s-%s-%s-%s-%s", u[:8], u[8:12], u[12:16], u[16:20], u[20:]))
		add("commit " + g.pick(hexchar, 40) + " merged")
		sum := make([]byte, 32)
		for j := range sum {
			sum[j] = byte(g.r.IntN(256))
		}
		add(`"integrity": "sha256-` + base64.StdEncoding.EncodeToString(sum) + `"`)
		sum = append(sum, sum...)
		add(`"integrity": "sha512-` + base64.StdEncoding.EncodeToString(sum) + `"`)
		add(`<img src="data:image/png;base64,iVBORw0KGgo` + g.pick(b64std, 120) + `==">`)
		add("order number " + g.Card("1", 16) + " shipped")
		add("order number " + g.Card("9", 16) + " shipped")
		add("password=${DB_PASSWORD}")
		add("api_key: <YOUR_KEY>")
		add(`password := os.Getenv("DB_PASSWORD")`)
		add("DATABASE_URL=postgres://app:${DB_PASS}@db.internal/portal")
		add("token: changeme")
		add("aws_access_key_id = AKIAIOSFODNN7" + "EXAMPLE")
		add("ghp_" + g.pick(alnum, 36)) // checksum does not match
		add("sha " + hex.EncodeToString(sum[:20]) + " at 2026-11-28T15:03:13Z, build 1.24.11")
		add("https://portal.example.com/api/clients/" + g.pick("0123456789", 6) + "/tickets?page=2")
		add("user_id=" + g.pick("0123456789", 9) + " status=200 bytes=" + g.pick("0123456789", 5))
	}
	return out
}

// Corpus returns n rounds of secrets and look-alikes, shuffled.
func (g *Gen) Corpus(n int) []Sample {
	all := append(g.Secrets(n), g.Benign(n)...)
	g.r.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	return all
}

// Text joins samples into one file-like text, one sample per line, with
// filler lines of ordinary code between them.
func Text(samples []Sample) string {
	var b strings.Builder
	for i, s := range samples {
		b.WriteString(s.Text)
		b.WriteByte('\n')
		if i%2 == 0 {
			b.WriteString("\tif err := svc.Update(ctx, clientID, req); err != nil { return fmt.Errorf(\"update client: %w\", err) }\n")
		}
	}
	return b.String()
}
