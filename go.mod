module github.com/launchready/launchready

go 1.25.0

require (
	blitiri.com.ar/go/spf v1.6.0
	github.com/alexedwards/scs/v2 v2.9.0
	github.com/emersion/go-msgauth v0.7.0
	github.com/go-playground/validator/v10 v10.30.4
	github.com/miekg/dns v1.1.73
	github.com/pquerna/otp v1.5.0
	github.com/rs/cors v1.11.1
	github.com/sony/gobreaker/v2 v2.4.0
	github.com/stretchr/testify v1.12.1
	go.yaml.in/yaml/v3 v3.0.5
	golang.org/x/text v0.41.0
	golang.org/x/time v0.15.0
)

require (
	github.com/boombuler/barcode v1.0.1-0.20190219062509-6c824513bacc // indirect
	github.com/gabriel-vasile/mimetype v1.4.16 // indirect
	github.com/go-playground/locales v0.14.2 // indirect
	github.com/go-playground/universal-translator v0.18.1 // indirect
	github.com/leodido/go-urn v1.5.0 // indirect
	golang.org/x/crypto v0.55.0 // indirect
	golang.org/x/net v0.58.0 // indirect
	golang.org/x/sys v0.47.0 // indirect
)
