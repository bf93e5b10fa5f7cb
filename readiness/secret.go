package readiness

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/launchready/launchready/redact"
)

// Secrets is the configured secrets check (SECRET001–SECRET006). Put it in
// Target.Checks. The environment and build-output parts are cheap and run at
// boot; the repository and history scans are for the app's tests (set Repo
// only there).
//
//	readiness.Secrets{Required: []string{"SESSION_KEY", "DATABASE_URL"}, Build: webdist.FS}
type Secrets struct {
	// Required names the environment variables the app needs. Each must be
	// set (SECRET001) and must not be a placeholder, a published example or
	// weak: shorter than MinLength or below MinEntropy (SECRET002). A URL
	// value is judged by its password.
	Required []string
	// LookupEnv reads the environment; nil is os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// MinLength is the shortest acceptable secret; zero means 16.
	MinLength int
	// MinEntropy is the lowest acceptable Shannon entropy in bits per
	// character; zero means 3.0.
	MinEntropy float64

	// Repo is the path of the app's git repository. When set, tracked files
	// are scanned (SECRET003), tracked .env files reported (SECRET006) and,
	// with History, every commit on every ref (SECRET004).
	Repo    string
	History bool

	// Build is build output shipped with the binary, such as an embed.FS
	// of the frontend bundle (SECRET005). BuildRoot is the directory in it
	// to scan; empty means ".".
	Build     fs.FS
	BuildRoot string
}

// Name implements Check.
func (s Secrets) Name() string { return "secrets" }

// Run implements Check.
func (s Secrets) Run(ctx context.Context, _ *Inspection) []Finding {
	var out []Finding
	out = append(out, s.env()...)
	if s.Repo != "" {
		out = append(out, s.repo(ctx)...)
	}
	if s.Build != nil {
		root := s.BuildRoot
		if root == "" {
			root = "."
		}
		found, err := redact.ScanFS(s.Build, root)
		if err != nil {
			out = append(out, Finding{ID: "SECRET005", Severity: Warning, Seen: "build output could not be scanned: " + err.Error(),
				Fix: "point Secrets.Build at the embedded build output and BuildRoot at a directory in it"})
		}
		for _, f := range found {
			out = append(out, Finding{ID: "SECRET005", Severity: Blocker, File: f.File, Line: f.Line, Column: f.Column,
				Seen: fmt.Sprintf("%s %s in build output", f.Detector, f.Masked),
				Fix:  "remove the secret from the frontend source and its build; anything shipped to browsers is public, so rotate the secret and keep it server-side"})
		}
	}
	return out
}

func (s Secrets) env() []Finding {
	lookup := s.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	minLen, minEnt := s.MinLength, s.MinEntropy
	if minLen == 0 {
		minLen = 16
	}
	if minEnt == 0 {
		minEnt = 3.0
	}
	var out []Finding
	for _, name := range s.Required {
		v, ok := lookup(name)
		if !ok || strings.TrimSpace(v) == "" {
			out = append(out, Finding{ID: "SECRET001", Severity: Blocker,
				Seen: fmt.Sprintf("required secret %s is not set in the environment", name),
				Fix:  fmt.Sprintf("set %s from the deployment's secret store (not from a file in the repository)", name)})
			continue
		}
		secret := v
		if i := strings.Index(v, "://"); i > 0 { // a URL: judge its password
			rest := v[i+3:]
			if at := strings.LastIndexByte(rest, '@'); at > 0 {
				if c := strings.IndexByte(rest[:at], ':'); c >= 0 {
					secret = rest[c+1 : at]
				}
			} else {
				continue // a URL without credentials is not a secret
			}
		}
		var why string
		switch {
		case redact.IsPlaceholder(secret):
			why = "is a placeholder or a published example value"
		case len(secret) < minLen:
			why = fmt.Sprintf("is %d characters long (minimum %d)", len(secret), minLen)
		case redact.Entropy(secret) < minEnt:
			why = fmt.Sprintf("has low entropy (%.1f bits per character, minimum %.1f)", redact.Entropy(secret), minEnt)
		}
		if why != "" {
			out = append(out, Finding{ID: "SECRET002", Severity: Blocker,
				Seen: fmt.Sprintf("secret %s %s (%s)", name, why, redact.Mask(secret)),
				Fix:  fmt.Sprintf("generate a random value for %s (e.g. 32 bytes from crypto/rand, base64) and store it in the secret store", name)})
		}
	}
	return out
}

// envFileAllowed are .env-style files meant to be committed.
var envFileAllowed = map[string]bool{".env.example": true, ".env.sample": true, ".env.template": true, ".env.dist": true}

func (s Secrets) repo(ctx context.Context) []Finding {
	var out []Finding
	files, err := redact.GitFiles(ctx, s.Repo)
	if err != nil {
		return []Finding{{ID: "SECRET003", Severity: Warning, Seen: "repository could not be listed: " + err.Error(),
			Fix: "set Secrets.Repo to the app's git checkout and make git available to the tests"}}
	}
	for _, f := range files {
		base := path.Base(f)
		if (base == ".env" || strings.HasPrefix(base, ".env.") || strings.HasSuffix(base, ".env")) && !envFileAllowed[base] {
			out = append(out, Finding{ID: "SECRET006", Severity: Warning, File: f,
				Seen: fmt.Sprintf("environment file %s is tracked by git", f),
				Fix:  "git rm --cached the file, add it to .gitignore, commit a .env.example with placeholders instead, and rotate what it held"})
		}
	}
	tree, err := redact.ScanGitWorktree(ctx, os.DirFS(s.Repo), s.Repo)
	if err != nil {
		return append(out, Finding{ID: "SECRET003", Severity: Warning, Seen: "working tree could not be scanned: " + err.Error(), Fix: "make git available to the tests"})
	}
	inTree := map[string]bool{}
	for _, f := range tree {
		inTree[f.Detector+"\x00"+f.File+"\x00"+f.Masked] = true
		out = append(out, Finding{ID: "SECRET003", Severity: Blocker, File: f.File, Line: f.Line, Column: f.Column,
			Seen: fmt.Sprintf("%s %s in a tracked file", f.Detector, f.Masked),
			Fix:  "move the secret to the environment or a secret store, rotate it (it is in history now), and purge it from history"})
	}
	if !s.History {
		return out
	}
	hist, err := redact.ScanGitHistory(ctx, s.Repo)
	if err != nil {
		out = append(out, Finding{ID: "SECRET004", Severity: Warning, Seen: "history could not be fully scanned: " + err.Error(), Fix: "make git available to the tests"})
	}
	seen := map[string]bool{}
	for _, f := range hist {
		k := f.Detector + "\x00" + f.File + "\x00" + f.Masked
		if inTree[k] || seen[k+f.Commit] {
			continue // reported as SECRET003
		}
		seen[k+f.Commit] = true
		out = append(out, Finding{ID: "SECRET004", Severity: Blocker, File: f.File, Line: f.Line, Column: f.Column,
			Seen: fmt.Sprintf("%s %s added in commit %s", f.Detector, f.Masked, f.Commit[:min(12, len(f.Commit))]),
			Fix:  "a secret once pushed is compromised: rotate it now; then purge it from history (git filter-repo) if the repository is shared"})
	}
	return out
}
