// Command replicas serves the example portal as several replicas on one
// Redis and one PostgreSQL behind a round-robin reverse proxy on loopback,
// in one process: each replica has its own listener, session manager,
// limiter, auditor and connection pools; they share Redis (sessions,
// limits), PostgreSQL (the audit trail) and the portal's data store (one
// in-memory store standing in for the app's database). The proxy connects
// from 127.0.0.2, the replicas' only trusted proxy.
//
//	go run ./examples/cmd/replicas -redis redis://127.0.0.1:6379/0 \
//	    -postgres postgres://portal_app@127.0.0.1:5432/portal \
//	    -postgres-migrate postgres://postgres@127.0.0.1:5432/portal
//	go run ./examples/cmd/loadgen -url http://127.0.0.1:8080 -rate 1000 -duration 10s
//
// The flags default to LAUNCHREADY_REDIS_URL, LAUNCHREADY_POSTGRES_URL and
// LAUNCHREADY_POSTGRES_MIGRATE_URL. It stops on SIGINT or SIGTERM.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/launchready/launchready/examples/portalapp"
	"github.com/launchready/launchready/readiness"
)

func main() { os.Exit(run(os.Args[1:])) }

func run(args []string) int {
	fs := flag.NewFlagSet("replicas", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "the proxy's listen address")
	n := fs.Int("n", 3, "how many replicas")
	redisURL := fs.String("redis", os.Getenv(portalapp.EnvRedisURL), "Redis URL (env "+portalapp.EnvRedisURL+")")
	postgresURL := fs.String("postgres", os.Getenv(portalapp.EnvPostgresURL), "PostgreSQL URL of the app's INSERT/SELECT role (env "+portalapp.EnvPostgresURL+")")
	migrateURL := fs.String("postgres-migrate", os.Getenv(portalapp.EnvPostgresMigrateURL), "PostgreSQL URL of the audit table's owner, to migrate at start (env "+portalapp.EnvPostgresMigrateURL+")")
	quiet := fs.Bool("quiet", false, "discard the replicas' logs")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *redisURL == "" || *postgresURL == "" {
		fmt.Fprintln(os.Stderr, "replicas: -redis and -postgres are required: replicas share sessions, limits and the audit trail only through them")
		return 2
	}
	opts := portalapp.ClusterOptions{Replicas: *n, ProxyAddr: *addr, Env: readiness.Development,
		RedisURL: *redisURL, PostgresURL: *postgresURL, PostgresMigrateURL: *migrateURL, Log: os.Stderr}
	if *quiet {
		opts.Log = nil
	}
	cl, err := portalapp.StartCluster(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "replicas:", err)
		return 1
	}
	fmt.Printf("%d replicas behind %s (Redis %s)\n", len(cl.Portals), cl.URL, *redisURL)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	// The audit trail's write cost: each replica's group-committed batches.
	for i, p := range cl.Portals {
		if p.AuditDB == nil {
			continue
		}
		st := p.AuditDB.Stats()
		perBatch, perRecord := time.Duration(0), time.Duration(0)
		if st.Batches > 0 {
			perBatch = st.CommitTime / time.Duration(st.Batches)
			perRecord = st.CommitTime / time.Duration(st.Records)
		}
		fmt.Printf("replica %d: audit %d records in %d transactions (%.1f per transaction), %v per transaction, %v of transaction time per record, %d failed\n",
			i+1, st.Records, st.Batches, float64(st.Records)/float64(max(st.Batches, 1)), perBatch, perRecord, st.Failures)
	}
	if err := cl.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "replicas:", err)
		return 1
	}
	return 0
}
