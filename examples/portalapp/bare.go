package portalapp

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// BareAgent is who every request of the bare twin runs as: the demo
// support agent, signed in once and for all.
var BareAgent = Me{ID: "u-agent", Role: RoleSupport}

// BareRoutes are the routes the bare twin serves: the load generator's mix
// (client lookup, ticket list, ticket creation) and a sign-in that does
// nothing, so the same load generator drives both servers.
var BareRoutes = []string{
	"POST /api/login",
	"GET /api/clients/{id}",
	"GET /api/clients/{id}/tickets",
	"POST /api/clients/{id}/tickets",
}

// Bare is the portal's benchmark twin (see BuildBare).
type Bare struct {
	// Server serves the twin's routes on a plain http.ServeMux.
	Server *http.Server
	// Store holds the portal's data.
	Store Store
	// PublicURL is the twin's base URL.
	PublicURL string
}

// BuildBare assembles the portal's benchmark twin: the same API handlers
// on the same store as Build, served by a plain http.ServeMux with none of
// the kit's middleware — no authz, session, ratelimit, cors, validate,
// redact, audit or monitor. The handlers still get what they need to do
// the same business work: every request runs as BareAgent (no session
// lookup), and the ticket body is decoded with a plain json.Decoder.
//
// It is not a portal and not part of the portal's contract (it serves only
// BareRoutes, trusts every caller and records nothing): the load generator
// (examples/cmd/loadgen -serve bare) runs it next to Build to measure what
// the kit costs at saturation. Never serve it to anybody.
//
// Of opts it reads Addr, PublicURL, Store and Now, with Build's defaults.
func BuildBare(opts Options) (*Bare, error) {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:8080"
	}
	if opts.PublicURL == "" {
		opts.PublicURL = "http://" + opts.Addr
	}
	now := nowOr(opts.Now)
	store := opts.Store
	if store == nil {
		ms := NewMemoryStore()
		if err := Seed(ms, now()); err != nil {
			return nil, fmt.Errorf("portal: seeding the demo data: %w", err)
		}
		store = ms
	}
	api := &API{Store: store, Now: now, PublicURL: opts.PublicURL,
		CurrentUser: func(*http.Request) (Me, bool) { return BareAgent, true }}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/login", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		writeJSON(w, http.StatusOK, map[string]string{"user": BareAgent.ID})
	})
	mux.HandleFunc("GET /api/clients/{id}", api.GetClient)
	mux.HandleFunc("GET /api/clients/{id}/tickets", api.ListTickets)
	mux.HandleFunc("POST /api/clients/{id}/tickets", func(w http.ResponseWriter, r *http.Request) {
		var in TicketInput
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || strings.TrimSpace(in.Subject) == "" {
			writeProblem(w, http.StatusBadRequest, "Bad Request", "the body is not a ticket")
			return
		}
		api.CreateTicket(w, r, &in)
	})
	return &Bare{Store: store, PublicURL: strings.TrimRight(opts.PublicURL, "/"), Server: &http.Server{
		Addr:              opts.Addr,
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}}, nil
}
