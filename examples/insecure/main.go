// Command insecure is the example portal wired the way rushed apps are: a
// public admin route, an {id} route without a tenant check, wildcard CORS
// with credentials, no login limit, passwords in the log, a plain session
// cookie without idle timeout, a hard-coded API key, no server timeouts,
// pprof on the default mux. It runs the same readiness gate as the real
// portal, which refuses to boot it:
//
//	go run ./examples/insecure        # prints each blocker by ID, exits 1
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/launchready/launchready/examples/portalapp"
	"github.com/launchready/launchready/readiness"
)

func main() {
	env := readiness.Production
	if len(os.Args) > 1 && (os.Args[1] == "-env=development" || os.Args[1] == "-dev") {
		env = readiness.Development
	}
	p, err := portalapp.BuildInsecure(portalapp.Options{Env: env, Addr: "127.0.0.1:8080", Log: os.Stderr, OutboxDir: os.TempDir()})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	err = readiness.Launch(context.Background(), p.Target, os.Stdout, readiness.ServeOptions{})
	var blocked *readiness.BlockedError
	if errors.As(err, &blocked) {
		fmt.Fprintln(os.Stderr, "\ninsecure portal: refusing to boot. Blockers:")
		for _, f := range blocked.Report.Blockers() {
			where := ""
			if f.Route != "" {
				where = " [" + f.Route + "]"
			}
			fmt.Fprintf(os.Stderr, "  %s%s: %s\n", f.ID, where, f.Seen)
		}
		os.Exit(1)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// Unreachable while the kit works: the gate refuses this wiring.
	fmt.Fprintln(os.Stderr, "insecure portal: the gate let it boot; the kit has a gap")
	os.Exit(3)
}
