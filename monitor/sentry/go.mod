module github.com/launchready/launchready/monitor/sentry

go 1.25.0

require (
	github.com/getsentry/sentry-go v0.50.0
	github.com/launchready/launchready v0.0.0
	github.com/stretchr/testify v1.12.1
)

require (
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/sys v0.47.0 // indirect
	golang.org/x/text v0.41.0 // indirect
)

replace github.com/launchready/launchready => ../..
