// Command portal is the kit's example client portal: a support team's
// portal (clients, tickets, invoices, exports, uploads, password reset)
// wired with every launchready package. It runs the readiness gate before
// it listens and refuses to boot while blockers remain.
//
//	go run ./examples/portal                      # development, http://127.0.0.1:8080
//	go run ./examples/portal -tls                 # HTTPS with a certificate made at start
//	go run ./examples/portal -check               # print the scorecard; exit 0 ready, 1 blocked
//	go run ./examples/portal -env production      # refuses to boot: demo accounts, unverified mail
//	go run ./examples/portal -redis redis://127.0.0.1:6379/0 -postgres postgres://portal_app@127.0.0.1/portal
//	                                              # sessions and limits on Redis, the audit trail on PostgreSQL
//	go run ./examples/portal -router chi          # the same routes and policies on go-chi/chi (chiauthz)
//	go run ./examples/portal -fault tickets       # ticket creation answers 500: launchready verify fails
//
// -redis, -postgres and -postgres-migrate default to LAUNCHREADY_REDIS_URL,
// LAUNCHREADY_POSTGRES_URL and LAUNCHREADY_POSTGRES_MIGRATE_URL; without
// them the portal runs on process memory and a local audit file.
package main

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/launchready/launchready/examples/portalapp"
	"github.com/launchready/launchready/flows"
	"github.com/launchready/launchready/readiness"
)

// flowsYAML is the portal's synthetic flows, shipped next to it for
// launchready verify and monitor.
//
//go:embed flows.yaml
var flowsYAML []byte

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("portal", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	useTLS := fs.Bool("tls", false, "serve HTTPS with a self-signed certificate for localhost generated at start")
	envName := fs.String("env", "development", "production or development")
	check := fs.Bool("check", false, "print the readiness scorecard and exit 0 when ready, 1 when blocked")
	outbox := fs.String("outbox", "", "development mail directory (default: launchready-outbox in the temp dir)")
	auditFile := fs.String("audit", "", "audit trail file (default: launchready-audit.jsonl in the temp dir)")
	redisURL := fs.String("redis", os.Getenv(portalapp.EnvRedisURL), "Redis URL for sessions and rate limits shared by every replica (env "+portalapp.EnvRedisURL+"; default: process memory)")
	postgresURL := fs.String("postgres", os.Getenv(portalapp.EnvPostgresURL), "PostgreSQL URL of the app's INSERT/SELECT role for the audit trail (env "+portalapp.EnvPostgresURL+"; default: the -audit file)")
	migrateURL := fs.String("postgres-migrate", os.Getenv(portalapp.EnvPostgresMigrateURL), "PostgreSQL URL of the audit table's owner: create the table at start and grant the -postgres role INSERT, SELECT (env "+portalapp.EnvPostgresMigrateURL+")")
	replicas := fs.Int("replicas", 1, "how many instances serve the portal behind the load balancer (readiness SESS010, RATE006)")
	trusted := fs.String("trusted-proxy", "", "comma-separated addresses or CIDR prefixes of the reverse proxies whose X-Forwarded-For is trusted")
	enrichment := fs.String("enrichment-url", os.Getenv("LAUNCHREADY_ENRICHMENT_URL"), "base URL of the CRM that enriches client lookups (also LAUNCHREADY_ENRICHMENT_URL; default: none)")
	mailAPI := fs.String("mail-api-url", os.Getenv("LAUNCHREADY_MAIL_API_URL"), "base URL of the mail provider's HTTP API (also LAUNCHREADY_MAIL_API_URL; default: the development outbox)")
	routerName := fs.String("router", portalapp.RouterServeMux, "router: servemux (authz.Mux) or chi (go-chi/chi through chiauthz)")
	fault := fs.String("fault", "", "development only: break \"login\" or \"tickets\" (they answer 500), to watch verify, monitor and a rollback catch it")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	env, err := readiness.ParseEnv(*envName)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	faults := &portalapp.Faults{}
	if err := faults.Set(*fault); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if *fault != "" && env == readiness.Production {
		fmt.Fprintln(os.Stderr, "portal: -fault is for development; refusing to break a production portal")
		return 2
	}
	// LAUNCHREADY_RELEASE_TOKEN lets the deploy pipeline read GET /version
	// (launchready verify -expect-revision); without it only admins can.
	// The deploy script (examples/deploy) exports the release it would roll
	// back to; the shipped flows are what verify and monitor run.
	shipped, err := flows.Parse(flowsYAML, "flows.yaml")
	if err != nil {
		fmt.Fprintln(os.Stderr, "portal:", err)
		return 2
	}
	opts := portalapp.Options{Env: env, Addr: *addr, TLS: *useTLS, Log: os.Stderr, OutboxDir: *outbox, AuditFile: *auditFile,
		Faults: faults, ReleaseToken: os.Getenv("LAUNCHREADY_RELEASE_TOKEN"),
		Flows: shipped.Flows, PreviousRelease: os.Getenv("LAUNCHREADY_PREVIOUS_RELEASE"), Router: *routerName,
		EnrichmentURL: *enrichment, MailAPIURL: *mailAPI,
		RedisURL: *redisURL, PostgresURL: *postgresURL, PostgresMigrateURL: *migrateURL, Replicas: *replicas}
	if *trusted != "" {
		opts.TrustedProxies = strings.Split(*trusted, ",")
	}
	if env == readiness.Production {
		opts.Resolver = net.DefaultResolver
	}
	p, err := portalapp.Build(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if *useTLS {
		cfg, _, err := portalapp.SelfSignedTLS(time.Now())
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		p.Server.TLSConfig = cfg
	}
	defer p.Close()
	ctx := context.Background()
	if *check {
		if err := readiness.Gate(ctx, p.Target, os.Stdout); err != nil {
			if !errors.Is(err, readiness.ErrBlocked) {
				fmt.Fprintln(os.Stderr, err)
			}
			return 1
		}
		return 0
	}
	var scorecard bytes.Buffer
	err = readiness.Launch(ctx, p.Target, io.MultiWriter(os.Stdout, &scorecard), readiness.ServeOptions{
		ShutdownTimeout: portalapp.ShutdownTimeout,
		Logger:          p.Logger,
		Ready: func(a net.Addr) {
			p.Health.SetBoot(nil) // the gate passed: /readyz may answer ready
			summary, _, _ := strings.Cut(scorecard.String(), "\n")
			fmt.Printf("\n%s\nportal listening on %s (%s)\n", summary, p.PublicURL, env)
			if p.Outbox != "" {
				fmt.Printf("development mail goes to %s\n", p.Outbox)
			}
			fmt.Println("demo accounts: admin@acme.test, agent@acme.test, alice@client-a.test, bob@client-b.test — password", portalapp.DemoPassword)
			if env == readiness.Development {
				fmt.Println("demo admin's second factor (development only): TOTP secret", portalapp.DemoTOTPSecret,
					"— add it to an authenticator app, or: oathtool --totp -b", portalapp.DemoTOTPSecret)
			}
		},
	})
	if err != nil {
		var blocked *readiness.BlockedError
		if errors.As(err, &blocked) {
			fmt.Fprintln(os.Stderr, "portal: refusing to boot:", err)
			return 1
		}
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}
