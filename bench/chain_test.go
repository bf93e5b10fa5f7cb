package bench

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/alexedwards/scs/v2/memstore"
	"golang.org/x/time/rate"

	"github.com/launchready/launchready/audit"
	"github.com/launchready/launchready/authz"
	"github.com/launchready/launchready/cors"
	"github.com/launchready/launchready/monitor"
	"github.com/launchready/launchready/ratelimit"
	"github.com/launchready/launchready/redact"
	"github.com/launchready/launchready/session"
	"github.com/launchready/launchready/validate"
)

// The full chain: what a portal built on the kit runs for every request,
// outermost first —
//
//	access log (redacted JSON lines, as the example portal writes them,
//	queued in a redact.BatchWriter whose goroutine writes them to
//	io.Discard) → recovery → counters → security headers → CORS +
//	cross-origin protection → session load/save → audit (memory sink)
//	→ authz.Mux (role + object policy) → rate limit per principal → path
//	rules, or body validation → handler
//
// against the bare handler: the same handlers on a plain http.ServeMux, the
// POST handler decoding its body with a plain json.Decoder (it would decode
// anyway). Targets (issue 25, bench/targets.txt): the GET's overhead
// (impl=launchready − impl=bare) at most 2 µs and 6 allocs/op, the POST's
// at most 4 µs (the audit sink is in memory: no fsync in it).

const chainOrigin = "https://portal.example.com"

type chainTicket struct {
	Subject  string `json:"subject" validate:"required,max=120"`
	Body     string `json:"body" validate:"required,max=4000"`
	Priority string `json:"priority" validate:"oneof=low normal high"`
}

var chainTicketBody = []byte(`{"subject":"Invoice 2026-114 shows the wrong VAT rate","body":"The invoice for October lists 19% VAT but our contract says 7%.","priority":"high"}`)

// chainLimit is shaped like a real API limit (a burst of 100, so the
// RateLimit header values come from the limiter's cache) but refills fast
// enough that the benchmark loop never exhausts it.
var chainLimit = ratelimit.Policy{Name: "api", Rate: rate.Limit(1e6), Burst: 100}

var chainClients = map[string]authz.Object{"client-a": {Tenant: "client-a"}, "client-b": {Tenant: "client-b"}}

func chainLoader(r *http.Request) (authz.Object, error) {
	o, ok := chainClients[r.PathValue("id")]
	if !ok {
		return authz.Object{}, authz.ErrNotFound
	}
	return o, nil
}

var chainUsers = map[string]authz.Principal{
	"u-alice": {ID: "u-alice", Roles: []string{"client"}, Tenant: "client-a"},
}

