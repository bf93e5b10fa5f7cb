package probe_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/readiness/probe"
	"github.com/launchready/launchready/session"
)

// The demo credentials are assembled at test time.
var sessLogin = probe.SessionRequest{
	Path:   "/api/login",
	Body:   `{"email":"agent@acme.test","password":"` + "demo-" + "password-123" + `"}`,
	Header: http.Header{"Content-Type": {"application/json"}},
}

func sessProbe() probe.SessionProbe {
	return probe.SessionProbe{
		Login:  sessLogin,
		Logout: probe.SessionRequest{Path: "/api/logout"},
		Check:  probe.SessionRequest{Path: "/api/me"},
	}
}

// sessApp is a portal with a login, a logout and a whoami route; login and
// logout can be replaced by broken variants.
type sessApp struct {
	mgr    *session.Manager
	login  func(w http.ResponseWriter, r *http.Request, user string)
	logout func(w http.ResponseWriter, r *http.Request)
}

func (a sessApp) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/login", func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Email, Password string }
		if json.NewDecoder(r.Body).Decode(&body) != nil || body.Password != "demo-"+"password-123" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		if a.login != nil {
			a.login(w, r, body.Email)
			return
		}
		if err := a.mgr.Login(r.Context(), body.Email); err != nil {
			http.Error(w, "no", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /api/logout", func(w http.ResponseWriter, r *http.Request) {
		if a.logout != nil {
			a.logout(w, r)
			return
		}
		_ = a.mgr.Logout(r.Context())
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /api/me", func(w http.ResponseWriter, r *http.Request) {
		if _, _, ok := a.mgr.User(r); !ok {
			http.Error(w, "sign in", http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	return a.mgr.Handler(mux)
}

func TestSessionProbe(t *testing.T) {
	tests := []struct {
		name  string
		app   func(mgr *session.Manager) sessApp
		probe func(probe.SessionProbe) probe.SessionProbe
		want  []string
	}{
		{name: "kit lifecycle", app: func(m *session.Manager) sessApp { return sessApp{mgr: m} }},
		{
			name: "login without renewal (fixation)",
			app: func(m *session.Manager) sessApp {
				return sessApp{mgr: m, login: func(w http.ResponseWriter, r *http.Request, user string) {
					m.Engine().Put(r.Context(), "launchready.user", user)
					m.Engine().Put(r.Context(), "launchready.auth", time.Now().UnixNano())
					w.WriteHeader(http.StatusNoContent)
				}}
			},
			want: []string{"SESS007"},
		},
		{
			name: "logout only clears the cookie (replay)",
			app: func(m *session.Manager) sessApp {
				return sessApp{mgr: m, logout: func(w http.ResponseWriter, r *http.Request) {
					http.SetCookie(w, &http.Cookie{Name: session.DefaultCookieName, Path: "/", MaxAge: -1, Secure: true})
					w.WriteHeader(http.StatusNoContent)
				}}
			},
			want: []string{"SESS008"},
		},
		{
			name: "wrong credentials: the probe says it could not verify",
			app:  func(m *session.Manager) sessApp { return sessApp{mgr: m} },
			probe: func(p probe.SessionProbe) probe.SessionProbe {
				p.Login.Body = `{"email":"agent@acme.test","password":"wrong"}`
				return p
			},
			want: []string{"PROBE001"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mgr := newSessManager(t, session.Config{})
			p := sessProbe()
			if tt.probe != nil {
				p = tt.probe(p)
			}
			ids, r := sessIDs(t, readiness.Target{Server: sessServer(tt.app(mgr).handler()), Checks: []readiness.Check{p}})
			assert.Equal(t, tt.want, ids, "%v", r)
			for _, f := range r.Findings {
				assert.NotContains(t, f.Seen, "password-123", "no secret in a finding")
			}
		})
	}
}

// A session layer readiness cannot walk (raw scs with its defaults): the
// probe reads the Set-Cookie it really sends.
func TestSessionProbeReadsCookieOfUnwalkableLayer(t *testing.T) {
	sm := scs.New()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/login", func(w http.ResponseWriter, r *http.Request) {
		_ = sm.RenewToken(r.Context())
		sm.Put(r.Context(), "user", "agent")
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST /api/logout", func(w http.ResponseWriter, r *http.Request) {
		_ = sm.Destroy(r.Context())
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /api/me", func(w http.ResponseWriter, r *http.Request) {
		if sm.GetString(r.Context(), "user") == "" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	ids, r := sessIDs(t, readiness.Target{Server: sessServer(sm.LoadAndSave(mux)), Checks: []readiness.Check{sessProbe()}})
	assert.Equal(t, []string{"SESS001", "SESS004"}, ids, "%v", r)
	for _, f := range r.Findings {
		if f.ID == "SESS001" {
			assert.Equal(t, "POST /api/login", f.Route)
		}
	}
}

func TestSessionProbeExpiryOnFakeClock(t *testing.T) {
	cases := []struct {
		name string
		cfg  session.Config
		idle time.Duration // probe's expectations; 0 = the manager's
		life time.Duration
		want []string
	}{
		{name: "defaults expire", cfg: session.Config{}},
		{name: "no idle timeout", cfg: session.Config{InsecureNoIdleTimeout: true}, idle: 30 * time.Minute,
			want: []string{"SESS005"}},
		{name: "lifetime 48h, expected 12h", cfg: session.Config{Lifetime: 48 * time.Hour}, life: 12 * time.Hour,
			want: []string{"SESS006"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Built outside the bubble: scs.New starts a memstore ticker.
			tc.cfg.Store = memstore.NewWithCleanupInterval(0)
			mgr := newSessManager(t, tc.cfg)
			synctest.Test(t, func(t *testing.T) {
				p := sessProbe()
				p.Advance = time.Sleep // the bubble's fake clock
				p.IdleTimeout, p.Lifetime = tc.idle, tc.life
				start := time.Now()
				target := readiness.Target{Server: sessServer(sessApp{mgr: mgr}.handler()), Checks: []readiness.Check{p}}
				r, err := readiness.Run(context.Background(), target)
				require.NoError(t, err)
				var ids []string // the probe's findings carry a route; static ones do not
				for _, f := range r.Findings {
					if strings.HasPrefix(f.ID, "SESS") && f.Route != "" {
						ids = append(ids, f.ID)
					}
				}
				assert.Equal(t, tc.want, ids, "%v", r)
				assert.GreaterOrEqual(t, time.Since(start), 12*time.Hour, "the probe walked the clock past the lifetime")
			})
		})
	}
}

func TestGateRefusesSessionProbe(t *testing.T) {
	mgr := newSessManager(t, session.Config{})
	err := readiness.Gate(context.Background(), readiness.Target{
		Server: sessServer(sessApp{mgr: mgr}.handler()), Checks: []readiness.Check{sessProbe()},
	}, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "probe")
}
