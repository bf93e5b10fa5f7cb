package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/audit"
	"github.com/launchready/launchready/audit/postgres"
	"github.com/launchready/launchready/internal/enginetest"
)

const appRole = "portal_app"

// db is a PostgreSQL server with the audit table migrated by its owner
// (the superuser) and an INSERT/SELECT-only app role.
type db struct {
	pg    *enginetest.Postgres
	owner *pgxpool.Pool
}

func pool(t testing.TB, url string) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(url)
	require.NoError(t, err)
	cfg.ConnConfig.ConnectTimeout = 2 * time.Second
	p, err := pgxpool.NewWithConfig(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(p.Close)
	return p
}

func startDB(t testing.TB) *db {
	t.Helper()
	pg := enginetest.StartPostgres(t)
	owner := pool(t, pg.URL("postgres", "postgres"))
	ctx := context.Background()
	_, err := owner.Exec(ctx, "CREATE ROLE "+appRole+" LOGIN")
	require.NoError(t, err)
	require.NoError(t, postgres.Migrate(ctx, owner, appRole))
	require.NoError(t, postgres.Migrate(ctx, owner, appRole), "the migration is idempotent")
	return &db{pg: pg, owner: owner}
}

func (d *db) sink(t testing.TB, role string) *postgres.Sink {
	t.Helper()
	s, err := postgres.New(postgres.Config{Pool: pool(t, d.pg.URL(role, "postgres")), Timeout: 2 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func record(i int) audit.Record {
	return audit.Record{Time: time.Now(), Kind: "request", Method: "PATCH", Route: "PATCH /api/tickets/{id}",
		Objects: map[string]string{"id": fmt.Sprint("t-", i)}, PrincipalID: "u-agent", Status: 204, Outcome: audit.OutcomeSuccess,
		RequestID: fmt.Sprint("req-", i)}
}

// Three writers (three replicas' pools) writing concurrently make one chain
// with one global order, committed in batches.
func TestOneChainAcrossReplicas(t *testing.T) {
	d := startDB(t)
	sinks := []*postgres.Sink{d.sink(t, appRole), d.sink(t, appRole), d.sink(t, appRole)}
	const n = 300
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { assert.NoError(t, sinks[i%3].Write(context.Background(), record(i))) })
	}
	wg.Wait()
	rep, err := postgres.Verify(context.Background(), d.owner, audit.Link{})
	require.NoError(t, err)
	assert.Equal(t, n, rep.Checked)
	assert.Equal(t, uint64(n), rep.Last.Seq)
	var batches, recs uint64
	for _, s := range sinks {
		st := s.Stats()
		batches += st.Batches
		recs += st.Records
		require.NoError(t, s.VerifyTail(context.Background(), 50))
	}
	assert.Equal(t, uint64(n), recs)
	assert.Less(t, batches, uint64(n), "concurrent writes share transactions (group commit)")
	var distinct int
	require.NoError(t, d.owner.QueryRow(context.Background(), "SELECT count(DISTINCT request_id) FROM audit_records").Scan(&distinct))
	assert.Equal(t, n, distinct, "every record stored exactly once")
}

func TestAppRoleCannotRewrite(t *testing.T) {
	d := startDB(t)
	app := d.sink(t, appRole)
	require.NoError(t, app.Write(context.Background(), record(1)))
	privs, err := app.CanRewrite(context.Background())
	require.NoError(t, err)
	assert.Empty(t, privs, "the app's role holds INSERT and SELECT only")

	appPool := pool(t, d.pg.URL(appRole, "postgres"))
	for _, sql := range []string{
		"UPDATE audit_records SET principal = 'u-forger'",
		"DELETE FROM audit_records",
		"TRUNCATE audit_records",
	} {
		_, err := appPool.Exec(context.Background(), sql)
		assert.ErrorContains(t, err, "permission denied", sql)
	}
	// The owner holds every privilege (and readiness warns, AUDIT003),
	// but the trigger still refuses a rewrite.
	owner := d.sink(t, "postgres")
	privs, err = owner.CanRewrite(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"UPDATE", "DELETE", "TRUNCATE"}, privs)
	_, err = d.owner.Exec(context.Background(), "DELETE FROM audit_records")
	assert.ErrorContains(t, err, "append-only")
}

// tamper runs sql as the owner with the append-only triggers off, as an
// attacker holding the owner's credentials would.
func (d *db) tamper(t *testing.T, sql ...string) {
	t.Helper()
	ctx := context.Background()
	_, err := d.owner.Exec(ctx, "ALTER TABLE audit_records DISABLE TRIGGER USER")
	require.NoError(t, err)
	for _, s := range sql {
		_, err = d.owner.Exec(ctx, s)
		require.NoError(t, err, s)
	}
	_, err = d.owner.Exec(ctx, "ALTER TABLE audit_records ENABLE TRIGGER USER")
	require.NoError(t, err)
}

