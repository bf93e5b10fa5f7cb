module github.com/launchready/launchready/bench

go 1.25.0

require (
	github.com/alexedwards/scs/v2 v2.9.0
	github.com/launchready/launchready v0.0.0
)

require (
	github.com/rs/cors v1.11.1
	github.com/stretchr/testify v1.12.1 // indirect
	github.com/unrolled/secure v1.18.0
	github.com/go-chi/chi/v5 v5.2.3
)

replace github.com/launchready/launchready => ..
