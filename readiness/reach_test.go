package readiness_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/readiness"
)

// What probes record reaches the report: per-route reach counts in the
// JSON, and evidence that turns the matching static finding into info.
func TestReachAndEvidenceInReport(t *testing.T) {
	target := goodTarget(t, readiness.Production)
	target.Checks = []readiness.Check{
		readiness.CheckFunc("static", func(context.Context, *readiness.Inspection) []readiness.Finding {
			return []readiness.Finding{
				{ID: "INPUT002", Severity: readiness.Blocker, Route: "POST /api/notes", Seen: "no size cap in the chain"},
				{ID: "INPUT002", Severity: readiness.Blocker, Route: "POST /api/other", Seen: "no size cap in the chain"},
			}
		}),
		readiness.CheckFunc("fake probe", func(_ context.Context, in *readiness.Inspection) []readiness.Finding {
			in.RecordReach(readiness.ProbeReach{Probe: "fake probe", Route: "POST /api/notes", Sent: 4, Reached: 3,
				Refused: map[string]int{"rate limit (429)": 1}})
			in.RecordEvidence(readiness.Evidence{ID: "INPUT002", Route: "POST /api/notes", Proof: "a body of 1048577 bytes was answered 413"})
			return nil
		}),
	}
	r, err := readiness.Run(t.Context(), target)
	require.NoError(t, err)
	require.Len(t, r.Reach, 1)
	assert.Equal(t, 3, r.Reach[0].Reached)

	var resolved, open []readiness.Finding
	for _, f := range r.ByID("INPUT002") {
		if f.VerifiedByProbe != "" {
			resolved = append(resolved, f)
		} else {
			open = append(open, f)
		}
	}
	require.Len(t, resolved, 1, "evidence resolves only its route")
	assert.Equal(t, "POST /api/notes", resolved[0].Route)
	assert.Equal(t, readiness.Info, resolved[0].Severity)
	assert.Contains(t, resolved[0].Seen, "verified by probe: a body of 1048577 bytes was answered 413")
	require.Len(t, open, 1)
	assert.True(t, open[0].Blocks(), "the other route keeps its blocker")

	var buf bytes.Buffer
	require.NoError(t, r.WriteJSON(&buf))
	var doc struct {
		Reach []struct {
			Probe   string         `json:"probe"`
			Route   string         `json:"route"`
			Sent    int            `json:"sent"`
			Reached int            `json:"reached"`
			Refused map[string]int `json:"refused"`
		} `json:"probe_reach"`
		Findings []struct {
			ID       string `json:"id"`
			Verified string `json:"verified_by_probe"`
		} `json:"findings"`
	}
	require.NoError(t, json.Unmarshal(buf.Bytes(), &doc))
	require.Len(t, doc.Reach, 1)
	assert.Equal(t, 4, doc.Reach[0].Sent)
	assert.Equal(t, 1, doc.Reach[0].Refused["rate limit (429)"])
	verified := 0
	for _, f := range doc.Findings {
		if f.Verified != "" {
			verified++
		}
	}
	assert.Equal(t, 1, verified)
}
