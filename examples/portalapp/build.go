package portalapp

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/launchready/launchready/audit"
	auditpg "github.com/launchready/launchready/audit/postgres"
	"github.com/launchready/launchready/authz"
	"github.com/launchready/launchready/cors"
	"github.com/launchready/launchready/flows"
	"github.com/launchready/launchready/mfa"
	"github.com/launchready/launchready/monitor"
	"github.com/launchready/launchready/ratelimit"
	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/redact"
	"github.com/launchready/launchready/session"
	"github.com/launchready/launchready/validate"
)

// Options configures Build. The zero value is a production portal on
// 127.0.0.1:8080 with the demo data, which the gate refuses to boot (demo
// accounts, plain HTTP, unverified mail): ask for Development or fix them.
type Options struct {
	// Env is the environment; the zero value is Production, as in readiness.
	Env readiness.Env
	// Addr is where the server will listen. Default 127.0.0.1:8080.
	Addr string
	// TLS says the server terminates HTTPS: session cookies are then
	// __Host- and Secure even in development.
	TLS bool
	// PublicURL is the portal's public base URL (links in emails, the
	// trusted origin). Default scheme://Addr.
	PublicURL string
	// Hosts is the Host allowlist (names without port). Default: the
	// host of PublicURL, localhost and 127.0.0.1.
	Hosts []string
	// Store is the portal's data. Nil: a new MemoryStore seeded with the
	// demo accounts, clients, tickets and invoices.
	Store Store
	// Log receives the app log and the access log as redacted JSON lines.
	// Requests write to it concurrently, each line in one Write: it must
	// be safe for concurrent use, as os.Stdout and os.Stderr are. Nil
	// discards. When it is an *os.File (stderr, a log file), the access
	// log writes through a redact.BatchWriter, off the request path, and
	// Close drains it; any other writer (a test's capture, read right
	// after a request) gets each line as the request ends.
	Log io.Writer
	// Mailer sends the portal's mail. Nil: an OutboxMailer on OutboxDir.
	Mailer Mailer
	// OutboxDir is the development outbox. Default: launchready-outbox in
	// the temporary directory.
	OutboxDir string
	// Resolver answers the email check's DNS queries. Nil: the system
	// resolver in production, an offline resolver in development (the
	// check then reports warnings instead of blocking the laptop).
	Resolver *net.Resolver
	// AuditFile is the append-only audit trail. Default:
	// launchready-audit.jsonl in the temporary directory.
	AuditFile string
	// AuditCommitDelay is the audit file's group-commit delay
	// (audit.FileOptions.CommitDelay): when POSTs arrive together, one
	// fsync covers several of their records. Zero: audit.DefaultCommitDelay;
	// negative: off (every record's fsync starts at once). The delay is
	// taken only when auditCommitSiblings other records were appended
	// within it, so a portal under moderate load pays no latency for it.
	AuditCommitDelay time.Duration
	// Now is the clock of the handlers. Nil: time.Now.
	Now func() time.Time
	// LimitNow is the rate limits' clock. Nil: time.Now.
	LimitNow func() time.Time

	// RedisURL (redis://host:port/db) moves sessions and rate limits to
	// Redis, shared by every replica. Empty: in process memory.
	RedisURL string
	// PostgresURL (postgres://role@host:port/db, the app's INSERT/SELECT
	// role) moves the audit trail to PostgreSQL. Empty: AuditFile.
	PostgresURL string
	// PostgresMigrateURL, with PostgresURL, runs the audit table's
	// migration at start as that role (the table's owner) and grants
	// PostgresURL's role INSERT and SELECT. Empty: the table must exist.
	PostgresMigrateURL string
	// Replicas is how many instances serve the portal (readiness SESS010,
	// RATE006). Default 1.
	Replicas int
	// TrustedProxies are the reverse proxies in front of the portal
	// (addresses or CIDR prefixes): only their X-Forwarded-For is read.
	TrustedProxies []string
	// ResetStore keeps the password-reset token hashes. Nil: in process
	// memory (one replica); replicas must share one, as they share Store.
	ResetStore session.ResetStore
	// EnrichmentURL is the base URL of the external CRM that enriches
	// GET /api/clients/{id} (account health, account manager). Empty: no
	// CRM, the embedded default. It is called through an
	// egress.Dependency with an 800 ms deadline, a breaker and a degraded
	// fallback; its host is allowed past the SSRF guard because the
	// operator configured it.
	EnrichmentURL string
	// MailAPIURL is the base URL of the mail provider's HTTP API. Set, the
	// portal sends its mail there (through the mail queue and a budgeted
	// dependency) instead of the outbox, and also notifies a client's
	// contact of each new ticket. Empty: the development outbox, reset mail
	// only. Ignored when Mailer is set.
	MailAPIURL string
	// Router is the router the routes are registered on: RouterServeMux
	// (authz.Mux, the default) or RouterChi (go-chi/chi through
	// chiauthz). The routes, policies and middleware are the same.
	Router string
	// MFAKey seals the staff's TOTP secrets (32 random bytes). Nil: read
	// from PORTAL_MFA_KEY in production (the gate blocks while it is
	// missing or weak, SECRET001/SECRET002); a key made at start in
	// development, as the memory store's enrolments do not outlive the
	// process anyway.
	MFAKey []byte
	// MailBackoff is the wait before mail delivery attempt n+1. Nil: 1 s,
	// doubling, at most 1 min.
	MailBackoff func(attempt int) time.Duration
	// Release is what GET /version answers. Zero: the running binary's
	// build information (monitor.CurrentRelease).
	Release monitor.Release
	// ReleaseToken, when set, lets a deploy pipeline read GET /version with
	// "Authorization: Bearer <token>" (launchready verify
	// -expect-revision); at least 32 characters. Empty: admins only.
	ReleaseToken string
	// Faults, when set, break login or ticket creation on purpose (tests of
	// the monitor, verify and rollback). Nil breaks nothing.
	Faults *Faults
	// Flows are the portal's synthetic flows (examples/portal/flows.yaml),
	// declared to readiness (DEPLOY009, MON005).
	Flows []flows.Flow
	// PreviousRelease is the release a failed deploy rolls back to, as the
	// deploy script exports it (LAUNCHREADY_PREVIOUS_RELEASE); DEPLOY008.
	PreviousRelease string
}

