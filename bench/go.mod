module github.com/launchready/launchready/bench

go 1.25.0

require (
	github.com/alexedwards/scs/v2 v2.9.0
	github.com/launchready/launchready v0.0.0
)

require (
	github.com/go-chi/chi/v5 v5.2.3
	github.com/stretchr/testify v1.12.1 // indirect
)

replace github.com/launchready/launchready => ..
