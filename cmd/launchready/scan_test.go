package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/redact/redacttest"
)

// scanStdin runs "launchready scan ARGS… -" with in on standard input.
func scanStdin(t *testing.T, in string, args ...string) (code int, out, errOut string) {
	t.Helper()
	old := stdin
	stdin = strings.NewReader(in)
	t.Cleanup(func() { stdin = old })
	var o, e bytes.Buffer
	code = run(context.Background(), append(append([]string{"scan"}, args...), "-"), &o, &e)
	return code, o.String(), e.String()
}

// logStream is a platform log export: request lines, a startup banner and,
// when planted, the leaks AI-built apps print to their console logs.
func logStream(g *redacttest.Gen, planted []string) string {
	var b strings.Builder
	for i := range 400 {
		fmt.Fprintf(&b, "2026-12-05T17:%02d:%02dZ app[web.1]: INFO http request method=GET route=\"GET /api/clients/{id}\" status=200 duration=%dms user=alice@client-a.test\n", i/60, i%60, i%17)
		if i%100 == 50 && len(planted) > 0 {
			b.WriteString("2026-12-05T17:00:00Z app[web.1]: " + planted[0] + "\n")
			planted = planted[1:]
		}
	}
	for _, p := range planted {
		b.WriteString("2026-12-05T17:10:00Z app[web.1]: " + p + "\n")
	}
	b.WriteString("2026-12-05T17:10:01Z app[web.1]: config loaded: DATABASE_URL=postgres://portal:${DB_PASSWORD}@db/portal SESSION_KEY=<from secret store>\n")
	return b.String()
}

func TestScanStdinPlantedSecrets(t *testing.T) {
	g := redacttest.New(180)
	secrets := []string{g.GitHubToken(), g.Token("openai-key"), g.Token("aws-access-key-id"), g.JWT(), g.Password(), g.Token("stripe-key")}
	planted := []string{
		"debug: using token " + secrets[0],
		`calling OpenAI with headers {"Authorization":"Bearer ` + secrets[1] + `"}`,
		"env AWS_ACCESS_KEY_ID=" + secrets[2],
		"session restored jwt=" + secrets[3],
		"db connect postgres://portal:" + secrets[4] + "@db.internal:5432/portal",
		`stripe client ready key="` + secrets[5] + `"`,
	}
	in := logStream(g, planted)
	for _, format := range []string{"text", "json", "sarif"} {
		code, out, errOut := scanStdin(t, in, "-format", format)
		assert.Equal(t, exitFailed, code, "%s: %s", format, errOut)
		assert.Contains(t, out, "SECRET005", format)
		for _, s := range secrets {
			assert.NotContains(t, out, s, format)
			assert.NotContains(t, out, s[4:], format) // not even the tail
		}
		assert.NotContains(t, out, "alice@", "scans report secrets, not personal data")
	}
	code, out, _ := scanStdin(t, in, "-format", "json")
	require.Equal(t, exitFailed, code)
	var rep struct {
		Findings []struct {
			ID     string `json:"id"`
			File   string `json:"file"`
			Line   int    `json:"line"`
			Column int    `json:"column"`
			Seen   string `json:"seen"`
		} `json:"findings"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	require.Len(t, rep.Findings, len(secrets))
	lines := strings.Split(in, "\n")
	for _, f := range rep.Findings {
		assert.Equal(t, "(stdin)", f.File)
		require.Greater(t, f.Line, 0)
		line := lines[f.Line-1]
		found := false
		for _, s := range secrets {
			if i := strings.Index(line, s); i >= 0 {
				found = true
				assert.Equal(t, len([]rune(line[:i]))+1, f.Column, "column of %s", f.Seen)
			}
		}
		assert.True(t, found, "finding on a line without a planted secret: %s", f.Seen)
	}
}

func TestScanStdinClean(t *testing.T) {
	code, out, errOut := scanStdin(t, logStream(redacttest.New(181), nil))
	assert.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "READY")
	// A scan looks at secrets only: the other items are not passed.
	assert.Regexp(t, `3  Secrets management\s+PASS`, out)
	assert.Regexp(t, `1  Auth protection\s+NOT CHECKED`, out)
	assert.NotRegexp(t, `Auth protection\s+PASS`, out)
	code, _, _ = scanStdin(t, "")
	assert.Equal(t, exitOK, code)
}

func TestScanDirectoryAndHistory(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("git is required in CI")
		}
		t.Skip("git not installed")
	}
	g := redacttest.New(182)
	dir := t.TempDir()
	git := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.test",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.test", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
	}
	write := func(name, content string) {
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	old, current := g.Token("npm-token"), g.Token("anthropic-key")
	git("init", "-q", "-b", "main")
	write(".npmrc", "//registry.npmjs.org/:_authToken="+old+"\n")
	git("add", ".")
	git("commit", "-q", "-m", "npm auth")
	write(".npmrc", "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n")
	write("app/llm.py", "import anthropic\nclient = anthropic.Anthropic(api_key=\""+current+"\")\n")
	git("add", ".")
	git("commit", "-q", "-m", "use env for npm; add llm client")

	var o, e bytes.Buffer
	code := run(context.Background(), []string{"scan", "-format", "text", dir}, &o, &e)
	assert.Equal(t, exitFailed, code, e.String())
	out := o.String()
	assert.Contains(t, out, "SECRET003 "+filepath.ToSlash(dir)+"/app/llm.py:2:39: anthropic-key sk-a****")
	assert.Contains(t, out, "SECRET004 "+filepath.ToSlash(dir)+"/.npmrc:1:34: npm-token npm_****")
	assert.NotContains(t, out, old[4:])
	assert.NotContains(t, out, current[4:])

	o.Reset()
	code = run(context.Background(), []string{"scan", "-history=false", dir}, &o, &e)
	assert.Equal(t, exitFailed, code)
	assert.NotContains(t, o.String(), "SECRET004")

	// a clean directory exits 0; a missing one, or a bad flag, cannot run
	clean := t.TempDir()
	write2 := filepath.Join(clean, "README.md")
	require.NoError(t, os.WriteFile(write2, []byte("Set ANTHROPIC_API_KEY=sk-ant-... in your environment.\n"), 0o644))
	assert.Equal(t, exitOK, run(context.Background(), []string{"scan", clean}, &o, &e))
	assert.Equal(t, exitCantRun, run(context.Background(), []string{"scan", filepath.Join(clean, "missing")}, &o, &e))
	assert.Equal(t, exitCantRun, run(context.Background(), []string{"scan", "-format", "xml", clean}, &o, &e))
	assert.Equal(t, exitFailed, run(context.Background(), []string{"scan", filepath.Join(dir, "app", "llm.py")}, &o, &e))
}