// MailDomain is the portal's sending domain, checked by the email check.
const MailDomain = "acme.test"

// Portal is the assembled portal.
type Portal struct {
	// Server is ready to serve (readiness.Launch, or ServeHTTP in tests).
	Server *http.Server
	// Target is what readiness inspects: the server, the environment and
	// the portal's own checks (demo accounts, email). Tests add probes.
	Target readiness.Target
	// Store holds the portal's data.
	Store Store
	// Logger is the portal's redacting logger.
	Logger *slog.Logger
	// Sessions is the session manager.
	Sessions *session.Manager
	// PublicURL is the portal's public base URL.
	PublicURL string
	// Outbox is the development mail directory ("" with a custom Mailer).
	Outbox string
	// Health serves /healthz and /readyz; /readyz answers 503 until
	// SetBoot(nil) reports a passed boot gate.
	Health *monitor.Health
	// Counters count 5xx, auth failures, rate-limited and cross-origin
	// refusals per route.
	Counters *monitor.Counters
	// Audit records every mutating request and the security events.
	Audit *audit.Auditor
	// AuditFile is the audit trail on disk (nil with PostgresURL).
	AuditFile *audit.FileSink
	// AuditDB is the audit trail on PostgreSQL (nil without PostgresURL).
	AuditDB *auditpg.Sink
	// MFA enrols and verifies the staff's second factors.
	MFA *mfa.Authenticator
	// DemoRecoveryCodes are the demo admin's recovery codes (development
	// only; nil otherwise).
	DemoRecoveryCodes []string
	// Mail runs the mail work after the response (Wait in tests).
	Mail *MailQueue
	// Resets issues the password-reset tokens.
	Resets *session.ResetTokens
	// AccessLogQueue batches the access log's writes to Options.Log when
	// it is a file (nil otherwise); Dropped counts lines lost to a full
	// queue, also counted as monitor.LogDropped in Counters.
	AccessLogQueue *redact.BatchWriter

	engines *engines
}

