package readiness_test

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/redact/redacttest"
)

func serverWith(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: time.Second, ReadTimeout: time.Second,
		WriteTimeout: time.Second, IdleTimeout: time.Second, MaxHeaderBytes: 1 << 16}
}

func runIDs(t *testing.T, target readiness.Target, prefix string) (*readiness.Report, []string) {
	t.Helper()
	target.ShutdownTimeout = time.Second
	target.AllowedHosts = []string{"portal.example.com"}
	if target.Server == nil {
		target.Server = serverWith(http.NotFoundHandler())
	}
	rep, err := readiness.Run(context.Background(), target)
	require.NoError(t, err)
	var ids []string
	for _, f := range rep.Findings {
		if strings.HasPrefix(f.ID, prefix) {
			ids = append(ids, f.ID)
		}
	}
	sort.Strings(ids)
	return rep, ids
}

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestSecretsEnv(t *testing.T) {
	good := "k" + "Q8v" + "Zr2LmX9pT4wB7cN1eF6gH3jS5uY0aD"
	vars := map[string]string{
		"PLACEHOLDER": "changeme",
		"SHORT":       "Zx9#kq",
		"LOWENTROPY":  "abababababababababab",
		"EXAMPLE":     "AKIAIOSFODNN7" + "EXAMPLE",
		"DB_URL_BAD":  "postgres://app:${DB_PASSWORD}@db.internal/portal",
		"DB_URL_OK":   "postgres://app:" + good + "@db.internal/portal",
		"PLAIN_URL":   "https://api.example.com",
		"GOOD":        good,
	}
	chk := readiness.Secrets{LookupEnv: env(vars),
		Required: []string{"MISSING", "PLACEHOLDER", "SHORT", "LOWENTROPY", "EXAMPLE", "DB_URL_BAD", "DB_URL_OK", "PLAIN_URL", "GOOD"}}
	rep, ids := runIDs(t, readiness.Target{Checks: []readiness.Check{chk}}, "SECRET")
	assert.Equal(t, []string{"SECRET001", "SECRET002", "SECRET002", "SECRET002", "SECRET002", "SECRET002"}, ids)
	for _, f := range rep.Findings {
		for k, v := range vars {
			if len(v) > 6 && k != "PLAIN_URL" {
				assert.NotContains(t, f.Seen, v[3:], "finding shows a secret")
			}
		}
	}

	_, ids = runIDs(t, readiness.Target{Checks: []readiness.Check{readiness.Secrets{LookupEnv: env(vars), Required: []string{"GOOD", "DB_URL_OK"}}}}, "SECRET")
	assert.Empty(t, ids)
}

func TestSecretsBuildOutput(t *testing.T) {
	tok := redacttest.New(31).GitHubToken()
	fsys := fstest.MapFS{"dist/app.js": {Data: []byte("a\nconst t='" + tok + "'\n")}, "dist/index.html": {Data: []byte("<html></html>")}}
	rep, ids := runIDs(t, readiness.Target{Checks: []readiness.Check{readiness.Secrets{Build: fsys, BuildRoot: "dist"}}}, "SECRET")
	require.Equal(t, []string{"SECRET005"}, ids)
	f := rep.ByID("SECRET005")[0]
	assert.Equal(t, "dist/app.js", f.File)
	assert.Equal(t, 2, f.Line)
	assert.NotContains(t, f.Seen, tok[4:])

	_, ids = runIDs(t, readiness.Target{Checks: []readiness.Check{readiness.Secrets{Build: fstest.MapFS{"index.html": {Data: []byte("<html></html>")}}}}}, "SECRET")
	assert.Empty(t, ids)
}

func TestSecretsRepoAndHistory(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("git is required in CI")
		}
		t.Skip("git not installed")
	}
	g := redacttest.New(37)
	current, deleted := g.GitHubToken(), "sk_"+"live_"+"Q8vZr2LmX9pT4wB7cN1eF6gH"
	dir := t.TempDir()
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
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	run("init", "-q", "-b", "main")
	write(".env.example", "GITHUB_TOKEN=<YOUR_KEY>\n")
	write("main.go", "package main\n")
	run("add", ".")
	run("commit", "-q", "-m", "clean start")

	_, ids := runIDs(t, readiness.Target{Checks: []readiness.Check{readiness.Secrets{Repo: dir, History: true}}}, "SECRET")
	assert.Empty(t, ids, "a clean repository has no findings")

	write("billing.go", "package main\n\nconst stripeKey = \""+deleted+"\"\n")
	run("add", ".")
	run("commit", "-q", "-m", "billing")
	added := run("rev-parse", "HEAD")
	run("rm", "-q", "billing.go")
	run("commit", "-q", "-m", "oops")
	write(".env", "GITHUB_TOKEN="+current+"\n")
	run("add", "-f", ".env")
	run("commit", "-q", "-m", "env")

	rep, ids := runIDs(t, readiness.Target{Checks: []readiness.Check{readiness.Secrets{Repo: dir, History: true}}}, "SECRET")
	assert.Equal(t, []string{"SECRET003", "SECRET004", "SECRET006"}, ids)
	h := rep.ByID("SECRET004")[0]
	assert.Equal(t, "billing.go", h.File)
	assert.Equal(t, 3, h.Line)
	assert.Contains(t, h.Seen, added[:12])
	assert.Equal(t, ".env", rep.ByID("SECRET003")[0].File)
	for _, f := range rep.Findings {
		assert.NotContains(t, f.Seen, current[4:])
		assert.NotContains(t, f.Seen, deleted[4:])
	}
}
