package readiness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// DefaultShutdownTimeout is how long Serve drains in-flight requests when
// ServeOptions.ShutdownTimeout is zero.
const DefaultShutdownTimeout = 20 * time.Second

// ServeOptions configures Serve and Launch.
type ServeOptions struct {
	// Listener to serve on. Nil means listen on Server.Addr.
	Listener net.Listener
	// ShutdownTimeout bounds draining after a stop signal. Zero means
	// DefaultShutdownTimeout. Keep it below the orchestrator's kill grace
	// period (Kubernetes: 30 s by default).
	ShutdownTimeout time.Duration
	// Signals that start a graceful shutdown. Nil means SIGINT and SIGTERM.
	Signals []os.Signal
	// Logger reports start and stop. Nil discards.
	Logger *slog.Logger
	// Ready, when set, is called with the listening address once the
	// listener is open (tests use it to learn a random port).
	Ready func(addr net.Addr)
}

// Serve serves srv until ctx is cancelled or a stop signal arrives, then
// stops accepting connections and drains in-flight requests for at most
// ShutdownTimeout. It serves TLS when srv.TLSConfig carries a certificate.
// It returns nil after a clean drain.
func Serve(ctx context.Context, srv *http.Server, opts ServeOptions) error {
	if srv == nil {
		return ErrNoServer
	}
	if opts.ShutdownTimeout < 0 {
		return fmt.Errorf("readiness: ServeOptions.ShutdownTimeout is %v; use a positive duration", opts.ShutdownTimeout)
	}
	drain := opts.ShutdownTimeout
	if drain == 0 {
		drain = DefaultShutdownTimeout
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	signals := opts.Signals
	if signals == nil {
		signals = []os.Signal{os.Interrupt, syscall.SIGTERM}
	}
	ln := opts.Listener
	if ln == nil {
		addr := srv.Addr
		if addr == "" {
			addr = ":http"
		}
		var err error
		if ln, err = net.Listen("tcp", addr); err != nil {
			return fmt.Errorf("readiness: listen on %s: %w", addr, err)
		}
	}
	if opts.Ready != nil {
		opts.Ready(ln.Addr())
	}
	ctx, stop := signal.NotifyContext(ctx, signals...)
	defer stop()

	errc := make(chan error, 1)
	go func() {
		tlsOn := srv.TLSConfig != nil && (len(srv.TLSConfig.Certificates) > 0 || srv.TLSConfig.GetCertificate != nil)
		logger.Info("serving", "addr", ln.Addr().String(), "tls", tlsOn)
		if tlsOn {
			errc <- srv.ServeTLS(ln, "", "")
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	select {
	case err := <-errc:
		return fmt.Errorf("readiness: serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("draining", "timeout", drain.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), drain)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("readiness: graceful shutdown did not finish within %v: %w", drain, err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("readiness: serve: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// Launch is the boot sequence in one call: it runs the gate (writing the
// scorecard to w), refuses to serve while blockers remain, and otherwise
// serves t.Server with graceful shutdown. Target.ShutdownTimeout is taken
// from opts, so DEPLOY004 knows the drain is in place.
func Launch(ctx context.Context, t Target, w io.Writer, opts ServeOptions) error {
	if opts.ShutdownTimeout == 0 {
		opts.ShutdownTimeout = DefaultShutdownTimeout
	}
	t.ShutdownTimeout = opts.ShutdownTimeout
	if err := Gate(ctx, t, w); err != nil {
		return err
	}
	return Serve(ctx, t.Server, opts)
}
