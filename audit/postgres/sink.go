package postgres

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/launchready/launchready/audit"
)

//go:embed migrations/*.sql
var migrations embed.FS

// LockKey is the pg_advisory_xact_lock key every writer of the trail takes.
const LockKey int64 = 0x6c72_6175_6469_7400 // "lraudit\0"

// Table is the audit table's name.
const Table = "audit_records"

// ErrUnavailable is wrapped by Write's errors when the record could not be
// committed (PostgreSQL down, a timeout, the sink closed).
var ErrUnavailable = errors.New("audit/postgres: audit trail unavailable")

// Config configures the sink.
type Config struct {
	// Pool connects as the app's role (INSERT and SELECT on the table).
	// Required.
	Pool *pgxpool.Pool
	// MaxBatch bounds how many queued records one transaction commits.
	// Default 256.
	MaxBatch int
	// Timeout bounds one transaction, so a hung database costs a request
	// at most this long before it is refused. Default 5 s.
	Timeout time.Duration
	// Logger receives batch failures. Nil discards.
	Logger *slog.Logger
}

// Sink is an audit.Sink on PostgreSQL.
type Sink struct {
	pool     *pgxpool.Pool
	maxBatch int
	timeout  time.Duration
	logger   *slog.Logger
	queue    chan *pending
	stop     chan struct{}
	done     chan struct{}
	once     sync.Once

	statsMu sync.Mutex
	stats   Stats
}

var (
	_ audit.Sink              = (*Sink)(nil)
	_ audit.TailVerifier      = (*Sink)(nil)
	_ audit.PrivilegeReporter = (*Sink)(nil)
)

type pending struct {
	rec  audit.Record
	done chan error
}

// Stats count the sink's work: records per transaction is Records/Batches.
type Stats struct {
	Batches, Records, Failures uint64
	// CommitTime is the total time spent in successful transactions.
	CommitTime time.Duration
}

// Migrate creates the table, its append-only triggers, and, when appRole
// is not empty, grants appRole INSERT and SELECT on it (Grant). Run it with
// the table owner's pool, not the app's. It is idempotent.
func Migrate(ctx context.Context, owner *pgxpool.Pool, appRole string) error {
	sql, err := migrations.ReadFile("migrations/001_audit_records.sql")
	if err != nil {
		return err
	}
	if _, err := owner.Exec(ctx, string(sql)); err != nil {
		return fmt.Errorf("audit/postgres: migrate: %w", err)
	}
	if appRole != "" {
		return Grant(ctx, owner, appRole)
	}
	return nil
}

// Grant gives role INSERT and SELECT on the table, and nothing else.
func Grant(ctx context.Context, owner *pgxpool.Pool, role string) error {
	id := pgx.Identifier{role}.Sanitize()
	if _, err := owner.Exec(ctx, "REVOKE ALL ON "+Table+" FROM "+id+"; GRANT INSERT, SELECT ON "+Table+" TO "+id); err != nil {
		return fmt.Errorf("audit/postgres: grant INSERT, SELECT to %s: %w", role, err)
	}
	return nil
}

