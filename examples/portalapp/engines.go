package portalapp

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/launchready/launchready/audit"
	auditpg "github.com/launchready/launchready/audit/postgres"
	limitredis "github.com/launchready/launchready/ratelimit/redisstore"
	sessredis "github.com/launchready/launchready/session/redisstore"
)

// Environment variables that stand in for the -redis, -postgres and
// -postgres-migrate flags of examples/portal and examples/cmd/replicas.
const (
	EnvRedisURL           = "LAUNCHREADY_REDIS_URL"
	EnvPostgresURL        = "LAUNCHREADY_POSTGRES_URL"
	EnvPostgresMigrateURL = "LAUNCHREADY_POSTGRES_MIGRATE_URL"
)

// engines are the shared services a portal with several replicas runs on.
type engines struct {
	rdb       *redis.Client
	sessions  *sessredis.Store
	limits    *limitredis.Store
	pool      *pgxpool.Pool
	auditSink *auditpg.Sink
}

func (e *engines) close() {
	if e.auditSink != nil {
		_ = e.auditSink.Close()
	}
	if e.pool != nil {
		e.pool.Close()
	}
	if e.rdb != nil {
		_ = e.rdb.Close()
	}
}

// openEngines connects to what opts names and checks each answers: a
// portal asked to run on shared engines refuses to boot without them
// rather than fall back to per-process state.
func openEngines(ctx context.Context, opts Options, logger *slog.Logger) (_ *engines, err error) {
	e := &engines{}
	defer func() {
		if err != nil {
			e.close()
		}
	}()
	if opts.RedisURL != "" {
		ro, err := redis.ParseURL(opts.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("portal: Options.RedisURL (-redis, %s): %w; write it like redis://127.0.0.1:6379/0", EnvRedisURL, err)
		}
		// Fail fast while Redis is down: one dial, no retries; every call
		// is bounded by the stores' own timeouts too.
		ro.MaxRetries = -1
		ro.DialTimeout = 250 * time.Millisecond
		ro.ReadTimeout = 250 * time.Millisecond
		ro.WriteTimeout = 250 * time.Millisecond
		e.rdb = redis.NewClient(ro)
		if e.sessions, err = sessredis.New(sessredis.Config{Client: e.rdb, Prefix: "portal:session:"}); err != nil {
			return nil, err
		}
		if e.limits, err = limitredis.New(limitredis.Config{Client: e.rdb, Prefix: "portal:limit:"}); err != nil {
			return nil, err
		}
		if err := e.sessions.Ping(ctx); err != nil {
			return nil, fmt.Errorf("portal: Redis at -redis: %w", err)
		}
		if err := e.limits.Ping(ctx); err != nil {
			return nil, fmt.Errorf("portal: Redis at -redis: %w", err)
		}
	}
	if opts.PostgresURL != "" {
		cfg, err := pgxpool.ParseConfig(opts.PostgresURL)
		if err != nil {
			return nil, fmt.Errorf("portal: Options.PostgresURL (-postgres, %s): %w; write it like postgres://portal_app@127.0.0.1:5432/portal", EnvPostgresURL, err)
		}
		cfg.ConnConfig.ConnectTimeout = 2 * time.Second
		if e.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
			return nil, fmt.Errorf("portal: PostgreSQL at -postgres: %w", err)
		}
		if opts.PostgresMigrateURL != "" {
			owner, err := pgxpool.New(ctx, opts.PostgresMigrateURL)
			if err != nil {
				return nil, fmt.Errorf("portal: Options.PostgresMigrateURL (-postgres-migrate, %s): %w", EnvPostgresMigrateURL, err)
			}
			err = auditpg.Migrate(ctx, owner, cfg.ConnConfig.User)
			owner.Close()
			if err != nil {
				return nil, fmt.Errorf("portal: audit table migration: %w", err)
			}
		}
		if err := e.pool.Ping(ctx); err != nil {
			return nil, fmt.Errorf("portal: PostgreSQL at -postgres: %w", err)
		}
		if e.auditSink, err = auditpg.New(auditpg.Config{Pool: e.pool, Logger: logger}); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// auditAdmin serves the newest records of the PostgreSQL trail in the
// shape of audit.AdminView, for GET /api/admin/audit.
func auditAdmin(sink *auditpg.Sink, limit int, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		recs, err := sink.Records(r.Context(), limit)
		if err != nil {
			logger.ErrorContext(r.Context(), "audit admin view cannot read the trail", slog.String("error", err.Error()))
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_ = json.NewEncoder(w).Encode(map[string]any{"type": "about:blank", "title": "Service Unavailable", "status": 503})
			return
		}
		if recs == nil {
			recs = []audit.Record{}
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(audit.AdminView{Records: recs, Total: len(recs)})
	})
}
