package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/redact"
)

func init() {
	commands = append(commands, command{
		name:    "scan",
		summary: "find secrets in directories, a repository's history, or a log stream on stdin (-)",
		run:     runScan,
	})
}

// stdin is what "launchready scan -" reads; tests replace it.
var stdin io.Reader = os.Stdin

// runScan scans each PATH (a directory, a file, or - for standard input)
// with the kit's detectors and prints a report of masked findings:
// SECRET003 for files on disk, SECRET004 for secrets only in a
// repository's history, SECRET005 for a log or build-output stream. The
// secret itself is never printed, only its masked form.
func runScan(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("scan", stderr)
	format := fs.String("format", "text", "report format: "+formats)
	history := fs.Bool("history", true, "for a directory that is a git repository's top level, also scan every commit on every ref")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: launchready scan [-format text|json|sarif] [-history=false] [PATH…|-]")
		fmt.Fprintln(stderr)
		fmt.Fprintln(stderr, "Scans directories (and, for a repository's top level, its full history), files,")
		fmt.Fprintln(stderr, "or a log export on standard input (-), e.g. piped from the hosting platform's")
		fmt.Fprintln(stderr, "log command. Prints masked values only. Exit 0 clean, 1 findings, 2 could not run.")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	switch *format {
	case "text", "json", "sarif":
	default:
		fmt.Fprintf(stderr, "launchready scan: unknown -format %q: use one of %s\n", *format, formats)
		return exitCantRun
	}
	paths := fs.Args()
	if len(paths) == 0 {
		paths = []string{"."}
	}
	var findings []readiness.Finding
	for _, p := range paths {
		found, err := scanPath(ctx, p, *history)
		if err != nil {
			fmt.Fprintf(stderr, "launchready scan: %v\n", err)
			return exitCantRun
		}
		findings = append(findings, found...)
	}
	code, err := writeReport(stdout, readiness.NewReport(readiness.Production, findings).Only(readiness.ItemSecrets), *format)
	if err != nil {
		fmt.Fprintf(stderr, "launchready scan: %v\n", err)
		return exitCantRun
	}
	return code
}

const (
	fixTree = "move the secret to the environment or a secret store, and rotate it: anyone who could read the file has it"
	fixLog  = "rotate the secret now (whoever reads the logs has it), then stop the leak: log through redact.NewHandler, never print request headers, bodies or configuration"
	fixHist = "a secret once pushed is compromised: rotate it now; then purge it from history (git filter-repo) if the repository is shared"
)

func scanPath(ctx context.Context, p string, history bool) ([]readiness.Finding, error) {
	if p == "-" {
		var out []readiness.Finding
		err := redact.ScanReader(stdin, func(f redact.Finding) {
			out = append(out, readiness.Finding{ID: "SECRET005", Severity: readiness.Blocker, File: "(stdin)", Line: f.Line, Column: f.Column,
				Seen: fmt.Sprintf("%s %s in the log stream", f.Detector, f.Masked), Fix: fixLog})
		})
		if err != nil {
			return nil, fmt.Errorf("reading standard input: %w", err)
		}
		return out, nil
	}
	info, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		var out []readiness.Finding
		err = redact.ScanReader(f, func(fd redact.Finding) {
			out = append(out, treeFinding(filepath.ToSlash(p), fd))
		})
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
		return out, nil
	}
	found, err := redact.ScanDir(p)
	if err != nil {
		return nil, err
	}
	var out []readiness.Finding
	inTree := map[string]bool{}
	for _, fd := range found {
		inTree[fd.Detector+"\x00"+fd.File+"\x00"+fd.Masked] = true
		out = append(out, treeFinding(path(p, fd.File), fd))
	}
	if !history || !isRepoTop(ctx, p) {
		return out, nil
	}
	hist, err := redact.ScanGitHistory(ctx, p)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, fd := range hist {
		k := fd.Detector + "\x00" + fd.File + "\x00" + fd.Masked
		if inTree[k] || seen[k] {
			continue // reported as SECRET003, or in an earlier commit
		}
		seen[k] = true
		out = append(out, readiness.Finding{ID: "SECRET004", Severity: readiness.Blocker, File: path(p, fd.File), Line: fd.Line, Column: fd.Column,
			Seen: fmt.Sprintf("%s %s added in commit %s", fd.Detector, fd.Masked, fd.Commit[:min(12, len(fd.Commit))]), Fix: fixHist})
	}
	return out, nil
}

func treeFinding(file string, f redact.Finding) readiness.Finding {
	return readiness.Finding{ID: "SECRET003", Severity: readiness.Blocker, File: file, Line: f.Line, Column: f.Column,
		Seen: fmt.Sprintf("%s %s", f.Detector, f.Masked), Fix: fixTree}
}

// path joins a scanned directory and a slash-separated name in it, keeping
// names relative to the current directory when the directory is ".".
func path(dir, name string) string {
	if dir == "." {
		return name
	}
	return strings.TrimSuffix(filepath.ToSlash(dir), "/") + "/" + name
}

// isRepoTop reports whether dir is the top level of a git working tree.
// Without git, a directory with a .git entry is an error the caller sees
// as a failed history scan, so it is reported as a repository.
func isRepoTop(ctx context.Context, dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, ".git")); err != nil {
		return false
	}
	out, err := exec.CommandContext(ctx, "git", "-C", dir, "rev-parse", "--show-toplevel").Output()
	if err != nil {
		var ee *exec.ExitError
		return !errors.As(err, &ee) // git missing: let the history scan fail loudly
	}
	top, err1 := filepath.EvalSymlinks(strings.TrimSpace(string(out)))
	abs, err2 := filepath.Abs(dir)
	if err2 == nil {
		abs, err2 = filepath.EvalSymlinks(abs)
	}
	return err1 == nil && err2 == nil && top == abs
}
