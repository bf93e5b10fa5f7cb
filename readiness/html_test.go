package readiness_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/readiness"
)

func TestHTMLScorecard(t *testing.T) {
	target := goodTarget(t, readiness.Production)
	target.Checks = []readiness.Check{readiness.CheckFunc("hostile", func(context.Context, *readiness.Inspection) []readiness.Finding {
		// Route patterns and seen-texts come from app code; the page must
		// escape them.
		return []readiness.Finding{{ID: "AUTH002", Severity: readiness.Blocker, Route: `GET /x/<script>alert(1)</script>`, Seen: `public "<img src=x onerror=alert(1)>"`, Fix: "require a role"}}
	})}
	r, err := readiness.Run(t.Context(), target)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, r.WriteHTML(&buf))
	page := buf.String()
	assert.NotContains(t, page, "<script>")
	assert.NotContains(t, page, "<img")
	assert.Contains(t, page, "&lt;script&gt;")
	assert.Contains(t, page, "Launch readiness — BLOCKED")
	assert.Equal(t, 10, len(regexp.MustCompile(`class="card (PASS|WARN|FAIL)"`).FindAllString(page, -1)))
	assert.Contains(t, page, `class="card FAIL"><div class="n">1</div><div class="t">Auth protection</div>`)
	assert.NotContains(t, page, "http://", "no external assets")
	assert.NotContains(t, page, "https://", "no external assets")

	// The inline style is exactly what the published CSP hash allows.
	m := regexp.MustCompile(`(?s)<style>(.*?)</style>`).FindStringSubmatch(page)
	require.Len(t, m, 2)
	sum := sha256.Sum256([]byte(m[1]))
	assert.Contains(t, readiness.HTMLContentSecurityPolicy, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	assert.Contains(t, readiness.HTMLContentSecurityPolicy, "default-src 'none'")
}