// Close writes the queued access-log lines, runs the queued mail, closes
// the audit trail and the connections to the shared engines. Call it
// after the server stopped, so no request's line is lost.
func (p *Portal) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	if p.AccessLogQueue != nil {
		_ = p.AccessLogQueue.Shutdown(ctx)
	}
	if p.Mail != nil {
		_ = p.Mail.Close(ctx)
	}
	p.engines.close()
	if p.AuditFile != nil {
		return p.AuditFile.Close()
	}
	return nil
}

// ShutdownTimeout is how long the portal drains requests on SIGTERM.
const ShutdownTimeout = 15 * time.Second

// auditCommitSiblings is how many other audit records must have arrived
// within the commit delay for a group commit to wait for more
// (audit.FileOptions.CommitSiblings; PostgreSQL's commit_siblings is 5).
// With one, at the loadgen's fixed 4,000 requests a second (1,333 POSTs) a
// sibling arrived in most milliseconds: every POST waited for the delay,
// its p50 ~1.5 ms higher, for no gain in its p99. Three within a
// millisecond means some 3,000 POSTs a second, near where one fsync per
// record runs out of CPU, which is where the delay pays.
const auditCommitSiblings = 3

// Build assembles the portal with every kit package in place.
func Build(opts Options) (*Portal, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:8080"
	}
	scheme := "http"
	if opts.TLS {
		scheme = "https"
	}
	if opts.PublicURL == "" {
		opts.PublicURL = scheme + "://" + opts.Addr
	}
	opts.PublicURL = strings.TrimRight(opts.PublicURL, "/")
	if len(opts.Hosts) == 0 {
		host := opts.PublicURL[strings.Index(opts.PublicURL, "://")+3:]
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		opts.Hosts = []string{host}
		for _, h := range []string{"localhost", "127.0.0.1"} {
			if h != host {
				opts.Hosts = append(opts.Hosts, h)
			}
		}
	}
	if err := checkReleaseToken(opts.ReleaseToken); err != nil {
		return nil, err
	}
	if opts.Release == (monitor.Release{}) {
		opts.Release = monitor.CurrentRelease()
	}
	faults := opts.Faults
	if faults == nil {
		faults = &Faults{}
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	logOut := opts.Log
	if logOut == nil {
		logOut = io.Discard
	}
	// Every log record passes the redacting handler: passwords, tokens,
	// cookies and personal data are masked wherever they appear. The access
	// log writes its lines to the same place through the same redactor.
	redacting := redact.NewHandler(slog.NewJSONHandler(logOut, nil), nil)
	logger := slog.New(redacting)

	store := opts.Store
	if store == nil {
		ms := NewMemoryStore()
		if err := Seed(ms, now()); err != nil {
			return nil, fmt.Errorf("portal: seeding the demo data: %w", err)
		}
		store = ms
	}

	mailer, outbox := opts.Mailer, ""
	var mailAPI *APIMailer
	if mailer == nil && opts.MailAPIURL != "" {
		var err error
		if mailAPI, err = NewAPIMailer(opts.MailAPIURL, "Acme Support <portal@"+MailDomain+">"); err != nil {
			return nil, err
		}
		mailer = mailAPI
	}
	if mailer == nil {
		outbox = opts.OutboxDir
		if outbox == "" {
			outbox = filepath.Join(os.TempDir(), "launchready-outbox")
		}
		mailer = &OutboxMailer{Dir: outbox, From: "Acme Support <portal@" + MailDomain + ">", Now: now}
	}

	eng, err := openEngines(context.Background(), opts, logger)
	if err != nil {
		return nil, err
	}
	built := false
	defer func() {
		if !built {
			eng.close()
		}
	}()
	sessCfg := session.Config{
		InsecurePlainHTTP: !opts.TLS && opts.Env == readiness.Development,
		Logger:            logger,
	}
	if eng.sessions != nil {
		sessCfg.Store = eng.sessions
	}
	sess, err := session.New(sessCfg)
	if err != nil {
		return nil, fmt.Errorf("portal: sessions: %w", err)
	}

	var auditSink audit.Sink
	var auditFile *audit.FileSink
	if eng.auditSink != nil {
		auditSink = eng.auditSink
	} else {
		auditPath := opts.AuditFile
		if auditPath == "" {
			auditPath = filepath.Join(os.TempDir(), "launchready-audit.jsonl")
		}
		delay := opts.AuditCommitDelay
		switch {
		case delay == 0:
			delay = audit.DefaultCommitDelay
		case delay < 0:
			delay = 0
		}
		auditFile, err = audit.OpenFile(auditPath, &audit.FileOptions{CommitDelay: delay, CommitSiblings: auditCommitSiblings})
		if err != nil {
			return nil, fmt.Errorf("portal: audit trail: %w", err)
		}
		auditSink = auditFile
		defer func() {
			if !built {
				auditFile.Close()
			}
		}()
	}
	// The audit trail says where anonymous events came from: the client
	// address as the limits resolve it (trusted proxies only).
	var limits *ratelimit.Limiter
	auditor, err := audit.New(audit.Config{Sink: auditSink, Logger: logger, Now: now,
		ClientIP: func(r *http.Request) string {
			ip, err := limits.IPResolver().ClientIP(r)
			if err != nil {
				return ""
			}
			return ip.String()
		},
		RequestID: func(r *http.Request) string { return r.Header.Get("X-Request-Id") },
	})
	if err != nil {
		return nil, fmt.Errorf("portal: audit trail: %w", err)
	}
	enrich, err := newEnricher(opts.EnrichmentURL)
	if err != nil {
		return nil, err
	}
	healthDeps := []monitor.Dependency{
		{Name: "store", Timeout: time.Second, Ping: func(ctx context.Context) error {
			_, err := store.Clients(ctx)
			return err
		}},
		{Name: "audit trail", Timeout: time.Second, Ping: func(context.Context) error {
			if !auditor.Healthy() {
				return errors.New("the audit trail's last write failed")
			}
			return nil
		}},
	}
	if enrich != nil {
		// An open breaker shows as "degraded" to admins; the portal stays
		// ready because it serves clients without the CRM.
		healthDeps = append(healthDeps, monitor.Dependency{Name: "crm", Timeout: time.Second, Optional: true, Ping: enrich.dep.Ping})
	}
	if mailAPI != nil {
		// Mail waits on the queue while the provider is down.
		healthDeps = append(healthDeps, monitor.Dependency{Name: "mail", Timeout: time.Second, Optional: true, Ping: mailAPI.Dependency().Ping})
	}
	health, err := monitor.NewHealth(monitor.HealthConfig{
		Dependencies: healthDeps,
		// Admins see which dependency failed; everyone else only
		// ready/unavailable (MON004).
		Detail: func(r *http.Request) bool {
			me, ok := principal(r)
			return ok && me.Role == RoleAdmin
		},
	})
	if err != nil {
		return nil, fmt.Errorf("portal: health: %w", err)
	}
	counters := monitor.NewCounters()

	// Mail goes out after the response, with retries (see MailQueue).
	mailQueue, err := NewMailQueue(MailQueueConfig{Mailer: mailer, Logger: logger, Backoff: opts.MailBackoff})
	if err != nil {
		return nil, err
	}
	resets, err := session.NewResetTokens(session.ResetConfig{Now: now, Store: opts.ResetStore})
	if err != nil {
		return nil, fmt.Errorf("portal: reset tokens: %w", err)
	}
	p := &Portal{Store: store, Logger: logger, Sessions: sess, PublicURL: opts.PublicURL, Outbox: outbox,
		Health: health, Counters: counters, Audit: auditor, AuditFile: auditFile, AuditDB: eng.auditSink, engines: eng,
		Mail: mailQueue, Resets: resets}

	// Staff second factor: TOTP secrets sealed under a key from the
	// environment; the demo admin is enrolled in development only.
	mfaKey := opts.MFAKey
	if mfaKey == nil {
		if opts.Env == readiness.Production {
			mfaKey, _ = mfa.KeyFromEnv(MFAKeyEnv) // missing or weak: the Secrets check blocks the boot
		}
		if mfaKey == nil {
			mfaKey = make([]byte, mfa.KeySize)
			_, _ = rand.Read(mfaKey)
		}
	}
	p.MFA, err = mfa.New(mfa.Config{Issuer: "Acme Support Portal", Key: mfaKey, Now: now})
	if err != nil {
		return nil, fmt.Errorf("portal: second factor: %w", err)
	}
	if opts.Env == readiness.Development && opts.Store == nil {
		p.DemoRecoveryCodes, err = p.MFA.Import(context.Background(), demoAdminID, DemoTOTPSecret)
		if err != nil {
			return nil, fmt.Errorf("portal: enrolling the demo admin: %w", err)
		}
	}

	// The glue between session and authz: session user ID and factors ->
	// store user -> authz principal.
	release := releaseToken(opts.ReleaseToken, now)
	authenticate := func(r *http.Request) (authz.Principal, error) {
		if p, ok := release(r); ok {
			return p, nil
		}
		a, ok := sess.Auth(r)
		if !ok {
			return authz.Principal{}, authz.ErrUnauthenticated
		}
		u, err := store.UserByID(r.Context(), a.User)
		if err != nil {
			return authz.Principal{}, authz.ErrUnauthenticated // user deleted since login
		}
		factors := make([]authz.Factor, len(a.Factors))
		for i, f := range a.Factors {
			factors[i] = authz.Factor{Method: f.Method, At: f.At}
		}
		return authz.Principal{ID: u.ID, Roles: []string{u.Role}, Tenant: u.Tenant, Factors: factors}, nil
	}
	mux, err := newRouter(opts.Router, authz.Config{Authenticate: authenticate, Logger: logger, Now: now})
	if err != nil {
		return nil, fmt.Errorf("portal: authz: %w", err)
	}

	ev := &events{logger: logger, audit: auditor, store: store}
	api := &API{
		Store: store, Sessions: sess, Mailer: mailQueue.Mailer(), Events: ev, MFA: p.MFA,
		Logger: logger, CurrentUser: principal, PublicURL: opts.PublicURL, Now: now,
		Resets: resets, Defer: mailQueue.Defer,
	}
	if enrich != nil {
		api.Enrichment = enrich.lookup
	}
	api.NotifyTickets = mailAPI != nil
	api.Init()

	// HSTS only where the browser reached the portal over HTTPS.
	hsts := opts.TLS || opts.Env == readiness.Production
	g := &routes{mux: mux}
	clientOf, ticketOf := clientOwner(store), ticketOwner(store)
	// Limits: login per IP up front, plus failure-based lockout per
	// account and per IP (same 429 for unknown accounts). No per-account
	// limit charges before the credentials are checked: anybody could
	// spend it and lock the owner out; the failure lockout spares the
	// owner's known browsers (device cookies) instead;
	// reset per IP and per address; upload and export per principal.
	// A browser that signed in before keeps getting in while strangers'
	// failures lock the account for everyone else (device cookies).
	limitCfg := ratelimit.Config{Logger: logger, Now: opts.LimitNow, TrustedProxies: opts.TrustedProxies,
		InsecureDeviceCookieHTTP: !opts.TLS && opts.Env == readiness.Development}
	if eng.limits != nil {
		limitCfg.Store = eng.limits
	}
	limits, err = ratelimit.New(limitCfg)
	if err != nil {
		return nil, fmt.Errorf("portal: rate limits: %w", err)
	}
	// ByAccount keys by ratelimit.AccountKey, the form the store's lookup
	// matches by: every spelling of an account shares its buckets.
	account := func(r *http.Request) string {
		if in := validate.Value[LoginInput](r); in != nil {
			return in.Email
		}
		return ""
	}
	resetAccount := func(r *http.Request) string {
		if in := validate.Value[ResetInput](r); in != nil {
			return in.Email
		}
		return ""
	}
	// One trusted-origin list for CORS grants, cross-origin (CSRF)
	// protection and the cross-site refusal of exports: the portal's own
	// origin. No other site is trusted.
	policy, err := cors.New(cors.Config{
		AllowedOrigins:    []string{opts.PublicURL},
		AllowCredentials:  true,
		AllowedMethods:    []string{"GET", "HEAD", "POST", "PATCH"},
		PublicOrigin:      opts.PublicURL,
		InsecureAllowHTTP: !opts.TLS,
		DenyHandler:       counters.CrossOriginDenied(nil),
	})
	if err != nil {
		return nil, fmt.Errorf("portal: cors: %w", err)
	}
	loginFailures := limits.Failures(fault(faults.Login.Load, withBody(api.Login)), account)
	ev.failures = loginFailures
	principalID := func(r *http.Request) string {
		me, _ := principal(r)
		return me.ID
	}
	// Second-factor codes are limited by the account they are checked
	// against: the pending sign-in's, or the signed-in user's.
	pendingAccount := func(r *http.Request) string {
		id, _ := sess.PendingLogin(r.Context())
		return id
	}
	g.public("POST /api/login", "sign-in form",
		validate.Body[LoginInput](bodyLimits,
			limits.Login(loginFailures, ratelimit.ByIP())))
	g.public("POST /api/login/mfa", "second sign-in step; the session's pending sign-in is the credential",
		validate.Body[CodeInput](bodyLimits, limits.SecondFactor(withBody(api.LoginMFA), pendingAccount)))
	g.handle("POST /api/mfa/enroll", signed, nil, validate.NoBody(http.HandlerFunc(api.EnrollMFA)))
	g.handle("POST /api/mfa/confirm", signed, nil,
		validate.Body[CodeInput](bodyLimits, limits.SecondFactor(withBody(api.ConfirmMFA), principalID)))
	g.handle("POST /api/mfa/step-up", signed, nil,
		validate.Body[CodeInput](bodyLimits, limits.SecondFactor(withBody(api.StepUpMFA), principalID)))
	g.handle("POST /api/logout", signed, nil, validate.NoBody(http.HandlerFunc(api.Logout)))
	g.handle("GET /api/me", signed, nil, http.HandlerFunc(api.CurrentUserInfo))
	g.public("POST /api/password-reset", "forgotten-password form; answers 202 for every address",
		validate.Body[ResetInput](bodyLimits,
			limits.PasswordReset(withBody(api.PasswordReset), ratelimit.ByIP(), ratelimit.ByAccount(resetAccount))))
	g.public("POST /api/password-reset/confirm", "the emailed single-use token is the credential",
		limits.PasswordResetConfirm(validate.JSON(api.PasswordResetConfirm, bodyLimits), ratelimit.ByIP()))
	g.handle("GET /api/clients", staff, nil, http.HandlerFunc(api.ListClients))
	g.handle("GET /api/clients/{id}", signed, clientOf, clientPath(http.HandlerFunc(api.GetClient)))
	g.handle("GET /api/clients/{id}/tickets", signed, clientOf, clientPath(http.HandlerFunc(api.ListTickets)))
	g.handle("POST /api/clients/{id}/tickets", signed, clientOf, clientPath(fault(faults.Tickets.Load, validate.JSON(api.CreateTicket, bodyLimits))))
	g.handle("GET /api/tickets/{id}", signed, ticketOf, ticketPath(http.HandlerFunc(api.GetTicket)))
	g.handle("PATCH /api/tickets/{id}", signed, ticketOf, ticketPath(validate.JSON(api.PatchTicket, bodyLimits)))
	g.handle("GET /api/clients/{id}/invoices", signed, clientOf, clientPath(http.HandlerFunc(api.ListInvoices)))
	g.handle("GET /api/clients/{id}/export", staff, clientOf, clientPath(policy.SensitiveRead(limits.Export(http.HandlerFunc(api.Export), ratelimit.ByPrincipal(principalID)))))
	g.handle("POST /api/clients/{id}/uploads", signed, clientOf, clientPath(limits.Upload(uploadLimits(uploads(api.SaveUpload)), ratelimit.ByPrincipal(principalID))))
	if auditFile != nil {
		g.handle("GET /api/admin/audit", admin, nil, auditFile.Admin(200, logger))
	} else {
		g.handle("GET /api/admin/audit", admin, nil, auditAdmin(eng.auditSink, 200, logger))
	}
	g.handle("GET /admin/readiness", admin, nil, http.HandlerFunc(p.serveReadiness))
	// Admins with their second factor, or the deploy pipeline's release token.
	mux.Handle("GET "+VersionPath, authz.Role(RoleAdmin, RoleRelease).RequireMFA(), monitor.NewVersionHandler(opts.Release))
	g.public("GET /healthz", "uptime monitor", health.Liveness())
	g.public("GET /readyz", "load balancer readiness", health.Readiness())
	pageHeaders, err := cors.NewHeaders(cors.HeadersConfig{Preset: cors.PresetPage, InsecureNoHSTS: !hsts})
	if err != nil {
		return nil, fmt.Errorf("portal: page headers: %w", err)
	}
	page := pageHeaders.Handler(pageHandler())
	g.public("GET /{$}", "sign-in page for browsers", page)
	g.public("GET /app.js", "page script", page)
	g.public("GET /app.css", "page style", page)

	apiHeaders, err := cors.NewHeaders(cors.HeadersConfig{InsecureNoHSTS: !hsts})
	if err != nil {
		return nil, fmt.Errorf("portal: security headers: %w", err)
	}

	// The auditor wraps the CORS layer, so cross-origin refusals are
	// recorded too (AUDIT005).
	var h http.Handler = mux
	h = sess.Handler(h)
	h = policy.Handler(h)
	h = auditor.Handler(h)
	h = apiHeaders.Handler(h)
	accessOut := logOut
	if _, ok := logOut.(*os.File); ok {
		// A write to a file is a system call: queue the lines instead.
		p.AccessLogQueue, err = redact.NewBatchWriter(logOut, redact.BatchConfig{
			OnDrop: func() { counters.Inc("", monitor.LogDropped) }})
		if err != nil {
			return nil, fmt.Errorf("portal: access log queue: %w", err)
		}
		accessOut = p.AccessLogQueue
		defer func() {
			if !built {
				_ = p.AccessLogQueue.Close()
			}
		}()
	}
	accessLog, err := redact.NewAccessLogWriter(h, accessOut, redacting.Redactor(), redact.AccessLogConfig{ClientIP: func(r *http.Request) string {
		ip, err := limits.IPResolver().ClientIP(r)
		if err != nil {
			return ""
		}
		return ip.String()
	}})
	if err != nil {
		return nil, fmt.Errorf("portal: access log: %w", err)
	}
	h = accessLog
	h = counters.Handler(h)
	h = monitor.Recover(monitor.SlogReporter{Logger: logger}).Handler(h)
	h = hostCheck(opts.Hosts, h)

	p.Server = &http.Server{
		Addr:              opts.Addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}

	web, _ := fs.Sub(webFS, "web")
	secrets := readiness.Secrets{Build: web}
	if opts.Env == readiness.Production && opts.MFAKey == nil {
		secrets.Required = []string{MFAKeyEnv}
	}
	checks := []readiness.Check{
		demoAccountsCheck(store),
		readiness.Logging{Logger: logger},
		secrets,
	}
	mailCheck, err := emailCheck(opts)
	if err != nil {
		return nil, err
	}
	checks = append(checks, mailCheck)
	p.Target = readiness.Target{
		Server:          p.Server,
		Env:             opts.Env,
		Replicas:        max(opts.Replicas, 1),
		AllowedHosts:    opts.Hosts,
		ShutdownTimeout: ShutdownTimeout,
		Checks:          checks,
		Release:         readiness.ReleasePlan{Previous: opts.PreviousRelease, Flows: opts.Flows},
	}
	p.Target.Clients = map[string]*http.Client{}
	if enrich != nil {
		p.Target.Clients["crm"] = enrich.dep.Client()
	}
	if mailAPI != nil {
		p.Target.Clients["mail"] = mailAPI.Dependency().Client()
	}
	built = true
	return p, nil
}

