module github.com/launchready/launchready/monitor/prometheus

go 1.25.0

require github.com/launchready/launchready v0.0.0

require github.com/prometheus/client_golang v1.23.2 // indirect

replace github.com/launchready/launchready => ../..
