// Command insecure is the example portal wired the way rushed apps are: a
// public admin route, an {id} route without a tenant check, wildcard CORS
// with credentials, no login limit, passwords in the log, a plain session
// cookie without idle timeout, a hard-coded API key, no server timeouts,
// pprof on the default mux. It runs the same readiness gate as the real
// portal, which refuses to boot it:
//
//	go run ./examples/insecure        # prints each blocker by ID, exits 1
//
// The planted flaws and the checks that catch them are listed in
// portalapp/insecure.go.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/launchready/launchready/examples/portalapp"
	"github.com/launchready/launchready/readiness"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	env := readiness.Production // it is launch day
	if len(args) > 0 && (args[0] == "-env=development" || args[0] == "-dev") {
		env = readiness.Development
	}
	p, err := portalapp.BuildInsecure(portalapp.Options{Env: env, Addr: "127.0.0.1:8080", Log: stderr, OutboxDir: os.TempDir()})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	err = readiness.Launch(context.Background(), p.Target, stdout, readiness.ServeOptions{})
	var blocked *readiness.BlockedError
	if errors.As(err, &blocked) {
		fmt.Fprintln(stderr, "\ninsecure portal: refusing to boot. Blockers:")
		for _, f := range blocked.Report.Blockers() {
			where := ""
			if f.Route != "" {
				where = " [" + f.Route + "]"
			}
			fmt.Fprintf(stderr, "  %s%s: %s\n", f.ID, where, f.Seen)
		}
		return 1
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	// Unreachable while the kit works: the gate refuses this wiring.
	fmt.Fprintln(stderr, "insecure portal: the gate let it boot; the kit has a gap")
	return 3
}