func TestTamperNamesFirstBadRecord(t *testing.T) {
	// The forged record an attacker inserts at seq 3, correctly chained
	// after seq 2: the record it displaced (now seq 4) fails.
	forged := func(d *db) string {
		var l audit.Link
		require.NoError(t, d.owner.QueryRow(context.Background(), "SELECT seq, hash FROM audit_records WHERE seq = 2").Scan(&l.Seq, &l.Hash))
		rec, _ := audit.Chain(l, audit.Record{Time: time.Now(), Kind: "event", Action: "export", Outcome: "success"})
		return fmt.Sprintf(`INSERT INTO audit_records (seq, time, kind, action, outcome, prev, hash) VALUES (3, '%s', 'event', 'export', 'success', '%s', '%s')`,
			rec.Time.Format(time.RFC3339Nano), rec.Prev, rec.Hash)
	}
	tests := []struct {
		name   string
		sql    func(d *db) []string
		seq    uint64
		reason string
	}{
		{"edit", func(*db) []string { return []string{"UPDATE audit_records SET principal = 'u-forger' WHERE seq = 3"} }, 3, "edited"},
		{"delete", func(*db) []string { return []string{"DELETE FROM audit_records WHERE seq = 3"} }, 4, "missing before it"},
		{"insert", func(d *db) []string {
			return []string{"UPDATE audit_records SET seq = seq + 1000 WHERE seq >= 3", "UPDATE audit_records SET seq = seq - 999 WHERE seq > 1000", forged(d)}
		}, 4, "edited"},
		{"reorder", func(*db) []string {
			return []string{"UPDATE audit_records SET seq = 100 WHERE seq = 3", "UPDATE audit_records SET seq = 3 WHERE seq = 4", "UPDATE audit_records SET seq = 4 WHERE seq = 100"}
		}, 3, "edited"},
	}
	d := startDB(t)
	s := d.sink(t, appRole)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := d.owner.Exec(context.Background(), "DROP TABLE audit_records")
			require.NoError(t, err)
			require.NoError(t, postgres.Migrate(context.Background(), d.owner, appRole))
			for i := range 6 {
				require.NoError(t, s.Write(context.Background(), record(i)))
			}
			_, err = postgres.Verify(context.Background(), d.owner, audit.Link{})
			require.NoError(t, err)
			d.tamper(t, tt.sql(d)...)
			for name, err := range map[string]error{
				"Verify":     func() error { _, err := postgres.Verify(context.Background(), d.owner, audit.Link{}); return err }(),
				"VerifyTail": s.VerifyTail(context.Background(), 0),
			} {
				var ce *audit.ChainError
				require.ErrorAs(t, err, &ce, name)
				assert.Equal(t, tt.seq, ce.Seq, "%s: %v", name, err)
				assert.Equal(t, tt.reason, ce.Reason, name)
				assert.ErrorIs(t, err, audit.ErrChainBroken)
			}
		})
	}
}

func TestAnchorCatchesCutTail(t *testing.T) {
	d := startDB(t)
	s := d.sink(t, appRole)
	for i := range 5 {
		require.NoError(t, s.Write(context.Background(), record(i)))
	}
	rep, err := postgres.Verify(context.Background(), d.owner, audit.Link{})
	require.NoError(t, err)
	d.tamper(t, "DELETE FROM audit_records WHERE seq >= 4")
	_, err = postgres.Verify(context.Background(), d.owner, audit.Link{})
	require.NoError(t, err, "a chain cut at its end is self-consistent")
	_, err = postgres.Verify(context.Background(), d.owner, rep.Last)
	var ce *audit.ChainError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "tail missing", ce.Reason)
}

// While PostgreSQL is down, Write fails (the auditor then refuses
// mutations); after a restart the chain continues.
func TestPostgresDownAndBack(t *testing.T) {
	d := startDB(t)
	s := d.sink(t, appRole)
	require.NoError(t, s.Write(context.Background(), record(1)))
	d.pg.Stop()
	err := s.Write(context.Background(), record(2))
	require.Error(t, err)
	assert.True(t, errors.Is(err, postgres.ErrUnavailable))
	d.pg.Start()
	require.NoError(t, s.Write(context.Background(), record(3)))
	rep, err := postgres.Verify(context.Background(), pool(t, d.pg.URL(appRole, "postgres")), audit.Link{})
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Checked, "the failed record is not stored")
}

func TestConfigRefused(t *testing.T) {
	_, err := postgres.New(postgres.Config{})
	assert.ErrorContains(t, err, "Config.Pool")
}

func TestClosedSinkRefuses(t *testing.T) {
	d := startDB(t)
	s := d.sink(t, appRole)
	require.NoError(t, s.Close())
	assert.ErrorIs(t, s.Write(context.Background(), record(1)), postgres.ErrUnavailable)
}
