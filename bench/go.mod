module github.com/launchready/launchready/bench

go 1.25.0

require (
	github.com/alexedwards/scs/v2 v2.9.0
	github.com/go-playground/validator/v10 v10.30.4
	github.com/launchready/launchready v0.0.0
	github.com/launchready/launchready/ratelimit/redisstore v0.0.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/dgryski/go-rendezvous v0.0.0-20200823014737-9f7001d12a5f // indirect
	github.com/gabriel-vasile/mimetype v1.4.16 // indirect
	github.com/go-chi/chi/v5 v5.2.3
	github.com/go-chi/httprate v0.16.1
	github.com/go-playground/locales v0.14.2 // indirect
	github.com/go-playground/universal-translator v0.18.1 // indirect
	github.com/klauspost/cpuid/v2 v2.2.10 // indirect
	github.com/leodido/go-urn v1.5.0 // indirect
	github.com/pkg/errors v0.9.1 // indirect
	github.com/redis/go-redis/v9 v9.17.3
	github.com/rs/cors v1.11.1
	github.com/sethvargo/go-limiter v0.7.1
	github.com/stretchr/testify v1.12.1 // indirect
	github.com/ulule/limiter/v3 v3.11.2
	github.com/unrolled/secure v1.18.0
	github.com/zeebo/xxh3 v1.0.2 // indirect
	golang.org/x/crypto v0.55.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/text v0.41.0 // indirect
	golang.org/x/time v0.15.0
)

replace github.com/launchready/launchready => ..

replace github.com/launchready/launchready/ratelimit/redisstore => ../ratelimit/redisstore