func chainGetClient(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"id":"client-a","name":"Client A"}`)
}

func chainCreated(w http.ResponseWriter, in *chainTicket) {
	if in.Subject == "" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, `{"id":"t-1"}`)
}

// chainBare is the app without the kit.
func chainBare() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/clients/{id}", chainGetClient)
	mux.HandleFunc("POST /api/clients/{id}/tickets", func(w http.ResponseWriter, r *http.Request) {
		var in chainTicket
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		chainCreated(w, &in)
	})
	return mux
}

// chainLayers are the kit's layers in the chain, outermost first; a layer
// named in chainKit's without is left out (the session's: authz then
// authenticates every request as the same user; the authz Mux's: a plain
// ServeMux routes).
var chainLayers = []string{"accesslog", "recovery", "counters", "headers", "cors", "session", "audit", "authz", "ratelimit", "validate"}

// chainKit is the app on the kit, without the named layer ("" for the whole
// chain); it returns the handler and a session cookie of a signed-in client
// user of client-a.
func chainKit(b *testing.B, without string) (http.Handler, *http.Cookie) {
	b.Helper()
	has := func(layer string) bool { return layer != without }
	sess, err := session.New(session.Config{Store: memstore.NewWithCleanupInterval(0)})
	if err != nil {
		b.Fatal(err)
	}
	authenticate := func(r *http.Request) (authz.Principal, error) {
		id, _, ok := sess.User(r)
		if !ok {
			return authz.Principal{}, authz.ErrUnauthenticated
		}
		return chainUsers[id], nil
	}
	if !has("session") {
		authenticate = func(*http.Request) (authz.Principal, error) { return chainUsers["u-alice"], nil }
	}
	mux, err := authz.NewMux(authz.Config{Authenticate: authenticate})
	if err != nil {
		b.Fatal(err)
	}
	limits, err := ratelimit.New(ratelimit.Config{})
	if err != nil {
		b.Fatal(err)
	}
	byPrincipal := ratelimit.ByPrincipal(func(r *http.Request) string {
		p, _ := authz.PrincipalFrom(r.Context())
		return p.ID
	})
	route := func(h http.Handler) http.Handler {
		if has("validate") {
			h = validate.Path(validate.Rules{"id": validate.Slug}, h)
		}
		if has("ratelimit") {
			h = limits.Limit(ratelimit.KindCustom, chainLimit, h, byPrincipal)
		}
		return h
	}
	post := http.Handler(validate.JSON(func(w http.ResponseWriter, _ *http.Request, in *chainTicket) { chainCreated(w, in) }, nil))
	if !has("validate") {
		post = chainBare() // its POST handler decodes plainly
	}
	var h http.Handler = mux
	clientPolicy := authz.Role("client", "support").Object(chainLoader, authz.SameTenant)
	if has("authz") {
		mux.Handle("GET /api/clients/{id}", clientPolicy, route(http.HandlerFunc(chainGetClient)))
		mux.Handle("POST /api/clients/{id}/tickets", clientPolicy, route(post))
	} else {
		plain := http.NewServeMux()
		plain.Handle("GET /api/clients/{id}", route(http.HandlerFunc(chainGetClient)))
		plain.Handle("POST /api/clients/{id}/tickets", route(post))
		h = plain
	}

	aud, err := audit.New(audit.Config{Sink: &discardSink{}})
	if err != nil {
		b.Fatal(err)
	}
	policy, err := cors.New(cors.Config{AllowedOrigins: []string{chainOrigin}, AllowCredentials: true,
		AllowedMethods: []string{"GET", "POST", "PATCH"}})
	if err != nil {
		b.Fatal(err)
	}
	headers, err := cors.NewHeaders(cors.HeadersConfig{})
	if err != nil {
		b.Fatal(err)
	}
	quiet := monitor.SlogReporter{Logger: slog.New(slog.DiscardHandler)}
	wrap := map[string]func(http.Handler) http.Handler{
		"audit":    aud.Handler,
		"session":  sess.Handler,
		"cors":     func(h http.Handler) http.Handler { return policy.Handler(h) },
		"headers":  func(h http.Handler) http.Handler { return headers.Handler(h) },
		"counters": monitor.NewCounters().Handler,
		"recovery": func(h http.Handler) http.Handler { return monitor.Recover(quiet).Handler(h) },
		"accesslog": func(h http.Handler) http.Handler {
			// Through the batched writer, as the example portal logs to
			// a file; its goroutine writes to io.Discard.
			counters := monitor.NewCounters()
			queue, err := redact.NewBatchWriter(io.Discard, redact.BatchConfig{
				OnDrop: func() { counters.Inc("", monitor.LogDropped) }})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = queue.Close() })
			al, err := redact.NewAccessLogWriter(h, queue, nil, redact.AccessLogConfig{})
			if err != nil {
				b.Fatal(err)
			}
			return al
		},
	}
	for i := len(chainLayers) - 1; i >= 0; i-- {
		if fn := wrap[chainLayers[i]]; fn != nil && has(chainLayers[i]) {
			h = fn(h)
		}
	}

	// Sign in once through the session middleware.
	login := sess.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := sess.Login(r.Context(), "u-alice"); err != nil {
			b.Fatal(err)
		}
	}))
	rec := httptest.NewRecorder()
	login.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, chainOrigin+"/api/login", nil))
	for _, c := range rec.Result().Cookies() {
		if c.Name == session.DefaultCookieName {
			return h, &http.Cookie{Name: c.Name, Value: c.Value}
		}
	}
	b.Fatal("login set no session cookie")
	return nil, nil
}

// chainWriter is a reusable ResponseWriter that keeps the status.
type chainWriter struct {
	benchWriter
	wrote bool
	// fresh: each request gets a new header map, as net/http gives each
	// response; otherwise the map is cleared and reused.
	fresh bool
}

func (w *chainWriter) WriteHeader(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
	}
}

func (w *chainWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return len(p), nil
}

// WriteString takes a string as net/http's response writer does
// (io.StringWriter): a handler's io.WriteString copies nothing, unless a
// wrapper in between hides the method.
func (w *chainWriter) WriteString(s string) (int, error) {
	w.WriteHeader(http.StatusOK)
	return len(s), nil
}

func (w *chainWriter) reset() {
	if w.fresh {
		w.h = make(http.Header)
	} else {
		clear(w.h)
	}
	w.code, w.wrote = 0, false
}

// BenchmarkChain: an authenticated GET of a client record and a validated
// POST of a ticket, through the whole kit (impl=launchready) and bare
// (impl=bare). The report's overhead section shows the difference.
func BenchmarkChain(b *testing.B) {
	kit, cookie := chainKit(b, "")
	impls := []chainImpl{{"launchready", kit, cookie}, {"bare", chainBare(), cookie}}
	b.Run("GET", func(b *testing.B) { chainGET(b, impls, false) })
	b.Run("POST", func(b *testing.B) { chainPOST(b, impls, false) })
}

// BenchmarkChainFreshHeader is BenchmarkChain with a new response header
// map for every request, as net/http gives each response. BenchmarkChain
// reuses one cleared map, which hides what filling a map costs: the
// kit's response carries 13 headers (8 security headers, Vary, the two
// RateLimit fields, Cache-Control, Content-Type) and outgrows a small
// map's 8 slots; the bare handler sets one. No target: it shows the part
// of the kit's cost that BenchmarkChain leaves out.
func BenchmarkChainFreshHeader(b *testing.B) {
	kit, cookie := chainKit(b, "")
	impls := []chainImpl{{"launchready", kit, cookie}, {"bare", chainBare(), cookie}}
	b.Run("GET", func(b *testing.B) { chainGET(b, impls, true) })
	b.Run("POST", func(b *testing.B) { chainPOST(b, impls, true) })
}

// BenchmarkChainLayers: the GET through the whole kit (impl=launchready)
// and through the kit without one layer (impl=without), so the report's
// overhead section shows what each layer costs in the chain. No target.
func BenchmarkChainLayers(b *testing.B) {
	kit, cookie := chainKit(b, "")
	for _, layer := range chainLayers {
		without, withoutCookie := chainKit(b, layer)
		b.Run("GET/layer="+layer, func(b *testing.B) {
			chainGET(b, []chainImpl{{"launchready", kit, cookie}, {"without", without, withoutCookie}}, false)
		})
	}
}

type chainImpl struct {
	name   string
	h      http.Handler
	cookie *http.Cookie // of the signed-in user, for h's session store
}

func chainGET(b *testing.B, impls []chainImpl, freshHeader bool) {
	for _, impl := range impls {
		b.Run("impl="+impl.name, func(b *testing.B) {
			r := httptest.NewRequest(http.MethodGet, chainOrigin+"/api/clients/client-a", nil)
			r.RemoteAddr = "203.0.113.9:4242"
			r.AddCookie(impl.cookie)
			r.Header.Set("Sec-Fetch-Site", "same-origin")
			w := &chainWriter{benchWriter: benchWriter{h: http.Header{}}, fresh: freshHeader}
			b.ReportAllocs()
			for b.Loop() {
				w.reset()
				impl.h.ServeHTTP(w, r)
				if w.code != http.StatusOK {
					b.Fatalf("status %d", w.code)
				}
			}
		})
	}
}

func chainPOST(b *testing.B, impls []chainImpl, freshHeader bool) {
	for _, impl := range impls {
		b.Run("impl="+impl.name, func(b *testing.B) {
			body := bytes.NewReader(chainTicketBody)
			r := httptest.NewRequest(http.MethodPost, chainOrigin+"/api/clients/client-a/tickets", body)
			r.RemoteAddr = "203.0.113.9:4242"
			r.AddCookie(impl.cookie)
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Origin", chainOrigin)
			r.Header.Set("Sec-Fetch-Site", "same-origin")
			w := &chainWriter{benchWriter: benchWriter{h: http.Header{}}, fresh: freshHeader}
			b.ReportAllocs()
			for b.Loop() {
				w.reset()
				body.Reset(chainTicketBody)
				r.Body = io.NopCloser(body)
				r.ContentLength = int64(len(chainTicketBody))
				impl.h.ServeHTTP(w, r)
				if w.code != http.StatusCreated {
					b.Fatalf("status %d", w.code)
				}
			}
		})
	}
}
