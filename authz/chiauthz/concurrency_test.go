package chiauthz_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"

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
