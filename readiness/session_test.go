package readiness_test

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/session"
)

// sessIDs runs the checks and returns the sorted, distinct SESS IDs found.
func sessIDs(t *testing.T, target readiness.Target) ([]string, *readiness.Report) {
	t.Helper()
	r, err := readiness.Run(context.Background(), target)
	require.NoError(t, err)
	seen := map[string]bool{}
	var ids []string
	for _, id := range r.IDs() {
		if strings.HasPrefix(id, "SESS") && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids, r
}

func newSessManager(t *testing.T, cfg session.Config) *session.Manager {
	t.Helper()
	mgr, err := session.New(cfg)
	require.NoError(t, err)
	return mgr
}

func sessServer(h http.Handler) *http.Server { return &http.Server{Handler: h} }

// sessSharedStore stands for a Redis or Postgres store.
type sessSharedStore struct{ scs.Store }

func TestSessionStaticChecks(t *testing.T) {
	tests := []struct {
		name     string
		cfg      session.Config
		replicas int
		want     []string
		severity map[string]readiness.Severity
	}{
		{name: "hardened defaults", cfg: session.Config{}},
		{name: "hardened, shared store, 3 replicas", cfg: session.Config{Store: sessSharedStore{memstore.NewWithCleanupInterval(0)}}, replicas: 3},
		{
			name: "misconfigured: plain http, SameSite None, no idle, 48h",
			cfg: session.Config{InsecurePlainHTTP: true, SameSite: http.SameSiteNoneMode, InsecureSameSiteNone: true,
				InsecureNoIdleTimeout: true, Lifetime: 48 * time.Hour},
			want: []string{"SESS001", "SESS003", "SESS004", "SESS005", "SESS006"},
			severity: map[string]readiness.Severity{"SESS001": readiness.Blocker, "SESS003": readiness.Blocker,
				"SESS004": readiness.Warning, "SESS005": readiness.Blocker, "SESS006": readiness.Blocker},
		},
		{name: "idle 45m", cfg: session.Config{IdleTimeout: 45 * time.Minute}, want: []string{"SESS005"},
			severity: map[string]readiness.Severity{"SESS005": readiness.Warning}},
		{name: "idle 3h", cfg: session.Config{IdleTimeout: 3 * time.Hour}, want: []string{"SESS005"},
			severity: map[string]readiness.Severity{"SESS005": readiness.Blocker}},
		{name: "lifetime 13h", cfg: session.Config{Lifetime: 13 * time.Hour}, want: []string{"SESS006"},
			severity: map[string]readiness.Severity{"SESS006": readiness.Warning}},
		{name: "cookie with Domain", cfg: session.Config{CookieName: "sid", Domain: "example.com"}, want: []string{"SESS004"}},
		{name: "raw tokens in store", cfg: session.Config{InsecureRawTokensInStore: true}, want: []string{"SESS009"}},
		{name: "memstore, 3 replicas", cfg: session.Config{}, replicas: 3, want: []string{"SESS010"},
			severity: map[string]readiness.Severity{"SESS010": readiness.Blocker}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mgr := newSessManager(t, tt.cfg)
			ids, r := sessIDs(t, readiness.Target{Server: sessServer(mgr.Handler(http.NotFoundHandler())), Replicas: tt.replicas})
			assert.Equal(t, tt.want, ids)
			for id, sev := range tt.severity {
				for _, f := range r.ByID(id) {
					assert.Equal(t, sev, f.Severity, id)
					assert.Equal(t, readiness.ItemSession, f.Item)
					assert.NotEmpty(t, f.Fix)
				}
			}
		})
	}
}

func TestSessionSecureIsProductionOnly(t *testing.T) {
	mgr := newSessManager(t, session.Config{InsecurePlainHTTP: true})
	ids, r := sessIDs(t, readiness.Target{Server: sessServer(mgr.Handler(http.NotFoundHandler())), Env: readiness.Development})
	assert.Equal(t, []string{"SESS001", "SESS004"}, ids)
	f := r.ByID("SESS001")
	require.Len(t, f, 1)
	assert.Equal(t, readiness.Warning, f[0].Severity, "development over http is allowed, loudly")
	assert.True(t, f[0].Downgraded)
}

func TestSessionNoManagerNoFindings(t *testing.T) {
	ids, _ := sessIDs(t, readiness.Target{Server: sessServer(http.NotFoundHandler())})
	assert.Empty(t, ids)
}

// sessInventory is a minimal route inventory until authz.Mux is available.
type sessInventory struct {
	*http.ServeMux
	routes map[string]http.Handler
	order  []string
}

func newSessInventory() *sessInventory {
	return &sessInventory{ServeMux: http.NewServeMux(), routes: map[string]http.Handler{}}
}

func (f *sessInventory) Handle(pattern string, h http.Handler) {
	f.ServeMux.Handle(pattern, h)
	f.routes[pattern] = h
	f.order = append(f.order, pattern)
}

func (f *sessInventory) EachRoute(fn func(string, http.Handler)) {
	for _, p := range f.order {
		fn(p, f.routes[p])
	}
}

func TestSessionManagerOnRouteChain(t *testing.T) {
	mgr := newSessManager(t, session.Config{Lifetime: 72 * time.Hour})
	inv := newSessInventory()
	inv.Handle("GET /api/me", mgr.Handler(http.NotFoundHandler()))
	inv.Handle("GET /api/other", mgr.Handler(http.NotFoundHandler()))
	_, r := sessIDs(t, readiness.Target{Server: sessServer(inv)})
	f := r.ByID("SESS006")
	require.Len(t, f, 1, "one finding per manager, not per route")
	assert.Equal(t, "GET /api/me", f[0].Route)
}
