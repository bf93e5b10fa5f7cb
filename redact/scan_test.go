package redact_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/redact"
	"github.com/launchready/launchready/redact/redacttest"
)

// gitRepo builds a repository in a temp dir where a secret is added in one
// commit and deleted in the next. It returns the dir, the secret and the
// commit that added it.
func gitRepo(t *testing.T) (dir, secret, commit string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("git is required in CI")
		}
		t.Skip("git not installed")
	}
	dir = t.TempDir()
	run := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.test",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.test", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
		return strings.TrimSpace(string(out))
	}
	write := func(name, content string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	run("init", "-q", "-b", "main")
	write("main.go", "package main\n\nfunc main() {}\n")
	run("add", ".")
	run("commit", "-q", "-m", "start")
	secret = redacttest.New(21).GitHubToken()
	write("config/deploy.env", "# deploy settings\nREGION=eu-west-1\nGITHUB_TOKEN="+secret+"\n")
	run("add", ".")
	run("commit", "-q", "-m", "add deploy config")
	commit = run("rev-parse", "HEAD")
	run("rm", "-q", "config/deploy.env")
	run("commit", "-q", "-m", "remove secret")
	return dir, secret, commit
}

func TestScanGitHistoryFindsDeletedSecret(t *testing.T) {
	dir, secret, commit := gitRepo(t)
	got, err := redact.ScanGitHistory(context.Background(), dir)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, redact.Finding{Detector: "github-token", File: "config/deploy.env", Line: 3, Column: 14, Commit: commit, Masked: secret[:4] + "****"}, got[0])
	assert.NotContains(t, got[0].String(), secret[4:])

	tree, err := redact.ScanGitWorktree(context.Background(), os.DirFS(dir), dir)
	require.NoError(t, err)
	assert.Empty(t, tree, "deleted from the working tree")
}

func TestScanFS(t *testing.T) {
	g := redacttest.New(23)
	key := "AI" + "za" + strings.Repeat("Q", 3) + "x7Yv2LmK9pRt4WbZcD8eF1gH3jN5sU6oA"
	fsys := fstest.MapFS{
		"dist/assets/app.js":  {Data: []byte("var a=1;\nconst k=\"" + key + "\";\n")},
		"dist/index.html":     {Data: []byte("<html>" + `<script integrity="sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="></script>`)},
		"dist/logo.png":       {Data: []byte("\x89PNG\x00\x00" + g.GitHubToken())},
		"node_modules/x/a.js": {Data: []byte(g.GitHubToken())},
	}
	got, err := redact.ScanFS(fsys, ".")
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "dist/assets/app.js", got[0].File)
	assert.Equal(t, 2, got[0].Line)
	assert.Equal(t, 10, got[0].Column)
	assert.Equal(t, "google-api-key", got[0].Detector)
}

func TestScanBytesPEMOnce(t *testing.T) {
	pem := redacttest.New(29).PEM()
	got := redact.ScanBytes([]byte("x\n" + pem + "\ny\n"))
	require.Len(t, got, 1)
	assert.Equal(t, 2, got[0].Line)
	assert.Equal(t, "private-key", got[0].Detector)
}

// TestScanColumn: columns count characters, not bytes, so an editor's
// "go to line:column" lands on the secret.
func TestScanColumn(t *testing.T) {
	tok := redacttest.New(37).GitHubToken()
	got := redact.ScanBytes([]byte("ok\n# Schlüssel für CI: " + tok + "\n"))
	require.Len(t, got, 1)
	assert.Equal(t, 2, got[0].Line)
	assert.Equal(t, 21, got[0].Column) // 23 if bytes were counted
	assert.Contains(t, got[0].String(), ":2:21: github-token")
}

// TestScanDir scans a checkout on disk: files in subdirectories with
// relative slash-separated names, .git skipped, a missing directory an
// error.
func TestScanDir(t *testing.T) {
	g := redacttest.New(39)
	dir := t.TempDir()
	tok := g.GitHubToken()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "deploy", ".git"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, ".git"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "deploy", "app.env"), []byte("REGION=eu\nGITHUB_TOKEN="+tok+"\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".git", "config"), []byte("token = "+g.GitHubToken()+"\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "README.md"), []byte("Set GITHUB_TOKEN=<your token>.\n"), 0o644))
	got, err := redact.ScanDir(dir)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, redact.Finding{Detector: "github-token", File: "deploy/app.env", Line: 2, Column: 14, Masked: tok[:4] + "****"}, got[0])

	_, err = redact.ScanDir(filepath.Join(dir, "missing"))
	assert.Error(t, err)
	_, err = redact.ScanDir(filepath.Join(dir, "README.md"))
	assert.Error(t, err)
}

func ExampleScanDir() {
	dir, err := os.MkdirTemp("", "scan")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	// Build a fake token at run time (never commit real-looking tokens).
	key := "sk-" + "ant-api03-" + strings.Repeat("Zq7xK2mP9", 10) + "vR4" + "AA"
	_ = os.WriteFile(filepath.Join(dir, "llm.py"), []byte("import anthropic\nclient = anthropic.Anthropic(api_key=\""+key+"\")\n"), 0o644)
	_ = os.WriteFile(filepath.Join(dir, "README.md"), []byte("Set ANTHROPIC_API_KEY=sk-ant-... before you start.\n"), 0o644)
	findings, err := redact.ScanDir(dir)
	if err != nil {
		panic(err)
	}
	for _, f := range findings {
		fmt.Println(f)
	}
	// Output:
	// llm.py:2:39: anthropic-key sk-a****
}

func ExampleScanBytes() {
	// Build a fake token at run time (never commit real-looking tokens).
	key := "AI" + "za" + "SyD3m0x7Yv2LmK9pRt4WbZcD8eF1gH3jN5s"
	for _, f := range redact.ScanBytes([]byte("const region = \"eu\";\nconst mapsKey = \"" + key + "\";\n")) {
		fmt.Println(f.Line, f.Detector, f.Masked)
	}
	// Output:
	// 2 google-api-key AIza****
}
