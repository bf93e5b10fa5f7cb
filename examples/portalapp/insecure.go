package portalapp

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	_ "net/http/pprof" // planted: profiling endpoints on http.DefaultServeMux
	"os"
	"slices"
	"strings"
	"testing/fstest"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"
	rscors "github.com/rs/cors"

	"github.com/launchready/launchready/authz"
	"github.com/launchready/launchready/monitor"
	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/session"
	"github.com/launchready/launchready/validate"
)

// The insecure twin: the same portal wired the way rushed apps are. Each
// planted flaw is named here with the check that must catch it; the twin's
// tests assert every one of them, and `go run ./examples/insecure` refuses
// to boot listing them.
//
//   - admin route without a role (GET /api/admin/audit is public)  AUTH002, AUTH004
//   - admin route without a second factor (GET /admin/audit: admin role, password alone)  AUTH013
//   - {id} route without an object-level check (GET /api/tickets/{id})  AUTH003, AUTH007
//   - profiling on http.DefaultServeMux, served as is  AUTH001, AUTH008
//   - wildcard CORS with credentials through raw rs/cors  CORS001 (adapter check), CORS006 (no CSRF), CORS007, CORS008
//   - no limit on login, reset, upload or export  RATE001, RATE002, RATE003, RATE007
//   - passwords logged through a plain logger  LOG001, LOG002
//   - session cookie without Secure, without idle timeout  SESS001, SESS005
//   - missing audit trail, readiness endpoint and panic recovery  AUDIT001, MON001, MON002
//   - the mail provider's API key hard-coded and shipped to the browser  SECRET005
//   - the session key falls back to a placeholder  SECRET002
//   - no server timeouts  DEPLOY003
//   - demo accounts in production  AUTH010
//   - the CRM called inside the request with a plain client: no deadline
//     budget, no breaker, no fallback  DEPLOY010

// InsecureMailKey is the twin's hard-coded mail API key. It is derived at
// run time so that the repository holds no key-shaped string; the binary
// and the bundle it serves do.
func InsecureMailKey() string {
	a := sha256.Sum256([]byte("launchready insecure twin: mail key id"))
	b := sha512.Sum512([]byte("launchready insecure twin: mail key secret"))
	return "SG" + "." + base64.RawURLEncoding.EncodeToString(a[:])[:22] + "." + base64.RawURLEncoding.EncodeToString(b[:])[:43]
}

// InsecureSessionKeyDefault is the placeholder the twin falls back to when
// PORTAL_SESSION_KEY is unset.
const InsecureSessionKeyDefault = "changeme"

