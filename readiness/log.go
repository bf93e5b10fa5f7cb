package readiness

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/launchready/launchready/redact"
)

// Logging is the configured logging check (LOG001, LOG004): the app's
// logger must redact (its handler chain reaches a redact.Handler, walked
// through handlers with an Unwrap() slog.Handler method), and must not log
// at debug level in production. Put it in Target.Checks:
//
//	readiness.Logging{Logger: logger}
type Logging struct {
	// Logger is the app's logger. Nil means the app logs nothing.
	Logger *slog.Logger
}

// Name implements Check.
func (l Logging) Name() string { return "logging" }

// Run implements Check.
func (l Logging) Run(ctx context.Context, in *Inspection) []Finding {
	if l.Logger == nil {
		return nil
	}
	var out []Finding
	if !Redacting(l.Logger) {
		out = append(out, Finding{ID: "LOG001", Severity: Blocker,
			Seen: fmt.Sprintf("the app logger's handler (%T) does not redact secrets or personal data", l.Logger.Handler()),
			Fix:  "wrap the handler: slog.New(redact.NewHandler(slog.NewJSONHandler(os.Stdout, nil), nil))"})
	}
	if in.Env() == Production && l.Logger.Enabled(ctx, slog.LevelDebug) {
		out = append(out, Finding{ID: "LOG004", Severity: Warning,
			Seen: "the app logger records debug messages in production",
			Fix:  "set the handler's Level to slog.LevelInfo (or higher) in production"})
	}
	return out
}

// Redacting reports whether the logger's handler chain includes a
// redact.Handler (or discards everything).
func Redacting(l *slog.Logger) bool {
	if l == nil {
		return true
	}
	h := l.Handler()
	for i := 0; h != nil && i < 32; i++ {
		switch t := h.(type) {
		case *redact.Handler:
			return true
		case interface{ Unwrap() slog.Handler }:
			h = t.Unwrap()
			continue
		}
		break
	}
	return h == slog.DiscardHandler
}

// accessLogger is what LOG003 reads from access-log middleware found by
// walking; redact.AccessLog implements it, and third-party access loggers can.
type accessLogger interface {
	http.Handler
	LogsQuery() bool
	LogsHeaders() bool
}

func init() {
	registerBuiltin("logging", func(_ context.Context, in *Inspection) []Finding {
		var out []Finding
		chains := [][]http.Handler{in.Chain}
		routes := []string{""}
		for _, r := range in.Routes {
			chains = append(chains, r.Chain)
			routes = append(routes, r.Pattern)
		}
		for i, chain := range chains {
			for _, al := range FindAll[accessLogger](chain) {
				if al.LogsQuery() || al.LogsHeaders() {
					out = append(out, Finding{ID: "LOG003", Severity: Warning, Route: routes[i],
						Seen: fmt.Sprintf("access log %T records raw query strings or request headers (reset tokens, API keys and cookies travel there)", al),
						Fix:  "log the route pattern instead of the raw URL and no headers; redact.NewAccessLog does"})
				}
				// A line-writing access log (redact.NewAccessLogWriter) redacts
				// every field itself and has no Logger to inspect.
				if rl, ok := al.(*redact.AccessLog); ok && rl.Writer() == nil && !Redacting(rl.Logger()) {
					out = append(out, Finding{ID: "LOG001", Severity: Blocker, Route: routes[i],
						Seen: "the access log writes through a handler that does not redact",
						Fix:  "give AccessLogConfig.Logger a logger built on redact.NewHandler, or write lines with redact.NewAccessLogWriter"})
				}
				// A batched access log (redact.BatchWriter) that had to drop
				// lines: the log is incomplete (seen on the admin scorecard
				// of a running portal; zero at boot).
				if rl, ok := al.(*redact.AccessLog); ok {
					if q, ok := rl.Writer().(interface{ Dropped() uint64 }); ok && q.Dropped() > 0 {
						out = append(out, Finding{ID: "LOG005", Severity: Warning, Route: routes[i],
							Seen: fmt.Sprintf("the access log dropped %d line(s): its queue was full, the log writer too slow for the traffic", q.Dropped()),
							Fix:  "make the log destination faster (a local file, not a slow pipe) or raise redact.BatchConfig.QueueBytes; alert on the log_dropped counter"})
					}
				}
			}
		}
		return out
	})
}
