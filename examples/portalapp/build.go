package portalapp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/session"
)

// Options configures Build. The zero value is a development portal on
// 127.0.0.1:8080 over plain HTTP with the demo data.
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
	// Log receives the app log and the access log as JSON lines, through
	// the redacting handler. Nil discards.
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
	// Now is the clock of the handlers. Nil: time.Now.
	Now func() time.Time
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
}

// ShutdownTimeout is how long the portal drains requests on SIGTERM.
const ShutdownTimeout = 15 * time.Second

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
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	logOut := opts.Log
	if logOut == nil {
		logOut = io.Discard
	}
	logger := slog.New(slog.NewJSONHandler(logOut, nil))

	store := opts.Store
	if store == nil {
		ms := NewMemoryStore()
		if err := Seed(ms, now()); err != nil {
			return nil, fmt.Errorf("portal: seeding the demo data: %w", err)
		}
		store = ms
	}

	mailer, outbox := opts.Mailer, ""
	if mailer == nil {
		outbox = opts.OutboxDir
		if outbox == "" {
			outbox = filepath.Join(os.TempDir(), "launchready-outbox")
		}
		mailer = &OutboxMailer{Dir: outbox, From: "Acme Support <portal@" + MailDomain + ">", Now: now}
	}

	sess, err := session.New(session.Config{
		InsecurePlainHTTP: !opts.TLS && opts.Env == readiness.Development,
		Logger:            logger,
	})
	if err != nil {
		return nil, fmt.Errorf("portal: sessions: %w", err)
	}

	p := &Portal{Store: store, Logger: logger, Sessions: sess, PublicURL: opts.PublicURL, Outbox: outbox}

	authenticate := func(r *http.Request) (Me, bool) {
		if me, ok := meFrom(r.Context()); ok {
			return me, true
		}
		id, _, ok := sess.User(r)
		if !ok {
			return Me{}, false
		}
		u, err := store.UserByID(r.Context(), id)
		if err != nil {
			return Me{}, false
		}
		return Me{ID: u.ID, Role: u.Role, Tenant: u.Tenant}, true
	}

	api := &API{
		Store: store, Sessions: sess, Mailer: mailer, Events: &events{logger: logger},
		Logger: logger, CurrentUser: authenticate, PublicURL: opts.PublicURL, Now: now,
	}
	api.Init()

	g := newGuard(authenticate)
	clientOf, ticketOf := clientOwner(store), ticketOwner(store)
	g.handle("POST /api/login", public, nil, jsonBody(api.Login))
	g.handle("POST /api/logout", signed, nil, http.HandlerFunc(api.Logout))
	g.handle("GET /api/me", signed, nil, http.HandlerFunc(api.CurrentUserInfo))
	g.handle("POST /api/password-reset", public, nil, jsonBody(api.PasswordReset))
	g.handle("POST /api/password-reset/confirm", public, nil, jsonBody(api.PasswordResetConfirm))
	g.handle("GET /api/clients", staff, nil, http.HandlerFunc(api.ListClients))
	g.handle("GET /api/clients/{id}", signed, clientOf, http.HandlerFunc(api.GetClient))
	g.handle("GET /api/clients/{id}/tickets", signed, clientOf, http.HandlerFunc(api.ListTickets))
	g.handle("POST /api/clients/{id}/tickets", signed, clientOf, jsonBody(api.CreateTicket))
	g.handle("GET /api/tickets/{id}", signed, ticketOf, http.HandlerFunc(api.GetTicket))
	g.handle("PATCH /api/tickets/{id}", signed, ticketOf, jsonBody(api.PatchTicket))
	g.handle("GET /api/clients/{id}/invoices", signed, clientOf, http.HandlerFunc(api.ListInvoices))
	g.handle("GET /api/clients/{id}/export", staff, clientOf, http.HandlerFunc(api.Export))
	g.handle("POST /api/clients/{id}/uploads", signed, clientOf, uploads(api.SaveUpload))
	g.handle("GET /api/admin/audit", admin, nil, http.HandlerFunc(p.serveAudit))
	g.handle("GET /admin/readiness", admin, nil, http.HandlerFunc(p.serveReadiness))
	g.handle("GET /healthz", public, nil, http.HandlerFunc(serveHealth))
	g.handle("GET /readyz", public, nil, http.HandlerFunc(serveHealth))
	page := pageHandler()
	g.handle("GET /{$}", public, nil, page)
	g.handle("GET /app.js", public, nil, page)
	g.handle("GET /app.css", public, nil, page)

	var h http.Handler = g
	h = sess.Handler(h)
	h = crossOrigin(opts.PublicURL, h)
	h = securityHeaders(opts.Env == readiness.Production || opts.TLS, h)
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

	checks := []readiness.Check{demoAccountsCheck(store)}
	mailCheck, err := emailCheck(opts)
	if err != nil {
		return nil, err
	}
	checks = append(checks, mailCheck)
	p.Target = readiness.Target{
		Server:          p.Server,
		Env:             opts.Env,
		Replicas:        1,
		AllowedHosts:    opts.Hosts,
		ShutdownTimeout: ShutdownTimeout,
		Checks:          checks,
	}
	return p, nil
}

// events receives the handlers' security events.
type events struct {
	logger *slog.Logger
}

func (e *events) LoginFailed(r *http.Request, account string) {
	e.logger.InfoContext(r.Context(), "login failed", "account", account)
}

func (e *events) LoginSucceeded(r *http.Request, account, userID string) {
	e.logger.InfoContext(r.Context(), "login", "user", userID)
}

func (e *events) PasswordChanged(r *http.Request, userID string) {
	e.logger.InfoContext(r.Context(), "password changed", "user", userID)
}

func (e *events) Exported(r *http.Request, clientID string, rows int) {
	e.logger.InfoContext(r.Context(), "export", "client", clientID, "rows", rows)
}

func serveHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
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
