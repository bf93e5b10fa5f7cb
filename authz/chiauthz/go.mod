module github.com/launchready/launchready/authz/chiauthz

go 1.25.0

require (
	github.com/go-chi/chi/v5 v5.2.3
	github.com/launchready/launchready v0.0.0
	github.com/stretchr/testify v1.12.1
)

require (
	github.com/alexedwards/scs/v2 v2.9.0 // indirect
	github.com/gabriel-vasile/mimetype v1.4.16 // indirect
	github.com/go-playground/locales v0.14.2 // indirect
	github.com/go-playground/universal-translator v0.18.1 // indirect
	github.com/go-playground/validator/v10 v10.30.4 // indirect
	github.com/leodido/go-urn v1.5.0 // indirect
	github.com/rs/cors v1.11.1 // indirect
	github.com/sony/gobreaker/v2 v2.4.0 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/crypto v0.55.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/text v0.41.0 // indirect
	golang.org/x/time v0.15.0 // indirect
)

replace github.com/launchready/launchready => ../..
