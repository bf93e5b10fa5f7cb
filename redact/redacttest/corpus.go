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
	// Like names the detector a look-alike imitates (empty for secrets).
	Like string
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

// hexs returns n lowercase hex digits.
func (g *Gen) hexs(n int) string { return g.pick(hexchar, n) }

// uuid returns a random version-4-shaped UUID.
func (g *Gen) uuid() string {
	u := g.hexs(32)
	return u[:8] + "-" + u[8:12] + "-4" + u[13:16] + "-a" + u[17:20] + "-" + u[20:]
}

// base64Key returns the standard base64 of n random bytes.
func (g *Gen) base64Key(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.r.IntN(256))
	}
	return base64.StdEncoding.EncodeToString(b)
}

// Token returns a fresh secret in the format of the named detector, built
// from random pieces at run time (with a valid checksum where the format
// has one). It panics on an unknown name.
func (g *Gen) Token(detector string) string {
	switch detector {
	case "github-token":
		return g.GitHubToken()
	case "github-fine-grained-token":
		return "github" + "_pat_" + g.pick(alnum, 22) + "_" + g.pick(alnum, 59)
	case "aws-access-key-id":
		return "AK" + "IA" + g.pick(base32, 16)
	case "aws-secret-access-key":
		return g.pick(b64std, 40)
	case "stripe-key":
		return "sk_" + "live_" + g.pick(alnum, 24+g.r.IntN(76))
	case "slack-token":
		return "xo" + "xb-" + g.pick("0123456789", 12) + "-" + g.pick("0123456789", 13) + "-" + g.pick(alnum, 24)
	case "google-api-key":
		return "AI" + "za" + g.pick(alnum+"-_", 35)
	case "sendgrid-key":
		return "SG" + "." + g.pick(b64url, 22) + "." + g.pick(b64url, 43)
	case "gitlab-token":
		return "gl" + "pat-" + g.pick(alnum+"-_", 20)
	case "openai-key":
		if g.r.IntN(3) == 0 {
			return "sk-" + g.pick(alnum, 20) + "T3Blbk" + "FJ" + g.pick(alnum, 20)
		}
		return "sk-" + "proj-" + g.pick(b64url, 74) + "T3Blbk" + "FJ" + g.pick(b64url, 74)
	case "anthropic-key":
		return "sk-" + "ant-api03-" + g.pick(b64url, 93) + "AA"
	case "npm-token":
		return "npm" + "_" + g.pick(alnum, 36)
	case "twilio-credential":
		return "SK" + g.hexs(32)
	case "mailgun-key":
		return "key" + "-" + g.hexs(32)
	case "resend-key":
		return "re" + "_" + g.pick(alnum, 8) + "_" + g.pick(alnum, 24)
	case "digitalocean-token":
		return "dop" + "_v1_" + g.hexs(64)
	case "shopify-token":
		return "shp" + "at_" + g.hexs(32)
	case "vault-token":
		return "hv" + "s." + g.pick(b64url, 24+g.r.IntN(70))
	case "heroku-key":
		return "HR" + "KU-" + g.pick(b64url, 60)
	case "jwt":
		return g.JWT()
	}
	panic("redacttest: no generator for " + detector)
}