// BuildInsecure assembles the insecure twin. It is for demonstrations and
// tests of the kit's checks only: never serve it.
func BuildInsecure(opts Options) (*Portal, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:8080"
	}
	if opts.PublicURL == "" {
		opts.PublicURL = "http://" + opts.Addr
	}
	logOut := opts.Log
	if logOut == nil {
		logOut = io.Discard
	}
	logger := slog.New(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: slog.LevelDebug})) // planted: not redacting
	store := opts.Store
	if store == nil {
		ms := NewMemoryStore()
		if err := Seed(ms, nowOr(opts.Now)()); err != nil {
			return nil, err
		}
		store = ms
	}
	mailer := opts.Mailer
	if mailer == nil {
		mailer = &OutboxMailer{Dir: opts.OutboxDir, From: "portal@" + MailDomain}
	}
	sess, err := session.New(session.Config{ // planted: plain cookie, no idle timeout
		InsecurePlainHTTP:     true,
		InsecureNoIdleTimeout: true,
		Logger:                logger,
		// planted: a store that cannot list its sessions, so nothing can
		// end them when a password is reset (SESS011)
		Store: unlistedStore{memstore.NewWithCleanupInterval(time.Minute)},
	})
	if err != nil {
		return nil, err
	}
	p := &Portal{Store: store, Logger: logger, Sessions: sess, PublicURL: opts.PublicURL, Outbox: opts.OutboxDir}
	authenticate := func(r *http.Request) (authz.Principal, error) {
		id, _, ok := sess.User(r)
		if !ok {
			return authz.Principal{}, authz.ErrUnauthenticated
		}
		u, err := store.UserByID(r.Context(), id)
		if err != nil {
			return authz.Principal{}, authz.ErrUnauthenticated
		}
		return authz.Principal{ID: u.ID, Roles: []string{u.Role}, Tenant: u.Tenant}, nil
	}
	mux, err := authz.NewMux(authz.Config{Authenticate: authenticate})
	if err != nil {
		return nil, err
	}
	// planted: the reset forgets the sessions of the old password, keeps
	// older reset links alive (no Resets: the store's tokens), and sends
	// the mail inside the request (no Defer: timing tells who has an
	// account).
	api := &API{Store: store, Sessions: sessionsKeptAtReset{sess}, Mailer: mailer, Events: &events{logger: logger},
		Logger: logger, CurrentUser: principal, PublicURL: opts.PublicURL, Now: opts.Now}
	// planted: the CRM is called inside the request with a plain client:
	// a 30 s timeout, no breaker and no fallback, so a slow CRM freezes
	// every client lookup for 30 s and a failing one breaks the page.
	crmClient := &http.Client{Timeout: 30 * time.Second}
	if opts.EnrichmentURL != "" {
		api.Enrichment = func(ctx context.Context, clientID string) (Enrichment, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(opts.EnrichmentURL, "/")+"/clients/"+clientID, nil)
			if err != nil {
				return Enrichment{}, err
			}
			resp, err := crmClient.Do(req)
			if err != nil {
				return Enrichment{}, err
			}
			defer resp.Body.Close()
			var e Enrichment
			err = json.NewDecoder(resp.Body).Decode(&e)
			return e, err
		}
	}
	api.Init()

	// Roles are checked in the browser only: the page hides the admin
	// links. The server trusts whoever is signed in.
	tenant := authz.Authenticated().Object(loader(clientOwner(store)), tenantRule)
	mux.Handle("POST /api/login", authz.Public("sign-in form"), logBody(logger, validate.JSON(api.Login, nil))) // planted: logs the password, no limit
	mux.Handle("POST /api/logout", authz.Authenticated(), validate.NoBody(http.HandlerFunc(api.Logout)))
	mux.Handle("GET /api/me", authz.Authenticated(), http.HandlerFunc(api.CurrentUserInfo))
	mux.Handle("POST /api/password-reset", authz.Public("forgotten-password form"), validate.JSON(api.PasswordReset, nil))
	mux.Handle("POST /api/password-reset/confirm", authz.Public("emailed token"), validate.JSON(api.PasswordResetConfirm, nil))
	mux.Handle("GET /api/clients", authz.Authenticated(), http.HandlerFunc(api.ListClients)) // planted: no staff role
	mux.Handle("GET /api/clients/{id}", tenant, http.HandlerFunc(api.GetClient))
	mux.Handle("GET /api/clients/{id}/tickets", tenant, http.HandlerFunc(api.ListTickets))
	mux.Handle("POST /api/clients/{id}/tickets", tenant, validate.JSON(api.CreateTicket, nil))
	mux.Handle("GET /api/tickets/{id}", authz.Authenticated(), http.HandlerFunc(api.GetTicket)) // planted: no tenant check
	mux.Handle("PATCH /api/tickets/{id}", authz.Authenticated().Object(loader(ticketOwner(store)), tenantRule), validate.JSON(api.PatchTicket, nil))
	mux.Handle("GET /api/clients/{id}/invoices", tenant, http.HandlerFunc(api.ListInvoices))
	mux.Handle("GET /api/clients/{id}/export", tenant, http.HandlerFunc(api.Export))                                            // planted: no limit, a cross-site link runs it (CORS009)
	mux.Handle("POST /api/clients/{id}/uploads", tenant, uploadLimits(uploads(api.SaveUpload)))                                 // planted: no limit
	mux.Handle("GET /api/admin/audit", authz.Public("internal tool, hidden in the menu"), http.HandlerFunc(serveInsecureAudit)) // planted: public admin route
	mux.Handle("GET /admin/readiness", authz.Authenticated(), http.HandlerFunc(p.serveReadiness))                               // planted: any signed-in user
	mux.Handle("GET /admin/audit", authz.Role(RoleAdmin), http.HandlerFunc(serveInsecureAudit))                                 // planted: a stolen admin password is enough
	mux.Handle("GET /healthz", authz.Public("uptime monitor"), monitor.Liveness())
	mux.Handle("GET /config.js", authz.Public("front-end configuration"), http.HandlerFunc(serveInsecureConfig))
	mux.Handle("GET /{$}", authz.Public("sign-in page"), pageHandler())
	mux.Handle("GET /app.js", authz.Public("page script"), pageHandler())
	mux.Handle("GET /app.css", authz.Public("page style"), pageHandler())
	mux.Handle("/debug/", authz.Public("profiling for the on-call engineer"), http.DefaultServeMux) // planted: pprof for everyone

	// planted: any origin, with cookies (rs/cors accepts this; the kit's
	// cors package refuses it at construction).
	corsOpts := rscors.Options{AllowedOrigins: []string{"*"}, AllowCredentials: true,
		AllowedMethods: []string{"GET", "POST", "PATCH"}, AllowedHeaders: []string{"Content-Type"}}
	var h http.Handler = mux
	h = sess.Handler(h)
	h = &rsCORS{serve: rscors.New(corsOpts).Handler(h), next: h, opts: corsOpts}

	p.Server = &http.Server{Addr: opts.Addr, Handler: h} // planted: no timeouts
	p.Target = readiness.Target{
		Server: p.Server, Env: opts.Env, Replicas: 1,
		Clients: map[string]*http.Client{"crm": crmClient},
		Checks: []readiness.Check{
			demoAccountsCheck(store),
			rsCORSCheck,
			readiness.Logging{Logger: logger},
			readiness.Secrets{
				Required: []string{"PORTAL_SESSION_KEY"},
				// planted: the key falls back to a placeholder when unset
				LookupEnv: func(name string) (string, bool) {
					if v, ok := os.LookupEnv(name); ok && v != "" {
						return v, true
					}
					return InsecureSessionKeyDefault, true
				},
				Build: fstest.MapFS{"config.js": {Data: []byte(InsecureBundle())}},
			},
		},
	}
	return p, nil
}

