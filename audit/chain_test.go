package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/audit"
)

// writeTrail writes n records through a FileSink and returns the file's
// lines.
func writeTrail(t *testing.T, n int) (string, []string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	s, err := audit.OpenFile(path, &audit.FileOptions{Sync: audit.SyncNone})
	require.NoError(t, err)
	start := time.Date(2026, 12, 5, 10, 0, 0, 123456789, time.UTC)
	for i := range n {
		require.NoError(t, s.Write(context.Background(), audit.Record{
			Time: start.Add(time.Duration(i) * time.Second), Kind: "request", Method: "PATCH",
			Route: "PATCH /api/tickets/{id}", Objects: map[string]string{"id": fmt.Sprint("t-", i)},
			PrincipalID: "u-agent", Status: 204, Outcome: audit.OutcomeSuccess,
		}))
	}
	require.NoError(t, s.Close())
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return path, strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

func rewrite(t *testing.T, path string, lines []string) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600))
}

func TestFileChainVerifies(t *testing.T) {
	path, lines := writeTrail(t, 5)
	require.Len(t, lines, 5)
	rep, err := audit.VerifyFile(path, audit.Link{})
	require.NoError(t, err)
	assert.Equal(t, 5, rep.Checked)
	assert.Equal(t, uint64(5), rep.Last.Seq)

	// Reopening continues the chain where it ended.
	s, err := audit.OpenFile(path, nil)
	require.NoError(t, err)
	assert.Equal(t, rep.Last, s.Last())
	require.NoError(t, s.Write(context.Background(), audit.Record{Time: time.Now(), Kind: "event", Action: "login", Outcome: "success"}))
	require.NoError(t, s.VerifyTail(context.Background(), 0))
	require.NoError(t, s.Close())
	rep, err = audit.VerifyFile(path, rep.Last)
	require.NoError(t, err)
	assert.Equal(t, uint64(6), rep.Last.Seq)
}

// Each tampering is caught at the first bad record, named by its position
// and seq.
func TestFileChainTamperNamesFirstBadRecord(t *testing.T) {
	edit := func(line string, f func(map[string]any)) string {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m))
		f(m)
		b, err := json.Marshal(m)
		require.NoError(t, err)
		return string(b)
	}
	tests := []struct {
		name    string
		tamper  func([]string) []string
		seq     uint64
		index   int
		reason  string
		wantErr bool
	}{
		{"edit a field", func(l []string) []string {
			l[2] = edit(l[2], func(m map[string]any) { m["principal"] = "u-someone-else" })
			return l
		}, 3, 2, "edited", true},
		{"edit and rehash", func(l []string) []string {
			// The attacker recomputes the edited record's own hash: the
			// next record's link no longer matches.
			var rec audit.Record
			require.NoError(t, json.Unmarshal([]byte(l[2]), &rec))
			rec.Status = 500
			rec.Hash = audit.HashOf(rec)
			b, _ := json.Marshal(rec)
			l[2] = string(b)
			return l
		}, 4, 3, "wrong link", true},
		{"delete", func(l []string) []string { return append(l[:1:1], l[2:]...) }, 3, 1, "missing before it", true},
		{"insert", func(l []string) []string {
			var rec audit.Record
			require.NoError(t, json.Unmarshal([]byte(l[1]), &rec))
			rec.Action, rec.Kind = "export", "event"
			rec.Hash = audit.HashOf(rec) // same seq and prev as the record it precedes
			b, _ := json.Marshal(rec)
			return append(l[:1:1], append([]string{string(b)}, l[1:]...)...)
		}, 2, 2, "out of order", true},
		{"reorder", func(l []string) []string { l[2], l[3] = l[3], l[2]; return l }, 4, 2, "missing before it", true},
		{"garble", func(l []string) []string { l[1] = `{"kind":"request"`; return l }, 2, 1, "edited", true},
		{"cut the tail (undetectable without an anchor)", func(l []string) []string { return l[:4] }, 0, 0, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, lines := writeTrail(t, 6)
			rewrite(t, path, tt.tamper(lines))
			_, err := audit.VerifyFile(path, audit.Link{})
			if !tt.wantErr {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, audit.ErrChainBroken)
			var ce *audit.ChainError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.seq, ce.Seq, "seq of the first bad record: %v", err)
			assert.Equal(t, tt.index, ce.Index, "index of the first bad record: %v", err)
			assert.Equal(t, tt.reason, ce.Reason)
		})
	}
}

func TestFileChainAnchorCatchesCutTail(t *testing.T) {
	path, lines := writeTrail(t, 6)
	rep, err := audit.VerifyFile(path, audit.Link{})
	require.NoError(t, err)
	rewrite(t, path, lines[:4])
	_, err = audit.VerifyFile(path, rep.Last)
	var ce *audit.ChainError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "tail missing", ce.Reason)

	// A rewritten trail (every hash recomputed from the start) does not
	// match an anchor kept outside it.
	path, lines = writeTrail(t, 4)
	anchor, err := audit.VerifyFile(path, audit.Link{})
	require.NoError(t, err)
	var recs []audit.Record
	for _, l := range lines {
		var r audit.Record
		require.NoError(t, json.Unmarshal([]byte(l), &r))
		recs = append(recs, r)
	}
	recs[1].PrincipalID = "u-forger"
	var forged bytes.Buffer
	var last audit.Link
	for _, r := range recs {
		r, last = audit.Chain(last, r)
		b, _ := json.Marshal(r)
		forged.Write(append(b, '\n'))
	}
	require.NoError(t, os.WriteFile(path, forged.Bytes(), 0o600))
	_, err = audit.VerifyFile(path, audit.Link{})
	require.NoError(t, err, "a fully rehashed chain is self-consistent")
	_, err = audit.VerifyFile(path, anchor.Last)
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "rewritten", ce.Reason)
}

