package readiness_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/readiness"
)

func reportWithFindings(t *testing.T) *readiness.Report {
	t.Helper()
	target := goodTarget(t, readiness.Production)
	target.Server.ReadHeaderTimeout, target.Server.ReadTimeout = 0, 0
	target.Checks = []readiness.Check{readiness.CheckFunc("secrets", func(context.Context, *readiness.Inspection) []readiness.Finding {
		return []readiness.Finding{
			{ID: "SECRET003", Severity: readiness.Blocker, File: "config/dev.go", Line: 12, Seen: "GitHub token ghp_…a1b2", Fix: "revoke and move to the environment"},
			{ID: "AUTH002", Severity: readiness.Blocker, Route: "GET /api/export", Seen: "public", Fix: "require staff"},
		}
	})}
	target.Accepted = []readiness.Acceptance{readiness.AcceptRoute("AUTH002", "GET /api/export", "demo only")}
	r, err := readiness.Run(t.Context(), target)
	require.NoError(t, err)
	return r
}

func TestJSONReport(t *testing.T) {
	r := reportWithFindings(t)
	var buf bytes.Buffer
	require.NoError(t, r.WriteJSON(&buf))
	var got struct {
		Env       string `json:"env"`
		Ready     bool   `json:"ready"`
		Scorecard []struct {
			Item   int    `json:"item"`
			Title  string `json:"title"`
			Status string `json:"status"`
		} `json:"scorecard"`
		Findings []struct {
			ID       string `json:"id"`
			Severity string `json:"severity"`
			Item     int    `json:"item"`
			Accepted bool   `json:"accepted"`
		} `json:"findings"`
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &got))
	assert.Equal(t, "production", got.Env)
	assert.False(t, got.Ready)
	require.Len(t, got.Scorecard, 10)
	assert.Equal(t, "Secrets management", got.Scorecard[2].Title)
	assert.Equal(t, "FAIL", got.Scorecard[2].Status)
	assert.Equal(t, "WARN", got.Scorecard[0].Status, "accepted blocker")
	ids := map[string]bool{}
	for _, f := range got.Findings {
		ids[f.ID] = true
		assert.Contains(t, []string{"blocker", "warning", "info"}, f.Severity)
		assert.NotZero(t, f.Item)
	}
	assert.True(t, ids["SECRET003"] && ids["AUTH002"] && ids["DEPLOY003"])
}

// TestSARIFShape checks the output against the properties SARIF 2.1.0 marks
// required, and those GitHub code scanning needs (a location per result).
func TestSARIFShape(t *testing.T) {
	r := reportWithFindings(t)
	var buf bytes.Buffer
	require.NoError(t, r.WriteSARIF(&buf, readiness.SARIFOptions{ToolVersion: "v0.1.0"}))
	var log map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &log))
	assert.Equal(t, "2.1.0", log["version"])
	assert.NotEmpty(t, log["$schema"])
	runs := log["runs"].([]any)
	require.Len(t, runs, 1)
	run := runs[0].(map[string]any)
	driver := run["tool"].(map[string]any)["driver"].(map[string]any)
	assert.Equal(t, "launchready", driver["name"])
	rules := driver["rules"].([]any)
	ruleIDs := map[string]int{}
	for i, rr := range rules {
		rule := rr.(map[string]any)
		require.NotEmpty(t, rule["id"])
		ruleIDs[rule["id"].(string)] = i
	}
	results := run["results"].([]any)
	require.Len(t, results, len(r.Findings))
	var suppressed, located int
	for _, rr := range results {
		res := rr.(map[string]any)
		id := res["ruleId"].(string)
		require.Contains(t, ruleIDs, id)
		assert.EqualValues(t, ruleIDs[id], res["ruleIndex"])
		assert.Contains(t, []string{"error", "warning", "note", "none"}, res["level"])
		msg := res["message"].(map[string]any)
		assert.NotEmpty(t, msg["text"], "message.text is required")
		locs := res["locations"].([]any)
		require.NotEmpty(t, locs)
		phys := locs[0].(map[string]any)["physicalLocation"].(map[string]any)
		uri := phys["artifactLocation"].(map[string]any)["uri"].(string)
		line := phys["region"].(map[string]any)["startLine"].(float64)
		assert.GreaterOrEqual(t, line, 1.0)
		if id == "SECRET003" {
			assert.Equal(t, "config/dev.go", uri)
			assert.EqualValues(t, 12, line)
			located++
		} else {
			assert.Equal(t, "go.mod", uri)
		}
		if s, ok := res["suppressions"].([]any); ok {
			sup := s[0].(map[string]any)
			assert.Equal(t, "external", sup["kind"])
			assert.Equal(t, "demo only", sup["justification"])
			suppressed++
		}
	}
	assert.Equal(t, 1, suppressed)
	assert.Equal(t, 1, located)
}

func TestTextScorecard(t *testing.T) {
	out := reportWithFindings(t).String()
	for _, want := range []string{
		"launch readiness (production): BLOCKED",
		"   1  Auth protection        WARN  (1 accepted)",
		"   3  Secrets management     FAIL  (1 blocker)",
		"   9  Deployment safety      FAIL  (2 blockers)",
		"  10  Monitoring coverage    PASS",
		"BLOCKER SECRET003 config/dev.go:12: GitHub token ghp_…a1b2",
		"fix: revoke and move to the environment",
		"ACCEPTED: demo only",
	} {
		assert.Contains(t, out, want)
	}
}

// A report of a run that looked at some items only says NOT CHECKED for the
// others, never PASS; an item with findings shows them whatever the scope.
func TestReportOnlyMarksOtherItemsNotChecked(t *testing.T) {
	r := readiness.NewReport(readiness.Production, []readiness.Finding{
		{ID: "DEPLOY003", Severity: readiness.Blocker, Item: readiness.ItemDeploy, Seen: "x"},
	}).Only(readiness.ItemSecrets)
	card := r.Scorecard()
	assert.Equal(t, readiness.Pass, card[readiness.ItemSecrets-1].Status)
	assert.Equal(t, readiness.NotChecked, card[readiness.ItemAuth-1].Status)
	assert.Equal(t, readiness.Fail, card[readiness.ItemDeploy-1].Status)
	var b strings.Builder
	require.NoError(t, r.WriteText(&b))
	assert.Contains(t, b.String(), "NOT CHECKED")
	all := readiness.NewReport(readiness.Production, nil)
	assert.Equal(t, readiness.Pass, all.Scorecard()[readiness.ItemAuth-1].Status, "no scope: every item was checked")
}