// Secrets returns n rounds of true samples: every detector's format in the
// forms it takes in env files, code, configuration, shell history and logs.
// Detector is the detector expected to fire; a scan finds the sample when
// any secret finding covers Secret.
func (g *Gen) Secrets(n int) []Sample {
	var out []Sample
	add := func(det, text, secret string) { out = append(out, Sample{Detector: det, Text: text, Secret: secret}) }
	for i := 0; i < n; i++ {
		t := g.GitHubToken()
		add("github-token", "export GITHUB_TOKEN="+t, t)
		t = g.GitHubToken()
		add("github-token", "git clone https://x-access-token:"+t+"@github.com/acme/portal.git", t)
		t = g.Token("github-fine-grained-token")
		add("github-fine-grained-token", "token: "+t, t)
		t = g.Token("aws-access-key-id")
		add("aws-access-key-id", `aws_access_key_id = `+t, t)
		t = g.Token("aws-secret-access-key")
		add("aws-secret-access-key", "aws_secret_access_key = "+t, t)
		t = g.Token("aws-secret-access-key")
		add("secret-assignment", `  secret_key = "`+t+`"`, t)
		t = g.Token("aws-secret-access-key")
		add("secret-assignment", "    secret_access_key: "+t, t)
		t = g.Token("aws-secret-access-key")
		add("secret-assignment", "cloud.aws.credentials.secret-key="+t, t)
		t = g.Token("aws-secret-access-key")
		add("cli-password", "aws configure set aws_secret_access_key "+t, t)
		t = g.Token("stripe-key")
		add("stripe-key", `stripe.Key = "`+t+`"`, t)
		t = g.Token("slack-token")
		add("slack-token", "SLACK_BOT_TOKEN="+t, t)
		t = g.Token("google-api-key")
		add("google-api-key", `const mapsKey = "`+t+`";`, t)
		t = g.Token("sendgrid-key")
		add("sendgrid-key", "SENDGRID="+t, t)
		t = g.Token("gitlab-token")
		add("gitlab-token", "CI_TOKEN: "+t, t)
		t = g.Token("openai-key")
		add("openai-key", `curl https://api.openai.com/v1/models -H "Authorization: Bearer `+t+`"`, t)
		t = g.Token("openai-key")
		add("openai-key", "OPENAI_API_KEY="+t, t)
		t = g.Token("anthropic-key")
		add("anthropic-key", `client = anthropic.Anthropic(api_key="`+t+`")`, t)
		t = g.Token("npm-token")
		add("npm-token", "//registry.npmjs.org/:_authToken="+t, t)
		t = g.Token("twilio-credential")
		add("twilio-credential", "TWILIO_API_KEY="+t, t)
		t = g.hexs(32)
		add("twilio-credential", "TWILIO_AUTH_TOKEN="+t, t)
		t = g.Token("mailgun-key")
		add("mailgun-key", `mg = Mailgun(domain, "`+t+`")`, t)
		t = g.hexs(32) + "-" + g.hexs(8) + "-" + g.hexs(8)
		add("mailgun-key", "MAILGUN_API_KEY="+t, t)
		t = g.uuid()
		add("postmark-token", `  postmark_server_token: "`+t+`"`, t)
		t = g.Token("resend-key")
		add("resend-key", `const resend = new Resend("`+t+`");`, t)
		t = g.hexs(32)
		add("sentry-dsn", "SENTRY_DSN=https://"+g.hexs(32)+":"+t+"@o"+g.pick("0123456789", 6)+".ingest.sentry.io/"+g.pick("0123456789", 7), t)
		t = g.hexs(32)
		add("datadog-key", "DD_API_KEY="+t, t)
		t = g.hexs(40)
		add("datadog-key", `datadog_app_key = "`+t+`"`, t)
		t = g.base64Key(64)
		add("azure-storage-key", "AZURE_STORAGE_CONNECTION_STRING=DefaultEndpointsProtocol=https;AccountName=acmeportal;AccountKey="+t+";EndpointSuffix=core.windows.net", t)
		t = g.Token("heroku-key")
		add("heroku-key", "HEROKU_API_KEY="+t, t)
		t = g.uuid()
		add("heroku-key", "heroku_api_key: "+t, t)
		t = g.Token("digitalocean-token")
		add("digitalocean-token", `do_token = "`+t+`"`, t)
		t = g.Token("shopify-token")
		add("shopify-token", "SHOPIFY_ACCESS_TOKEN="+t, t)
		t = g.Token("vault-token")
		add("vault-token", "VAULT_TOKEN="+t, t)
		t = g.JWT()
		add("jwt", "Authorization: Bearer "+t, t)
		t = g.PEM()
		add("private-key", t, t)
		t = `-----BEGIN ` + `PRIVATE KEY-----\n` + g.pick(b64std, 64) + `\n` + g.pick(b64std, 64) + `\n-----END ` + `PRIVATE KEY-----\n`
		add("private-key", `  "private_key": "`+t+`",`, t)
		t = g.Password()
		add("url-password", "DATABASE_URL=postgres://app:"+t+"@db.internal:5432/portal", t)
		t = g.Password()
		add("dsn-password", `dsn := "portal:`+t+`@tcp(db.internal:3306)/portal?parseTime=true"`, t)
		t = g.Password()
		add("cli-password", "mysql -h db.internal -u root -p'"+t+"' portal < dump.sql", t)
		t = g.Password()
		add("cli-password", "sshpass -p '"+t+"' ssh deploy@10.0.4.12", t)
		t = g.Password()
		add("xml-password", "      <password>"+t+"</password>", t)
		t = g.Password()
		add("secret-assignment", "login failed for user 42 with password="+t, t)
		t = g.hexs(64)
		add("secret-assignment", "SECRET_KEY="+t, t)
		t = g.hexs(128)
		add("secret-assignment", "  secret_key_base: "+t, t)
		t = g.base64Key(32)
		add("secret-assignment", "APP_KEY=base64:"+t, t)
		t = g.base64Key(32)
		add("secret-assignment", `ENCRYPTION_KEY="`+t+`"`, t)
		t = g.pick("abcdefghijklmnopqrstuvwxyz0123456789!@#%^&*-_=+", 50)
		add("secret-assignment", `SECRET_KEY = '`+t+`'`, t)
		t = g.pick(alnum, 32)
		add("secret-assignment", `      - JWT_SECRET=`+t, t)
		t = g.Password()
		add("secret-assignment", `  "db_password": "`+t+`",`, t)
		t = g.pick(b64url, 40)
		add("secret-assignment", `const apiKey = "`+t+`";`, t)
		t = g.pick(b64url, 32)
		add("secret-assignment", `webhook_secret = "`+t+`"`, t)
		t = g.Password()
		add("secret-assignment", `'password' => '`+t+`',`, t)
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

// awsDocExample is the secret access key of AWS's documentation examples.
var awsDocExample = strings.Join([]string{"wJalrXUtnFEMI", "K7MDENG", "bPxRfiCYEXAMPLEKEY"}, "/")

// Benign returns n rounds of look-alikes that no secret detector may flag:
// placeholders, references, documentation examples, hashes, identifiers,
// error messages and IDs in the shapes of the secrets above. Detector is
// empty; Like names the class each imitates.
func (g *Gen) Benign(n int) []Sample {
	var out []Sample
	add := func(like, text string) { out = append(out, Sample{Text: text, Like: like}) }
	for i := 0; i < n; i++ {
		u := g.pick(hexchar, 32)
		add("secret-assignment", fmt.Sprintf("request id %s-%s-%s-%s-%s", u[:8], u[8:12], u[12:16], u[16:20], u[20:]))
		add("secret-assignment", "commit "+g.pick(hexchar, 40)+" merged")
		sum := make([]byte, 32)
		for j := range sum {
			sum[j] = byte(g.r.IntN(256))
		}
		add("secret-assignment", `"integrity": "sha256-`+base64.StdEncoding.EncodeToString(sum)+`"`)
		sum = append(sum, sum...)
		add("secret-assignment", `"integrity": "sha512-`+base64.StdEncoding.EncodeToString(sum)+`"`)
		add("private-key", `<img src="data:image/png;base64,iVBORw0KGgo`+g.pick(b64std, 120)+`==">`)
		add("card-number", "order number "+g.Card("1", 16)+" shipped")
		add("secret-assignment", "password=${DB_PASSWORD}")
		add("secret-assignment", "api_key: <YOUR_KEY>")
		add("secret-assignment", `password := os.Getenv("DB_PASSWORD")`)
		add("url-password", "DATABASE_URL=postgres://app:${DB_PASS}@db.internal/portal")
		add("url-password", "DATABASE_URL=postgres://user:password@localhost:5432/dev")
		add("secret-assignment", "token: changeme")
		add("aws-access-key-id", "aws_access_key_id = AKIAIOSFODNN7"+"EXAMPLE")
		add("aws-secret-access-key", "aws_secret_access_key = "+awsDocExample)
		add("github-token", "ghp_"+g.pick(alnum, 36)) // checksum does not match
		add("secret-assignment", "sha "+hex.EncodeToString(sum[:20])+" at 2026-11-28T15:03:13Z, build 1.24.11")
		add("secret-assignment", "https://portal.example.com/api/clients/"+g.pick("0123456789", 6)+"/tickets?page=2")
		add("secret-assignment", "user_id="+g.pick("0123456789", 9)+" status=200 bytes="+g.pick("0123456789", 5))
		add("slack-token", "SLACK_BOT_TOKEN=xoxb-your-token")
		add("anthropic-key", "ANTHROPIC_API_KEY=sk-ant-...")
		add("openai-key", "OPENAI_API_KEY=sk-proj-...")
		add("openai-key", `export OPENAI_API_KEY="sk-xxxxxxxxxxxxxxxxxxxxxxxx"`)
		add("stripe-key", "STRIPE_SECRET_KEY=sk_live_your_key_here")
		add("github-token", "GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}")
		add("secret-assignment", "	token := cfg.GitHubToken")
		add("secret-assignment", "	apiKey := settings.OpenAIKey")
		add("secret-assignment", `	return errors.New("token: malformed")`)
		add("secret-assignment", `	return fmt.Errorf("password: %w", ErrTooShort)`)
		add("secret-assignment", `log.Printf("refresh token=%s expired", tokenID)`)
		add("secret-assignment", `  secret_key = var.aws_secret_key`)
		add("secret-assignment", `SECRET_KEY={{ .Values.secretKey }}`)
		add("secret-assignment", `  "apiKey": "<API_KEY>",`)
		add("secret-assignment", `idempotency_key: "`+g.uuid()+`"`)
		add("secret-assignment", `cache_key = "client:`+g.pick("0123456789", 5)+`:tickets"`)
		add("secret-assignment", `next_page_token: "`+g.pick(b64url, 40)+`"`)
		add("secret-assignment", `tokenizer = AutoTokenizer.from_pretrained("bert-base-uncased")`)
		add("secret-assignment", `password_hash: "$2a$12$`+g.pick(b64url, 53)+`"`)
		add("secret-assignment", `PUBLIC_KEY_ID=`+g.hexs(16))
		add("secret-assignment", `SESSION_SECRET=changeme-in-production`)
		add("secret-assignment", `	"no secret": "otpauth://totp/Acme:ada?issuer=Acme",`)
		add("secret-assignment", `  token_url: "https://oauth2.example.com/v1/token?audience=portal"`)
		add("secret-assignment", `api_key = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"`)
		add("secret-assignment", `password: "********"`)
		add("secret-assignment", `DJANGO_SECRET_KEY=$DJANGO_SECRET_KEY`)
		add("secret-assignment", `label: "Password:" placeholder="Your password"`)
		add("npm-token", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}")
		add("twilio-credential", "TWILIO_ACCOUNT_SID=ACxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
		add("twilio-credential", "TWILIO_AUTH_TOKEN=your_auth_token")
		add("cli-password", "mysql -h db.internal -u root -p portal")
		add("cli-password", `mysql -u root -p"$MYSQL_ROOT_PASSWORD" portal`)
		add("cli-password", `sshpass -p "$DEPLOY_PASS" ssh deploy@10.0.4.12`)
		add("xml-password", "<password>${db.password}</password>")
		add("dsn-password", `dsn := fmt.Sprintf("%s:%s@tcp(%s)/%s", user, pass, host, db)`)
		add("private-key", "-----BEGIN "+"PRIVATE KEY-----\n...\n-----END "+"PRIVATE KEY-----")
		add("email", "git remote add origin git@github.com:acme/portal.git")
		add("vault-token", "VAULT_TOKEN=hvs.XXXXXXXXXXXXXXXXXXXXXXXX")
		add("sentry-dsn", "SENTRY_DSN=https://"+g.hexs(32)+"@o"+g.pick("0123456789", 6)+".ingest.sentry.io/"+g.pick("0123456789", 7))
		add("heroku-key", "heroku_app_name: acme-portal-staging")
		add("jwt", "header eyJhbGciOiJIUzI1NiJ9 only")
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