// events receives the handlers' security events: the audit trail records
// them (the login itself is a mutating request, recorded by the middleware
// with its outcome; the event adds who signed in).
type events struct {
	logger   *slog.Logger
	audit    *audit.Auditor
	store    Store
	failures *ratelimit.Handler // the login lockout, lifted by a password reset
}

func (e *events) record(r *http.Request, ev audit.Event) {
	if e.audit == nil {
		return
	}
	if err := e.audit.Event(r, ev); err != nil {
		e.logger.ErrorContext(r.Context(), "audit event not recorded", "action", ev.Action, "error", err)
	}
}

func (e *events) LoginFailed(r *http.Request, account string) {
	e.logger.InfoContext(r.Context(), "login failed", "account", account)
	e.record(r, audit.Event{Action: "login", Outcome: audit.OutcomeDenied})
}

func (e *events) LoginSucceeded(r *http.Request, account, userID string) {
	e.logger.InfoContext(r.Context(), "login", "user", userID)
	e.record(r, audit.Event{Action: "login", PrincipalID: userID})
}

func (e *events) PasswordChanged(r *http.Request, userID string) {
	e.logger.InfoContext(r.Context(), "password changed", "user", userID)
	// The owner proved control of the account: strangers' failed guesses
	// no longer lock it.
	if e.failures != nil && e.store != nil {
		if u, err := e.store.UserByID(r.Context(), userID); err == nil {
			if err := e.failures.ResetAccount(r.Context(), u.Email); err != nil {
				e.logger.ErrorContext(r.Context(), "lifting the lockout failed", "user", userID, "error", err)
			}
		}
	}
	e.record(r, audit.Event{Action: "password_change", PrincipalID: userID})
}