// A crash mid-write leaves a fragment; the chain continues around it.
func TestFileChainSurvivesCrashFragment(t *testing.T) {
	path, _ := writeTrail(t, 3)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`{"time":"2026-12-05T10:00:09Z","kind":"req`)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	s, err := audit.OpenFile(path, nil)
	require.NoError(t, err)
	assert.Equal(t, uint64(3), s.Last().Seq)
	require.NoError(t, s.Write(context.Background(), audit.Record{Time: time.Now(), Kind: "event", Action: "login", Outcome: "success"}))
	require.NoError(t, s.Close())
	rep, err := audit.VerifyFile(path, audit.Link{})
	require.NoError(t, err)
	assert.Equal(t, uint64(4), rep.Last.Seq)
}

// A file whose last complete line is not a record cannot be continued.
func TestOpenFileRefusesGarbledTail(t *testing.T) {
	path, lines := writeTrail(t, 2)
	rewrite(t, path, append(lines, "not a record"))
	_, err := audit.OpenFile(path, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "launchready audit verify")
}

func TestVerifyLegacyPrefix(t *testing.T) {
	var recs []audit.Record
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	recs = append(recs, audit.Record{Time: t0, Kind: "event", Action: "old", Outcome: "success"})
	var last audit.Link
	for i := range 3 {
		var r audit.Record
		r, last = audit.Chain(last, audit.Record{Time: t0.Add(time.Duration(i)), Kind: "event", Action: "new", Outcome: "success"})
		recs = append(recs, r)
	}
	got, err := audit.Verify(recs)
	require.NoError(t, err)
	assert.Equal(t, last, got)
	// An unchained record after chained ones is refused.
	recs = append(recs, audit.Record{Time: t0, Kind: "event", Action: "sneaky", Outcome: "success"})
	_, err = audit.Verify(recs)
	var ce *audit.ChainError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "not chained", ce.Reason)
	assert.Equal(t, 4, ce.Index)
	assert.True(t, errors.Is(err, audit.ErrChainBroken))
}

func TestCanonicalDistinguishesFields(t *testing.T) {
	base := audit.Record{Time: time.Unix(1, 0), Kind: "request", Method: "POST", Route: "POST /a", Outcome: "success"}
	a, b := base, base
	a.PrincipalID, a.Tenant = "ab", "c"
	b.PrincipalID, b.Tenant = "a", "bc"
	assert.NotEqual(t, audit.HashOf(a), audit.HashOf(b), "field boundaries are part of the encoding")
	a, b = base, base
	a.Objects = map[string]string{"id": "1", "x": "2"}
	b.Objects = map[string]string{"x": "2", "id": "1"}
	assert.Equal(t, audit.HashOf(a), audit.HashOf(b), "object order does not matter")
	b.Objects = map[string]string{"id": "1x", "": "2"}
	assert.NotEqual(t, audit.HashOf(a), audit.HashOf(b))
	a, b = base, base
	b.ClientIP = "203.0.113.9"
	assert.NotEqual(t, audit.HashOf(a), audit.HashOf(b), "the client address is covered")
}

func FuzzVerifyReader(f *testing.F) {
	var buf bytes.Buffer
	var last audit.Link
	for i := range 3 {
		var r audit.Record
		r, last = audit.Chain(last, audit.Record{Time: time.Unix(int64(i), 0), Kind: "event", Action: "a", Outcome: "success"})
		b, _ := json.Marshal(r)
		buf.Write(append(b, '\n'))
	}
	f.Add(buf.Bytes(), uint64(0))
	f.Add(buf.Bytes(), uint64(3))
	f.Add([]byte("{\"kind\":\"event\"}\n{"), uint64(1))
	f.Fuzz(func(t *testing.T, data []byte, seq uint64) {
		rep, err := audit.VerifyReader(bytes.NewReader(data), audit.Link{Seq: seq})
		if err == nil && seq > 0 {
			assert.GreaterOrEqual(t, rep.Last.Seq, seq)
		}
		var ce *audit.ChainError
		if errors.As(err, &ce) {
			assert.NotEmpty(t, ce.Reason)
		}
	})
}

// One writer per file: a second one would fork the chain.
func TestOpenFileRefusesASecondWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	s, err := audit.OpenFile(path, nil)
	require.NoError(t, err)
	_, err = audit.OpenFile(path, nil)
	require.ErrorIs(t, err, audit.ErrInUse)
	require.NoError(t, s.Close())
	s, err = audit.OpenFile(path, nil)
	require.NoError(t, err, "closing releases the file")
	require.NoError(t, s.Close())
}
