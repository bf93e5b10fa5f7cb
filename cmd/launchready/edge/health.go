package edge

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/launchready/launchready/readiness"
)

// healthLeaks are what an anonymous health answer must not carry: stack
// traces, source paths, connection strings, versions, private addresses.
var healthLeaks = []struct {
	re   *regexp.Regexp
	what string
}{
	{regexp.MustCompile(`goroutine \d+ \[|panic: `), "a stack trace"},
	{regexp.MustCompile(`\.go:\d+`), "Go source positions"},
	{regexp.MustCompile(`(?i)\b(postgres|postgresql|mysql|redis|rediss|mongodb|amqp)://`), "a connection string"},
	{regexp.MustCompile(`\bgo1\.\d+`), "the Go version"},
	{regexp.MustCompile(`(?i)"(version|commit|revision|hostname|host|uptime|goroutines|memory|dsn)"\s*:`), "build or host details"},
	{regexp.MustCompile(`\b(10\.\d{1,3}|172\.(1[6-9]|2\d|3[01])|192\.168)\.\d{1,3}\.\d{1,3}\b`), "a private address"},
	{regexp.MustCompile(`(?i)(password|secret|token)\s*[=:]`), "something secret-shaped"},
	{regexp.MustCompile(`(?i)\b(connection refused|i/o timeout|no such host|dial tcp)\b`), "a dependency's error message"},
}

// checkHealth: each health path answers 200 (MON001), within SlowHealth
// (EDGE008), and without internals (MON004).
func (s *scan) checkHealth(ctx context.Context) {
	for _, p := range s.c.cfg.HealthPaths {
		res, err := s.c.do(ctx, s.client, http.MethodGet, s.c.url(p), nil, nil)
		if err != nil {
			s.unverified("the health endpoint "+p, err)
			continue
		}
		route := "GET " + p
		add := func(f readiness.Finding) {
			f.Route = route
			s.add(f)
		}
		if res.status != http.StatusOK {
			add(finding("MON001", readiness.Blocker,
				fmt.Sprintf("the health endpoint %s answered %d to an anonymous GET: the load balancer and uptime monitor see the portal as down (or the path is wrong)", p, res.status),
				"serve liveness and readiness (monitor.Liveness, monitor.Readiness) publicly at the paths your load balancer probes, or pass the right ones with -health"))
		}
		if res.elapsed > SlowHealth {
			add(finding("EDGE008", readiness.Warning,
				fmt.Sprintf("the health endpoint %s took %v: load balancers time out health checks after a few seconds", p, res.elapsed.Round(time.Millisecond)),
				"answer health checks from cached state; give each dependency ping a short timeout"))
		}
		var leaks []string
		for _, l := range healthLeaks {
			if l.re.Match(res.body) {
				leaks = append(leaks, l.what)
			}
		}
		if len(leaks) > 0 {
			add(finding("MON004", readiness.Warning,
				fmt.Sprintf("the anonymous answer of %s shows %s", p, strings.Join(leaks, ", ")),
				"answer anonymous callers with \"ok\"/\"ready\" only (monitor.Readiness does); show details to admins"))
		}
	}
}

// checkSecurityTxt: /.well-known/security.txt (RFC 9116) with a Contact
// and an Expires in the future (EDGE009, a warning).
func (s *scan) checkSecurityTxt(ctx context.Context) {
	const p = "/.well-known/security.txt"
	fix := "publish /.well-known/security.txt with Contact: and an Expires: under a year ahead (RFC 9116), and renew it before it expires"
	res, err := s.c.do(ctx, s.client, http.MethodGet, s.c.url(p), nil, nil)
	if err != nil {
		s.unverified(p, err)
		return
	}
	warn := func(seen string) {
		f := finding("EDGE009", readiness.Warning, seen, fix)
		f.Route = "GET " + p
		s.add(f)
	}
	if res.status != http.StatusOK || !notHTML(res.body) {
		warn(fmt.Sprintf("no security.txt (status %d): a researcher who finds a hole has no way to tell you", res.status))
		return
	}
	st, err := ParseSecurityTxt(res.body)
	if err != nil {
		warn("security.txt is invalid: " + err.Error())
		return
	}
	if now := s.c.cfg.Now(); !st.Expires.After(now) {
		warn(fmt.Sprintf("security.txt expired on %s", st.Expires.UTC().Format(time.DateOnly)))
	}
}
