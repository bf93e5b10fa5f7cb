package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/audit"
	auditpg "github.com/launchready/launchready/audit/postgres"
	"github.com/launchready/launchready/internal/enginetest"
)

func verifyCmd(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), append([]string{"audit", "verify"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

var lastRE = regexp.MustCompile(`last (\d+:[0-9a-f]{64})`)

func TestAuditVerifyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	s, err := audit.OpenFile(path, nil)
	require.NoError(t, err)
	for i := range 4 {
		require.NoError(t, s.Write(context.Background(), audit.Record{Time: time.Now(), Kind: "event", Action: "export",
			PrincipalID: fmt.Sprint("u-", i), Outcome: "success"}))
	}
	require.NoError(t, s.Close())

	code, out, _ := verifyCmd(path)
	require.Equal(t, exitOK, code, out)
	m := lastRE.FindStringSubmatch(out)
	require.Len(t, m, 2, out)
	code, _, _ = verifyCmd("-anchor", m[1], path)
	assert.Equal(t, exitOK, code)

	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(b), `"u-2"`, `"u-9"`, 1)), 0o600))
	code, out, _ = verifyCmd(path)
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, out, "record 3 (seq 3)")
	assert.Contains(t, out, "edited")

	code, _, errOut := verifyCmd("-anchor", "nonsense", path)
	assert.Equal(t, exitCantRun, code)
	assert.Contains(t, errOut, "SEQ:HASH")
	code, _, _ = verifyCmd(filepath.Join(t.TempDir(), "missing.jsonl"))
	assert.Equal(t, exitCantRun, code)
	code, _, _ = verifyCmd()
	assert.Equal(t, exitCantRun, code)
}

func TestAuditVerifyPostgres(t *testing.T) {
	pg := enginetest.StartPostgres(t)
	ctx := context.Background()
	owner, err := pgxpool.New(ctx, pg.URL("postgres", "postgres"))
	require.NoError(t, err)
	defer owner.Close()
	require.NoError(t, auditpg.Migrate(ctx, owner, ""))
	sink, err := auditpg.New(auditpg.Config{Pool: owner})
	require.NoError(t, err)
	for range 5 {
		require.NoError(t, sink.Write(ctx, audit.Record{Time: time.Now(), Kind: "event", Action: "login", Outcome: "success"}))
	}
	require.NoError(t, sink.Close())
	url := pg.URL("postgres", "postgres")
	code, out, _ := verifyCmd(url)
	require.Equal(t, exitOK, code, out)
	assert.Contains(t, out, "5 records")

	for _, sql := range []string{"ALTER TABLE audit_records DISABLE TRIGGER USER", "DELETE FROM audit_records WHERE seq = 2", "ALTER TABLE audit_records ENABLE TRIGGER USER"} {
		_, err := owner.Exec(ctx, sql)
		require.NoError(t, err)
	}
	code, out, _ = verifyCmd(url)
	assert.Equal(t, exitFailed, code)
	assert.Contains(t, out, "seq 3")
	assert.Contains(t, out, "missing before it")
}

func FuzzParseAnchor(f *testing.F) {
	f.Add("")
	f.Add("12:" + strings.Repeat("ab", 32))
	f.Add("0:" + strings.Repeat("0", 64))
	f.Add("18446744073709551616:x")
	f.Fuzz(func(t *testing.T, s string) {
		l, err := parseAnchor(s)
		if err != nil {
			assert.Contains(t, err.Error(), "SEQ:HASH")
			return
		}
		if s != "" {
			assert.Positive(t, l.Seq)
			assert.Len(t, l.Hash, 64)
		}
	})
}
