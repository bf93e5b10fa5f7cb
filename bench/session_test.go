package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"

	"github.com/launchready/launchready/session"
)

type sessionImpl struct {
	name   string
	cookie string
	mw     func(http.Handler) http.Handler
	login  func(ctx context.Context) error
	signed func(r *http.Request) bool
}

func scsImpl(name string, sm *scs.SessionManager) sessionImpl {
	return sessionImpl{
		name: name, cookie: sm.Cookie.Name, mw: sm.LoadAndSave,
		login: func(ctx context.Context) error {
			if err := sm.RenewToken(ctx); err != nil {
				return err
			}
			sm.Put(ctx, "launchready.user", "agent-7")
			sm.Put(ctx, "launchready.auth", time.Now().UnixNano())
			return nil
		},
		signed: func(r *http.Request) bool { return sm.GetString(r.Context(), "launchready.user") != "" },
	}
}

// BenchmarkSessionLoadSave measures one request of a signed-in session:
// load from the store, read the user, save if the middleware saves,
// write the cookie. impl=scs is raw scs configured like ours (same
// memstore, idle 30 min, lifetime 12 h, hashed tokens, same cookie), which
// re-saves the session and sets the cookie on every request to push the
// idle deadline: the target (issue 4) is launchready ≤ 1.1× impl=scs.
// Ours pushes the idle deadline at most once a minute, so its request
// reads only (no save, no cookie); impl=launchready-save is ours on a
// request that changes the session (it saves and sets the cookie, as scs
// on every request), so the save path shows too. impl=scs-defaults is scs
// as it comes (no idle timeout, so no save per request; raw tokens), for
// scale. Ours uses its compact codec by default; impl=launchready-gob is
// ours with scs's gob codec, the same codec as impl=scs, so the wrapper's
// own cost shows apart from the codec's.
func BenchmarkSessionLoadSave(b *testing.B) {
	ours, err := session.New(session.Config{Store: memstore.NewWithCleanupInterval(0)})
	if err != nil {
		b.Fatal(err)
	}
	oursGob, err := session.New(session.Config{Store: memstore.NewWithCleanupInterval(0), Codec: scs.GobCodec{}})
	if err != nil {
		b.Fatal(err)
	}
	raw := scs.New()
	raw.Store = memstore.NewWithCleanupInterval(0)
	raw.IdleTimeout, raw.Lifetime, raw.HashTokenInStore = 30*time.Minute, 12*time.Hour, true
	raw.Cookie.Name, raw.Cookie.Secure, raw.Cookie.Persist = session.DefaultCookieName, true, false
	defaults := scs.New()
	defaults.Store = memstore.NewWithCleanupInterval(0)

	impls := []sessionImpl{
		{
			name: "launchready", cookie: session.DefaultCookieName, mw: ours.Handler,
			login: func(ctx context.Context) error { return ours.Login(ctx, "agent-7") },
			signed: func(r *http.Request) bool {
				_, _, ok := ours.User(r)
				return ok
			},
		},
		{
			name: "launchready-save", cookie: session.DefaultCookieName, mw: ours.Handler,
			login: func(ctx context.Context) error { return ours.Login(ctx, "agent-7") },
			signed: func(r *http.Request) bool {
				_, _, ok := ours.User(r)
				ours.Engine().Put(r.Context(), "page", "/api/me")
				return ok
			},
		},
		{
			name: "launchready-gob", cookie: session.DefaultCookieName, mw: oursGob.Handler,
			login: func(ctx context.Context) error { return oursGob.Login(ctx, "agent-7") },
			signed: func(r *http.Request) bool {
				_, _, ok := oursGob.User(r)
				return ok
			},
		},
		scsImpl("scs", raw),
		scsImpl("scs-defaults", defaults),
	}
	for _, impl := range impls {
		b.Run("impl="+impl.name, func(b *testing.B) {
			token := signIn(b, impl)
			h := impl.mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !impl.signed(r) {
					w.WriteHeader(http.StatusUnauthorized)
				}
			}))
			req := httptest.NewRequest(http.MethodGet, "https://portal.example.com/api/me", nil)
			req.AddCookie(&http.Cookie{Name: impl.cookie, Value: token})
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}

// signIn logs in once through impl's middleware and returns the token.
func signIn(b *testing.B, impl sessionImpl) string {
	b.Helper()
	h := impl.mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := impl.login(r.Context()); err != nil {
			b.Fatal(err)
		}
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "https://portal.example.com/api/login", nil))
	for _, c := range rec.Result().Cookies() {
		if c.Name == impl.cookie {
			return c.Value
		}
	}
	b.Fatal("login set no session cookie")
	return ""
}
