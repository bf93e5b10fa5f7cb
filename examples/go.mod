module github.com/launchready/launchready/examples

go 1.25.0

require (
	github.com/go-playground/validator/v10 v10.30.4 // indirect
	github.com/launchready/launchready v0.0.0
	github.com/miekg/dns v1.1.73
	github.com/rs/cors v1.11.1
	github.com/stretchr/testify v1.12.1
	go.uber.org/goleak v1.3.0
)

require (
	github.com/boombuler/barcode v1.0.1-0.20190219062509-6c824513bacc // indirect
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/chromedp/cdproto v0.159.0 // indirect
	github.com/chromedp/chromedp v0.23.0 // indirect
	github.com/dgryski/go-rendezvous v0.0.0-20200823014737-9f7001d12a5f // indirect
	github.com/go-json-experiment/json v0.0.0-20260213210345-44df1a37e875 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/puddle/v2 v2.2.3 // indirect
	github.com/pquerna/otp v1.5.0 // indirect
	github.com/sony/gobreaker/v2 v2.4.0 // indirect
	golang.org/x/net v0.58.0 // indirect
	golang.org/x/sync v0.22.0 // indirect
	golang.org/x/time v0.15.0 // indirect
)

require (
	blitiri.com.ar/go/spf v1.6.0 // indirect
	github.com/alexedwards/scs/v2 v2.9.0
	github.com/emersion/go-msgauth v0.7.0 // indirect
	github.com/gabriel-vasile/mimetype v1.4.16 // indirect
	github.com/go-playground/locales v0.14.2 // indirect
	github.com/go-playground/universal-translator v0.18.1 // indirect
	github.com/leodido/go-urn v1.5.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/crypto v0.55.0
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/text v0.41.0 // indirect
)

replace github.com/launchready/launchready => ..

require github.com/launchready/launchready/e2e v0.0.0

replace github.com/launchready/launchready/e2e => ../e2e

require (
	github.com/jackc/pgx/v5 v5.13.0
	github.com/launchready/launchready/audit/postgres v0.0.0
	github.com/launchready/launchready/ratelimit/redisstore v0.0.0
	github.com/launchready/launchready/session/redisstore v0.0.0
	github.com/redis/go-redis/v9 v9.17.3
)

replace (
	github.com/launchready/launchready/audit/postgres => ../audit/postgres
	github.com/launchready/launchready/ratelimit/redisstore => ../ratelimit/redisstore
	github.com/launchready/launchready/session/redisstore => ../session/redisstore
)

require (
	github.com/go-chi/chi/v5 v5.2.3
	github.com/launchready/launchready/authz/chiauthz v0.0.0
)

replace github.com/launchready/launchready/authz/chiauthz => ../authz/chiauthz
