package chiauthz_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/authz"
	"github.com/launchready/launchready/authz/chiauthz"
)

// Decisions under concurrent requests of different principals never leak
// one request's principal or decision into another (run with -race).
func TestConcurrentRequestsKeepTheirOwnDecision(t *testing.T) {
	r := newRouter(t)
	r.Get("/api/clients/{id}", authz.Authenticated().Object(loadClient, authz.SameTenant), ok)
	var wg sync.WaitGroup
	errs := make(chan string, 400)
	for i := range 400 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			user, target, want := "alice", "/api/clients/client-a", 200
			switch i % 3 {
			case 1:
				user, want = "bob", 404
			case 2:
				user, want = "", 401
			}
			w := serve(r, "GET", target, user)
			if w.Code != want {
				errs <- fmt.Sprintf("%s: %d, want %d", user, w.Code, want)
				return
			}
			if want == 200 && w.Body.String() != "GET /api/clients/{id} u-alice client-a" {
				errs <- "alice got " + w.Body.String()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		assert.Fail(t, e)
	}
}

// chiauthz recycles chi's route context as chi does, but never the
// authorization state: a handler that keeps the request's context after
// returning keeps its own principal and decision, whatever was served since.
// While it runs, chi's route context is its own (URL params, pattern).
func TestKeptContextKeepsItsOwnPrincipal(t *testing.T) {
	r := newRouter(t)
	var mu sync.Mutex
	kept := map[string][]context.Context{}
	r.Get("/api/clients/{id}", authz.Authenticated().Object(loadClient, authz.SameTenant), func(w http.ResponseWriter, req *http.Request) {
		assert.Equal(t, req.PathValue("id"), chi.URLParam(req, "id"))
		assert.Equal(t, "/api/clients/{id}", chi.RouteContext(req.Context()).RoutePattern())
		mu.Lock()
		defer mu.Unlock()
		p, _ := authz.PrincipalFrom(req.Context())
		kept[p.ID] = append(kept[p.ID], context.WithoutCancel(req.Context()))
	})
	var wg sync.WaitGroup
	for _, u := range []struct{ user, id string }{{"alice", "client-a"}, {"bob", "client-b"}} {
		wg.Go(func() {
			for range 100 {
				if w := serve(r, "GET", "/api/clients/"+u.id, u.user); w.Code != 200 {
					t.Errorf("%s: %d", u.user, w.Code)
				}
			}
		})
	}
	wg.Wait()
	require.Len(t, kept["u-alice"], 100)
	require.Len(t, kept["u-bob"], 100)
	for id, ctxs := range kept {
		for _, ctx := range ctxs {
			p, ok := authz.PrincipalFrom(ctx)
			assert.True(t, ok)
			assert.Equal(t, id, p.ID, "a kept context names another request's principal")
			pattern, decided := authz.Decided(ctx)
			assert.True(t, decided)
			assert.Equal(t, "GET /api/clients/{id}", pattern)
		}
	}
}

// A subrouter serves nothing until it is mounted.
func TestUnmountedSubrouterRefuses(t *testing.T) {
	sub := r0()
	w := serve(sub, "GET", "/x", "admin")
	assert.Equal(t, http.StatusInternalServerError, w.Code)
	assert.Equal(t, "application/problem+json", w.Header().Get("Content-Type"))
	assert.NotContains(t, w.Body.String(), "mounted", "the reason is not shown to the client")
}

func r0() http.Handler {
	sub := chiauthz.NewSubrouter()
	sub.Get("/x", authz.Role("admin"), ok)
	return sub
}
