package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/launchready/launchready/flows"
	"github.com/launchready/launchready/redact"
)

func init() {
	commands = append(commands, command{name: "monitor", summary: "in production: run the synthetic flows every few minutes, serve metrics, alert through a webhook", run: runMonitor})
}

// webhookEnv holds the alert webhook URL (a Slack URL is itself a secret).
const webhookEnv = "LAUNCHREADY_WEBHOOK_URL"

func runMonitor(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("monitor", stderr)
	file := fs.String("flows", "", "flow file (YAML, or JSON with a .json name); required")
	every := fs.Duration("every", 5*time.Minute, "interval between runs")
	jitter := fs.Float64("jitter", 0.1, "spread runs by up to this fraction of -every either side (0 to 0.5)")
	failAfter := fs.Int("fail-after", 2, "consecutive failures of a flow that raise an alert")
	listen := fs.String("listen", "", "serve Prometheus metrics at http://ADDR/metrics (e.g. 127.0.0.1:9115)")
	webhook := fs.String("webhook", "", "alert webhook URL (default $"+webhookEnv+")")
	format := fs.String("webhook-format", "slack", "webhook body: slack ({\"text\": …}) or json (every field)")
	timeout := fs.Duration("timeout", flows.DefaultStepTimeout, "default per-step timeout")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: launchready monitor -flows FILE [flags] URL...")
		fmt.Fprintln(stderr, "runs until SIGTERM or SIGINT; exit codes: 0 stopped cleanly, 2 could not run")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *file == "" || fs.NArg() == 0 {
		fs.Usage()
		return exitCantRun
	}
	if *every < time.Second || *failAfter < 1 || *jitter < 0 || *jitter > 0.5 {
		fmt.Fprintln(stderr, "launchready monitor: -every must be at least 1s, -fail-after at least 1, -jitter between 0 and 0.5")
		return exitCantRun
	}
	for _, u := range fs.Args() {
		if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			fmt.Fprintf(stderr, "launchready monitor: %q is not an http(s) URL\n", u)
			return exitCantRun
		}
	}
	f, err := flows.Load(*file)
	if err != nil {
		fmt.Fprintln(stderr, "launchready monitor:", err)
		return exitCantRun
	}
	logger := slog.New(redact.NewHandler(slog.NewJSONHandler(stderr, nil), nil))
	m := &flows.Monitor{
		Targets: fs.Args(), Flows: f.Flows, Every: *every, FailAfter: *failAfter, Logger: logger,
		Runner: flows.Runner{DefaultTimeout: *timeout, Header: http.Header{"User-Agent": {"launchready-monitor"}}},
	}
	if *jitter == 0 {
		m.Jitter = -1
	} else {
		m.Jitter = *jitter
	}
	hookURL := *webhook
	if hookURL == "" {
		hookURL = os.Getenv(webhookEnv)
	}
	if hookURL != "" {
		if !strings.HasPrefix(hookURL, "https://") && !strings.HasPrefix(hookURL, "http://") {
			fmt.Fprintln(stderr, "launchready monitor: the webhook URL must be http(s)")
			return exitCantRun
		}
		switch *format {
		case "slack", "json":
		default:
			fmt.Fprintf(stderr, "launchready monitor: -webhook-format %q: use slack or json\n", *format)
			return exitCantRun
		}
		m.Alert = &flows.Webhook{URL: hookURL, Slack: *format == "slack"}
	}

	var srv *http.Server
	serveErr := make(chan error, 1)
	if *listen != "" {
		ln, err := net.Listen("tcp", *listen)
		if err != nil {
			fmt.Fprintln(stderr, "launchready monitor: -listen:", err)
			return exitCantRun
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", m)
		srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
			WriteTimeout: 10 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 16 << 10}
		fmt.Fprintf(stdout, "metrics on http://%s/metrics\n", ln.Addr())
		go func() { serveErr <- srv.Serve(ln) }()
	}
	fmt.Fprintf(stdout, "monitoring %d flow(s) on %s every %s\n", len(f.Flows), strings.Join(fs.Args(), ", "), *every)

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	runErr := make(chan error, 1)
	go func() { runErr <- m.Run(runCtx) }()
	code := exitOK
	select {
	case err := <-runErr:
		if err != nil {
			fmt.Fprintln(stderr, "launchready monitor:", err)
			code = exitCantRun
		}
	case err := <-serveErr:
		fmt.Fprintln(stderr, "launchready monitor: metrics server:", err)
		code = exitCantRun
		stop()
		<-runErr
	}
	if srv != nil {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(stderr, "launchready monitor: metrics server:", err)
		}
	}
	fmt.Fprintln(stdout, "monitor stopped")
	return code
}
