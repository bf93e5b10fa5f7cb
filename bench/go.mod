module github.com/launchready/launchready/bench

go 1.25.0

require (
	github.com/alexedwards/scs/v2 v2.9.0
	github.com/go-playground/validator/v10 v10.30.4
	github.com/launchready/launchready v0.0.0
)

require (
	github.com/rs/cors v1.11.1
	github.com/stretchr/testify v1.12.1 // indirect
	github.com/unrolled/secure v1.18.0
	github.com/go-chi/chi/v5 v5.2.3
	github.com/gabriel-vasile/mimetype v1.4.16 // indirect
	github.com/go-playground/locales v0.14.2 // indirect
	github.com/go-playground/universal-translator v0.18.1 // indirect
	github.com/leodido/go-urn v1.5.0 // indirect
	golang.org/x/crypto v0.55.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/text v0.41.0 // indirect
	github.com/bmatcuk/doublestar/v4 v4.6.1 // indirect
	github.com/casbin/casbin/v2 v2.135.0
	github.com/casbin/govaluate v1.3.0 // indirect
	github.com/google/uuid v1.6.0 // indirect
)

replace github.com/launchready/launchready => ..