// New validates c and starts the sink's writer. Close stops it.
func New(c Config) (*Sink, error) {
	if c.Pool == nil {
		return nil, errors.New("audit/postgres: Config.Pool is nil; pass a pgxpool.Pool connected as the app's role")
	}
	if c.MaxBatch < 0 {
		return nil, fmt.Errorf("audit/postgres: Config.MaxBatch is %d; use a positive number or 0 for 256", c.MaxBatch)
	}
	if c.Timeout < 0 {
		return nil, fmt.Errorf("audit/postgres: Config.Timeout is %v; use a positive duration or 0 for 5s", c.Timeout)
	}
	s := &Sink{pool: c.Pool, maxBatch: c.MaxBatch, timeout: c.Timeout, logger: c.Logger,
		queue: make(chan *pending, 4096), stop: make(chan struct{}), done: make(chan struct{})}
	if s.maxBatch == 0 {
		s.maxBatch = 256
	}
	if s.timeout == 0 {
		s.timeout = 5 * time.Second
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	go s.run()
	return s, nil
}

// Close stops the writer after the queued records; later writes fail.
func (s *Sink) Close() error {
	s.once.Do(func() { close(s.stop) })
	<-s.done
	return nil
}

// Stats returns the counters.
func (s *Sink) Stats() Stats {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	return s.stats
}

// Write queues rec and returns once it is committed (or failed). The
// record gets its Seq, Prev and Hash in the transaction that stores it.
func (s *Sink) Write(ctx context.Context, rec audit.Record) error {
	p := &pending{rec: rec, done: make(chan error, 1)}
	select {
	case <-s.stop:
		return fmt.Errorf("%w: the sink is closed", ErrUnavailable)
	default:
	}
	select {
	case s.queue <- p:
	case <-s.stop:
		return fmt.Errorf("%w: the sink is closed", ErrUnavailable)
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
	}
	select {
	case err := <-p.done:
		return err
	case <-s.done: // closed before the writer took it
		select {
		case err := <-p.done:
			return err
		default:
			return fmt.Errorf("%w: the sink is closed", ErrUnavailable)
		}
	case <-ctx.Done():
		// The record may still be committed; the caller must treat it as
		// not stored.
		return fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
	}
}

// run commits queued records in batches until Close.
func (s *Sink) run() {
	defer close(s.done)
	batch := make([]*pending, 0, s.maxBatch)
	for {
		select {
		case p := <-s.queue:
			batch = append(batch[:0], p)
		case <-s.stop:
			for {
				select {
				case p := <-s.queue:
					p.done <- fmt.Errorf("%w: the sink is closed", ErrUnavailable)
				default:
					return
				}
			}
		}
	fill:
		for len(batch) < s.maxBatch {
			select {
			case p := <-s.queue:
				batch = append(batch, p)
			default:
				break fill
			}
		}
		start := time.Now()
		sent, err := s.commit(batch)
		if err != nil && !sent {
			// Nothing reached COMMIT, so nothing is stored: retry once on a
			// fresh connection (a pooled one may be dead after a restart).
			_, err = s.commit(batch)
		}
		s.statsMu.Lock()
		if err != nil {
			s.stats.Failures++
		} else {
			s.stats.Batches++
			s.stats.Records += uint64(len(batch))
			s.stats.CommitTime += time.Since(start)
		}
		s.statsMu.Unlock()
		if err != nil {
			s.logger.Error("audit/postgres: batch not committed", slog.Int("records", len(batch)), slog.String("error", err.Error()))
			err = fmt.Errorf("%w: %w", ErrUnavailable, err)
		}
		for _, p := range batch {
			p.done <- err
		}
	}
}

// commit stores batch in one transaction, chained after the table's tail.
// sent reports whether COMMIT was sent: if it was and failed, the batch
// may be stored or not.
func (s *Sink) commit(batch []*pending) (sent bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return false, err
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	// Durable before the response, whatever the server's default.
	if _, err := tx.Exec(ctx, "SET LOCAL synchronous_commit = on"); err != nil {
		return false, err
	}
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", LockKey); err != nil {
		return false, err
	}
	var last audit.Link
	err = tx.QueryRow(ctx, "SELECT seq, hash FROM "+Table+" ORDER BY seq DESC LIMIT 1").Scan(&last.Seq, &last.Hash)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return false, err
	}
	rows := make([][]any, len(batch))
	for i, p := range batch {
		var rec audit.Record
		rec, last = audit.Chain(last, p.rec)
		var objects []byte
		if len(rec.Objects) > 0 {
			if objects, err = json.Marshal(rec.Objects); err != nil {
				return false, err
			}
		}
		rows[i] = []any{int64(rec.Seq), rec.Time, rec.Kind, rec.Action, rec.PrincipalID, rec.Tenant,
			rec.Method, rec.Route, objects, rec.Status, rec.Outcome, rec.RequestID, rec.ClientIP, rec.Prev, rec.Hash}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{Table}, columns, pgx.CopyFromRows(rows)); err != nil {
		return false, err
	}
	return true, tx.Commit(ctx)
}

var columns = []string{"seq", "time", "kind", "action", "principal", "tenant", "method", "route",
	"objects", "status", "outcome", "request_id", "client_ip", "prev", "hash"}

const selectRecords = "SELECT seq, time, kind, action, principal, tenant, method, route, objects, status, outcome, request_id, client_ip, prev, hash FROM " + Table

func scan(rows pgx.Rows) (audit.Record, error) {
	var rec audit.Record
	var seq int64
	var objects []byte
	err := rows.Scan(&seq, &rec.Time, &rec.Kind, &rec.Action, &rec.PrincipalID, &rec.Tenant, &rec.Method,
		&rec.Route, &objects, &rec.Status, &rec.Outcome, &rec.RequestID, &rec.ClientIP, &rec.Prev, &rec.Hash)
	if err != nil {
		return rec, err
	}
	rec.Seq = uint64(seq)
	rec.Time = rec.Time.UTC()
	if len(objects) > 0 {
		if err := json.Unmarshal(objects, &rec.Objects); err != nil {
			return rec, fmt.Errorf("objects of seq %d: %w", seq, err)
		}
	}
	return rec, nil
}

