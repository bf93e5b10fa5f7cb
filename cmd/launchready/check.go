package main

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/launchready/launchready/cmd/launchready/edge"
	"github.com/launchready/launchready/readiness"
)

func init() {
	commands = append(commands, command{name: "check", summary: "the launch scorecard of a deployed portal, seen from outside (TLS, redirect, headers, exposures, DNS, latency)", run: runCheck})
}

// Environment variables with the optional sign-in (never flags: flags end
// up in shell history and process lists).
const (
	envCheckEmail    = "LAUNCHREADY_CHECK_EMAIL"
	envCheckPassword = "LAUNCHREADY_CHECK_PASSWORD"
)

func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("check", stderr)
	format := fs.String("format", "text", "report format: "+formats)
	envName := fs.String("env", "production", "production, or development (production-only blockers become warnings)")
	caFile := fs.String("ca", "", "PEM file of the CA (or self-signed certificate) to trust instead of the system roots")
	httpURL := fs.String("http", "", "plain-http URL whose redirect is checked (default http://<host>/; \"off\" to skip)")
	api := fs.String("api", "/api/me", "an API path whose headers and CORS answers are graded")
	health := fs.String("health", "/healthz,/readyz", "comma-separated health paths")
	loginPage := fs.String("login-page", "/", "the HTML login page")
	login := fs.String("login", "/api/login", "the JSON login route, used with "+envCheckEmail+" and "+envCheckPassword)
	authPath := fs.String("auth-path", "", "an authenticated GET path to time when signed in (default -api)")
	dnsAddr := fs.String("dns", "", "resolver host:port for every lookup (default: the system resolver)")
	mailDomain := fs.String("mail-domain", "", "the sending (From) domain whose SPF, DKIM and DMARC are checked")
	selectors := fs.String("dkim-selector", "", "comma-separated DKIM selectors of the sending service (with -mail-domain)")
	spfInclude := fs.String("spf-include", "", "the sending service's SPF include (with -mail-domain)")
	sendingIPs := fs.String("sending-ip", "", "comma-separated sending addresses (with -mail-domain)")
	seq := fs.Int("n", edge.DefaultSequential, "sequential GETs for the latency check (0: none)")
	conc := fs.Int("c", edge.DefaultConcurrent, "concurrent GETs for the latency check (0: none)")
	par := fs.Int("parallel", edge.DefaultParallelism, "how many of the concurrent GETs run at a time")
	maxReq := fs.Int("max-requests", edge.DefaultMaxRequests, "upper bound on the HTTP requests of one run")
	timeout := fs.Duration("timeout", edge.DefaultTimeout, "timeout of each request, handshake and DNS query")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: launchready check [flags] https://portal.example.com")
		fmt.Fprintln(stderr, "\nRead-only: GET, HEAD and OPTIONS only (one POST to -login when "+envCheckEmail+" and "+envCheckPassword+" are set).")
		fmt.Fprintln(stderr, "Exit codes: 0 no blockers, 1 blockers, 2 could not run.")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(stderr, "launchready check: give exactly one URL, e.g. launchready check https://portal.example.com")
		return exitCantRun
	}
	switch *format {
	case "text", "json", "sarif":
	default:
		fmt.Fprintf(stderr, "launchready check: unknown -format %q: use one of %s\n", *format, formats)
		return exitCantRun
	}
	env, err := readiness.ParseEnv(*envName)
	if err != nil {
		fmt.Fprintln(stderr, "launchready check: -env:", err)
		return exitCantRun
	}
	cfg := edge.Config{
		URL: fs.Arg(0), HTTPURL: *httpURL, APIPath: *api, HealthPaths: splitList(*health),
		LoginPage: *loginPage, LoginPath: *login, AuthPath: *authPath, DNS: *dnsAddr,
		MailDomain: *mailDomain, DKIMSelectors: splitList(*selectors), SPFInclude: *spfInclude,
		Sequential: *seq, Concurrent: *conc, Parallelism: *par, MaxRequests: *maxReq, Timeout: *timeout,
	}
	if cfg.Sequential == 0 { // on the command line 0 means none; in Config it means the default
		cfg.Sequential = -1
	}
	if cfg.Concurrent == 0 {
		cfg.Concurrent = -1
	}
	if *httpURL == "off" {
		cfg.HTTPURL, cfg.SkipHTTP = "", true
	}
	if *timeout <= 0 {
		fmt.Fprintln(stderr, "launchready check: -timeout must be positive, e.g. 10s")
		return exitCantRun
	}
	for _, s := range splitList(*sendingIPs) {
		ip, err := netip.ParseAddr(s)
		if err != nil {
			fmt.Fprintf(stderr, "launchready check: -sending-ip %q is not an IP address\n", s)
			return exitCantRun
		}
		cfg.SendingIPs = append(cfg.SendingIPs, ip)
	}
	if *caFile != "" {
		pem, err := os.ReadFile(*caFile)
		if err != nil {
			fmt.Fprintln(stderr, "launchready check: -ca:", err)
			return exitCantRun
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			fmt.Fprintf(stderr, "launchready check: -ca %s holds no PEM certificate\n", *caFile)
			return exitCantRun
		}
	}
	email, password := os.Getenv(envCheckEmail), os.Getenv(envCheckPassword)
	if (email == "") != (password == "") {
		fmt.Fprintf(stderr, "launchready check: set both %s and %s, or neither\n", envCheckEmail, envCheckPassword)
		return exitCantRun
	}
	if email != "" {
		cfg.Credentials = &edge.Credentials{Email: email, Password: password}
	}
	checker, err := edge.New(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "launchready check:", err)
		return exitCantRun
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	findings, err := checker.Run(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "launchready check:", err)
		return exitCantRun
	}
	code, err := writeReport(stdout, readiness.NewReport(env, findings), *format)
	if err != nil {
		fmt.Fprintln(stderr, "launchready check:", err)
	}
	return code
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
