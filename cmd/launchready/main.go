// Command launchready checks a client portal from the outside and around
// its releases, speaking the same check IDs and report formats as the
// in-process readiness package.
//
// Usage:
//
//	launchready <command> [flags] [arguments]
//
// Each command lives in its own file (check.go, scan.go, …) and is listed
// in commands below. Exit codes are shared by every command: 0 ready or
// clean, 1 blockers or findings, 2 the command could not run (bad flags,
// unreachable target, unreadable input).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/launchready/launchready/readiness"
)

// Exit codes, shared by every command.
const (
	exitOK      = 0 // ready, clean, verified
	exitFailed  = 1 // blockers, findings, a failed verification
	exitCantRun = 2 // usage error, or the command could not do its job
)

// command is one subcommand. run parses its own flags from args and
// returns the process exit code; it writes results to stdout and
// diagnostics to stderr.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

// commands lists every subcommand; each is defined in its own file.
var commands = []command{}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches to a subcommand; it is main without the process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return exitCantRun
		}
		return exitOK
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "launchready: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitCantRun
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: launchready <command> [flags] [arguments]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	sorted := append([]command(nil), commands...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	for _, c := range sorted {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "exit codes: 0 ready/clean, 1 blockers/findings, 2 could not run")
	fmt.Fprintln(w, "run 'launchready <command> -h' for a command's flags")
}

// newFlagSet returns a flag set that reports errors instead of exiting,
// so a bad flag becomes exit code 2 through the caller.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("launchready "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args and turns -h and bad flags into an exit code:
// ok is false when the caller should return code.
func parseFlags(fs *flag.FlagSet, args []string) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitCantRun, false
	}
	return 0, true
}

// formats are the report formats every reporting command accepts.
const formats = "text|json|sarif"

// writeReport writes r in the named format (text, json or sarif) and
// returns the exit code the report calls for.
func writeReport(w io.Writer, r *readiness.Report, format string) (int, error) {
	var err error
	switch format {
	case "", "text":
		err = r.WriteText(w)
	case "json":
		err = r.WriteJSON(w)
	case "sarif":
		err = r.WriteSARIF(w, readiness.SARIFOptions{ToolVersion: version()})
	default:
		return exitCantRun, fmt.Errorf("unknown -format %q: use one of %s", format, formats)
	}
	if err != nil {
		return exitCantRun, err
	}
	if r.Blocked() {
		return exitFailed, nil
	}
	return exitOK, nil
}
