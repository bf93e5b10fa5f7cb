package readiness_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/audit"
	"github.com/launchready/launchready/readiness"
)

// dbSink stands in for audit/postgres (readiness imports no driver): it
// answers the two small interfaces the chain check asks.
type dbSink struct {
	audit.MemorySink
	privs     []string
	privErr   error
	verifyErr error
}

func (s *dbSink) CanRewrite(context.Context) ([]string, error)    { return s.privs, s.privErr }
func (s *dbSink) VerifyTail(_ context.Context, n int) error       { return s.verifyErr }
func (s *dbSink) Write(ctx context.Context, r audit.Record) error { return s.MemorySink.Write(ctx, r) }

func chainFindings(t *testing.T, sink audit.Sink) []string {
	t.Helper()
	a, err := audit.New(audit.Config{Sink: sink})
	require.NoError(t, err)
	report, err := readiness.Run(context.Background(), readiness.Target{
		Server: &http.Server{Handler: a.Handler(http.NewServeMux()), ReadHeaderTimeout: time.Second},
	})
	require.NoError(t, err)
	var out []string
	for _, id := range []string{"AUDIT003", "AUDIT004"} {
		for _, f := range report.ByID(id) {
			out = append(out, f.ID+" "+f.Severity.String())
		}
	}
	return out
}

func TestAuditChainChecks(t *testing.T) {
	broken := &audit.ChainError{Seq: 7, Reason: "edited", Detail: "x"}
	tests := []struct {
		name string
		sink audit.Sink
		want []string
	}{
		{"insert/select only, chain intact", &dbSink{}, nil},
		{"role can rewrite", &dbSink{privs: []string{"UPDATE", "DELETE"}}, []string{"AUDIT003 warning"}},
		{"privileges unreadable", &dbSink{privErr: errors.New("down")}, []string{"AUDIT003 warning"}},
		{"tail broken", &dbSink{verifyErr: broken}, []string{"AUDIT004 blocker"}},
		{"tail broken inside a tee", audit.Tee{audit.LogSink{}, &dbSink{verifyErr: broken}}, []string{"AUDIT004 blocker"}},
		{"could not verify", &dbSink{verifyErr: errors.New("connection refused")}, []string{"AUDIT004 warning"}},
		{"memory sink: nothing to ask", &audit.MemorySink{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, chainFindings(t, tt.sink))
		})
	}
}

// A real audit file edited on disk blocks the boot.
func TestAuditFileTamperedBlocks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	s, err := audit.OpenFile(path, nil)
	require.NoError(t, err)
	for range 3 {
		require.NoError(t, s.Write(context.Background(), audit.Record{Time: time.Now(), Kind: "event", Action: "login", PrincipalID: "u-1", Outcome: "success"}))
	}
	assert.Empty(t, chainFindings(t, s))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(b), `"u-1"`, `"u-2"`, 1)), 0o600))
	assert.Equal(t, []string{"AUDIT004 blocker"}, chainFindings(t, s))
	require.NoError(t, s.Close())
}