// Report is what Verify found.
type Report struct {
	// Last is the chain's last record: keep it as the next anchor.
	Last audit.Link
	// Checked counts the records verified.
	Checked int
}

// Verify streams the whole table in seq order through an audit.Verifier
// and returns the first bad record as an *audit.ChainError. With a
// non-zero anchor it also catches a trail cut off before the anchor or
// rewritten up to it.
func Verify(ctx context.Context, q Querier, anchor audit.Link) (Report, error) {
	return verify(ctx, q, selectRecords+" ORDER BY seq", nil, audit.NewVerifier(audit.Link{}), anchor)
}

// Querier is what Verify reads through: a *pgxpool.Pool, *pgx.Conn or
// pgx.Tx.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func verify(ctx context.Context, q Querier, sql string, args []any, v *audit.Verifier, anchor audit.Link) (Report, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return Report{}, fmt.Errorf("audit/postgres: read the trail: %w", err)
	}
	defer rows.Close()
	var rep Report
	for rows.Next() {
		rec, err := scan(rows)
		if err != nil {
			return rep, fmt.Errorf("audit/postgres: read the trail: %w", err)
		}
		if err := v.Next(rec); err != nil {
			return rep, err
		}
		if anchor.Seq > 0 && rec.Seq == anchor.Seq && anchor.Hash != "" && rec.Hash != anchor.Hash {
			return rep, &audit.ChainError{Index: v.Checked() - 1, Seq: rec.Seq, Reason: "rewritten",
				Detail: "its hash differs from the anchor kept for it: the trail up to here was rewritten"}
		}
	}
	if err := rows.Err(); err != nil {
		return rep, fmt.Errorf("audit/postgres: read the trail: %w", err)
	}
	rep.Last, rep.Checked = v.Last(), v.Checked()
	if anchor.Seq > 0 {
		if err := v.Expect(anchor); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// VerifyTail implements audit.TailVerifier: it verifies the newest n
// records (n <= 0: 1,000) against each other and the record before them,
// whose own hash must match its contents. Readiness runs it at boot.
func (s *Sink) VerifyTail(ctx context.Context, n int) error {
	if n <= 0 {
		n = 1000
	}
	rows, err := s.pool.Query(ctx, selectRecords+" ORDER BY seq DESC LIMIT $1", n+1)
	if err != nil {
		return fmt.Errorf("audit/postgres: read the tail: %w", err)
	}
	var recs []audit.Record
	for rows.Next() {
		rec, err := scan(rows)
		if err != nil {
			rows.Close()
			return fmt.Errorf("audit/postgres: read the tail: %w", err)
		}
		recs = append(recs, rec)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("audit/postgres: read the tail: %w", err)
	}
	if len(recs) == 0 {
		return nil
	}
	// Oldest first; the oldest is the anchor when it is not seq 1.
	for i, j := 0, len(recs)-1; i < j; i, j = i+1, j-1 {
		recs[i], recs[j] = recs[j], recs[i]
	}
	v := audit.NewVerifier(audit.Link{})
	if first := recs[0]; first.Seq > 1 {
		if audit.HashOf(first) != first.Hash {
			return &audit.ChainError{Index: 0, Seq: first.Seq, Reason: "edited",
				Detail: "its hash does not match its contents: a field was changed after it was written"}
		}
		v = audit.NewVerifier(audit.Link{Seq: first.Seq, Hash: first.Hash})
		recs = recs[1:]
	}
	for _, rec := range recs {
		if err := v.Next(rec); err != nil {
			return err
		}
	}
	return nil
}

// CanRewrite implements audit.PrivilegeReporter: the privileges beyond
// INSERT and SELECT the sink's role holds on the table.
func (s *Sink) CanRewrite(ctx context.Context) ([]string, error) {
	var out []string
	for _, priv := range []string{"UPDATE", "DELETE", "TRUNCATE"} {
		var has bool
		if err := s.pool.QueryRow(ctx, "SELECT has_table_privilege(current_user, $1, $2)", Table, priv).Scan(&has); err != nil {
			return nil, fmt.Errorf("audit/postgres: read the role's privileges: %w", err)
		}
		if has {
			out = append(out, priv)
		}
	}
	return out, nil
}

// Records returns the newest limit records, newest first, for an admin
// view.
func (s *Sink) Records(ctx context.Context, limit int) ([]audit.Record, error) {
	rows, err := s.pool.Query(ctx, selectRecords+" ORDER BY seq DESC LIMIT $1", limit)
	if err != nil {
		return nil, fmt.Errorf("audit/postgres: read records: %w", err)
	}
	defer rows.Close()
	var out []audit.Record
	for rows.Next() {
		rec, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, rows.Err()
}