// rsCORS is raw rs/cors made walkable: readiness walks any handler with
// Unwrap, and rsCORSCheck (a third-party adapter check, the kit's
// extension point) reads its options.
type rsCORS struct {
	serve http.Handler
	next  http.Handler
	opts  rscors.Options
}

func (c *rsCORS) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.serve.ServeHTTP(w, r) }
func (c *rsCORS) Unwrap() http.Handler                             { return c.next }

// rsCORSCheck reports CORS001 and CORS002 for raw rs/cors in the handler
// chain, whose constructor accepts what the kit's cors package refuses:
// any origin ("*" or an empty list) with credentials.
var rsCORSCheck = readiness.CheckFunc("rs/cors adapter", func(_ context.Context, in *readiness.Inspection) []readiness.Finding {
	var out []readiness.Finding
	for _, c := range readiness.FindAll[*rsCORS](in.Chain) {
		anyOrigin := len(c.opts.AllowedOrigins) == 0 || slices.Contains(c.opts.AllowedOrigins, "*")
		switch {
		case anyOrigin && c.opts.AllowCredentials:
			out = append(out, readiness.Finding{ID: "CORS001", Severity: readiness.Blocker,
				Seen: "rs/cors allows any origin with credentials: every web site can read the API with the user's cookies",
				Fix:  "replace rs/cors with cors.New(cors.Config{AllowedOrigins: []string{\"https://portal.example.com\"}, AllowCredentials: true})"})
		case c.opts.AllowOriginFunc != nil || c.opts.AllowOriginRequestFunc != nil || c.opts.AllowOriginVaryRequestFunc != nil:
			out = append(out, readiness.Finding{ID: "CORS002", Severity: readiness.Blocker,
				Seen: "rs/cors decides origins with a function, which silently replaces its origin list",
				Fix:  "use the cors package with an exact origin list"})
		}
	}
	return out
})

// logBody logs the JSON body of the request "for debugging".
func logBody(logger *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		var fields map[string]any
		_ = json.Unmarshal(raw, &fields)
		logger.DebugContext(r.Context(), "login attempt", "body", fields)
		r.Body = io.NopCloser(strings.NewReader(string(raw)))
		next.ServeHTTP(w, r)
	})
}

// serveInsecureConfig ships the mail key to every browser.
func serveInsecureConfig(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/javascript")
	_, _ = io.WriteString(w, InsecureBundle())
}

// InsecureBundle is the twin's generated front-end configuration.
func InsecureBundle() string {
	return "window.PORTAL_CONFIG = {mailProvider: \"sendgrid\", sendgridApiKey: \"" + InsecureMailKey() + "\"};\n"
}

// serveInsecureAudit is the twin's "audit" page: it has no audit trail.
func serveInsecureAudit(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, []any{})
}

// unlistedStore hides the memory store's listing, as many hand-written
// stores do.
type unlistedStore struct{ s scs.Store }

func (u unlistedStore) Find(token string) ([]byte, bool, error) { return u.s.Find(token) }
func (u unlistedStore) Commit(token string, b []byte, exp time.Time) error {
	return u.s.Commit(token, b, exp)
}
func (u unlistedStore) Delete(token string) error { return u.s.Delete(token) }

// sessionsKeptAtReset ends no sessions when a password changes.
type sessionsKeptAtReset struct{ *session.Manager }

func (sessionsKeptAtReset) PasswordChanged(context.Context, string) (int, error) { return 0, nil }
