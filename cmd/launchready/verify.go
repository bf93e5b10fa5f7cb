package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/launchready/launchready/flows"
)

func init() {
	commands = append(commands, command{name: "verify", summary: "after a deploy: run the synthetic flows once and check the expected release is live", run: runVerify})
}

// releaseTokenEnv holds the token that reads the app's version route.
const releaseTokenEnv = "LAUNCHREADY_RELEASE_TOKEN"

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("verify", stderr)
	file := fs.String("flows", "", "flow file (YAML, or JSON with a .json name); required")
	attempts := fs.Int("attempts", 5, "tries per flow and for the release check, for a release still warming up")
	wait := fs.Duration("wait", 3*time.Second, "pause between tries")
	expect := fs.String("expect-revision", "", "VCS revision the app must report (full or at least 7 characters); empty skips the check")
	versionPath := fs.String("version-path", "/version", "the app's release route, read with Authorization: Bearer $"+releaseTokenEnv)
	timeout := fs.Duration("timeout", flows.DefaultStepTimeout, "default per-step timeout")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: launchready verify -flows FILE [flags] URL")
		fmt.Fprintln(stderr, "exit codes: 0 verified, 1 a flow failed or the wrong release answers, 2 could not run")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *file == "" || fs.NArg() != 1 {
		fs.Usage()
		return exitCantRun
	}
	if *attempts < 1 || *wait < 0 {
		fmt.Fprintln(stderr, "launchready verify: -attempts must be at least 1 and -wait not negative")
		return exitCantRun
	}
	if *expect != "" && len(*expect) < 7 {
		fmt.Fprintln(stderr, "launchready verify: -expect-revision needs at least 7 characters of the revision")
		return exitCantRun
	}
	base := strings.TrimRight(fs.Arg(0), "/")
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		fmt.Fprintf(stderr, "launchready verify: %q is not an http(s) URL\n", base)
		return exitCantRun
	}
	f, err := flows.Load(*file)
	if err != nil {
		fmt.Fprintln(stderr, "launchready verify:", err)
		return exitCantRun
	}
	pause := func() bool {
		t := time.NewTimer(*wait)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		}
	}

	failed := false
	if *expect != "" {
		var got string
		var err error
		for try := 1; ; try++ {
			got, err = liveRevision(ctx, base+*versionPath, *timeout)
			if err == nil && strings.HasPrefix(got, *expect) {
				break
			}
			if try == *attempts || !pause() {
				break
			}
		}
		switch {
		case err != nil:
			fmt.Fprintf(stdout, "FAIL release: cannot read the running release from %s: %v\n", *versionPath, err)
			failed = true
		case !strings.HasPrefix(got, *expect):
			fmt.Fprintf(stdout, "FAIL release: %s answers with revision %s, not %s\n", base, short(got), short(*expect))
			failed = true
		default:
			fmt.Fprintf(stdout, "PASS release %s is live\n", short(got))
		}
	}

	rn := &flows.Runner{BaseURL: base, DefaultTimeout: *timeout, Header: http.Header{"User-Agent": {"launchready-verify"}}}
	for _, fl := range f.Flows {
		var res flows.Result
		for try := 1; ; try++ {
			res = rn.Run(ctx, fl)
			if res.OK() || try == *attempts || ctx.Err() != nil || !pause() {
				break
			}
			fmt.Fprintf(stderr, "launchready verify: try %d of flow %q failed at step %q; retrying\n", try, fl.Name, res.FailedStep())
		}
		printResult(stdout, res)
		if !res.OK() {
			failed = true
		}
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "launchready verify: interrupted")
		return exitCantRun
	}
	if failed {
		return exitFailed
	}
	return exitOK
}

func printResult(w io.Writer, res flows.Result) {
	if res.OK() {
		fmt.Fprintf(w, "PASS flow %q (%d steps, %s)\n", res.Flow, len(res.Steps), res.Duration.Round(time.Millisecond))
		return
	}
	fmt.Fprintf(w, "FAIL flow %q at step %q\n", res.Flow, res.FailedStep())
	for _, s := range res.Steps {
		switch {
		case s.Skipped:
			fmt.Fprintf(w, "  skip %s\n", s.Name)
		case s.Err != nil:
			fmt.Fprintf(w, "  FAIL %s: %v\n", s.Name, s.Err)
		default:
			fmt.Fprintf(w, "  ok   %s (%d, %s)\n", s.Name, s.Status, s.Duration.Round(time.Millisecond))
		}
	}
}

// liveRevision reads the revision the app reports at url, authenticated
// with the release token from the environment.
func liveRevision(ctx context.Context, url string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	if tok := os.Getenv(releaseTokenEnv); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return "", errors.New("no answer: " + strings.TrimPrefix(err.Error(), "Get "))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		hint := ""
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			hint = " (set " + releaseTokenEnv + " to the app's release token)"
		}
		return "", fmt.Errorf("status %d%s", resp.StatusCode, hint)
	}
	var rel struct {
		Revision string `json:"revision"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&rel); err != nil {
		return "", fmt.Errorf("the answer is not a release document: %v", err)
	}
	if rel.Revision == "" {
		return "", errors.New("the running binary reports no VCS revision (built without VCS stamping)")
	}
	return rel.Revision, nil
}

func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}
