module github.com/launchready/launchready/examples

go 1.25.0

require github.com/launchready/launchready v0.0.0

require golang.org/x/crypto v0.55.0 // indirect

replace github.com/launchready/launchready => ..