func (e *events) LoginNeedsSecondFactor(r *http.Request, userID string) {
	e.logger.InfoContext(r.Context(), "password verified, second factor awaited", "user", userID)
	e.record(r, audit.Event{Action: "login_password_verified", PrincipalID: userID})
}

func (e *events) MFAEnrollStarted(r *http.Request, userID string) {
	e.logger.InfoContext(r.Context(), "second factor enrolment started", "user", userID)
	e.record(r, audit.Event{Action: "mfa_enroll_started", PrincipalID: userID})
}

func (e *events) MFAEnrolled(r *http.Request, userID string) {
	e.logger.InfoContext(r.Context(), "second factor enrolled", "user", userID)
	e.record(r, audit.Event{Action: "mfa_enrolled", PrincipalID: userID})
}

func (e *events) MFAVerified(r *http.Request, userID, method string, stepUp bool) {
	action := "mfa_login"
	if stepUp {
		action = "mfa_step_up"
	}
	e.logger.InfoContext(r.Context(), "second factor verified", "user", userID, "method", method, "step_up", stepUp)
	e.record(r, audit.Event{Action: action, PrincipalID: userID, Objects: map[string]string{"method": method}})
	if method == string(mfa.MethodRecovery) {
		e.record(r, audit.Event{Action: "mfa_recovery_used", PrincipalID: userID})
	}
}

func (e *events) MFAFailed(r *http.Request, userID, reason string) {
	e.logger.InfoContext(r.Context(), "second factor refused", "user", userID, "reason", reason)
	e.record(r, audit.Event{Action: "mfa_failed", PrincipalID: userID, Outcome: audit.OutcomeDenied, Objects: map[string]string{"reason": reason}})
}

func (e *events) Exported(r *http.Request, clientID string, rows int) {
	e.logger.InfoContext(r.Context(), "export", "client", clientID, "rows", rows)
	me, _ := principal(r)
	e.record(r, audit.Event{Action: "export", PrincipalID: me.ID, Tenant: me.Tenant, Objects: map[string]string{"client": clientID}})
}

// offlineResolver fails every query at once: development has no
// production DNS for the sending domain.
var offlineResolver = &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
	return nil, errors.New("offline: development does not query DNS for the sending domain")
}}

func nowOr(now func() time.Time) func() time.Time {
	if now == nil {
		return time.Now
	}
	return now
}
