// Package prometheus exports the monitor package's counters through
// prometheus/client_golang, so 5xx spikes and authentication-failure floods
// page someone instead of waiting for a support ticket (scorecard item 10,
// Monitoring coverage; readiness check MON003).
//
// Use it in three lines:
//
//	counters := monitor.NewCounters()
//	prometheus.MustRegister(monprom.NewCollector(counters))
//	adminMux.Handle("GET /metrics", promhttp.Handler()) // behind auth or on an internal port
//
// It exports one counter family,
//
//	launchready_http_events_total{kind="5xx|auth_failure|denied|rate_limited|cross_origin|log_dropped", route="GET /api/clients/{id}"}
//
// labelled by route pattern (bounded by the number of registered routes;
// "" for requests that matched none). Values are read from the in-process
// counters at scrape time; nothing is copied or double-counted.
//
// # Alert rules
//
// Example Prometheus alerting rules (also in rules.yml next to this file):
//
//	groups:
//	- name: launchready
//	  rules:
//	  - alert: Portal5xxSpike
//	    # more than 1% of requests failing? We count only failures, so alert on
//	    # an absolute rate: over 0.2 server errors per second for 5 minutes.
//	    expr: sum(rate(launchready_http_events_total{kind="5xx"}[5m])) > 0.2
//	    for: 5m
//	    labels: {severity: page}
//	    annotations:
//	      summary: "5xx spike on {{ $labels.route }}"
//	  - alert: PortalAuthFailuresAboveBaseline
//	    # 401s in the last 15 minutes over three times the same window a week
//	    # ago (and at least 1/s): credential stuffing or broken logins.
//	    expr: |
//	      sum(rate(launchready_http_events_total{kind="auth_failure"}[15m]))
//	        > 3 * sum(rate(launchready_http_events_total{kind="auth_failure"}[15m] offset 1w))
//	      and sum(rate(launchready_http_events_total{kind="auth_failure"}[15m])) > 1
//	    for: 10m
//	    labels: {severity: page}
//	    annotations:
//	      summary: "authentication failures far above last week's baseline"
package prometheus
