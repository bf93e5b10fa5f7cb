module github.com/launchready/launchready/examples

go 1.25.0

require github.com/launchready/launchready v0.0.0

replace github.com/launchready/launchready => ..
