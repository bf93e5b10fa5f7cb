package readiness_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/readiness"
)

// wrapper is a walkable middleware, like every kit middleware.
type wrapper struct {
	name string
	next http.Handler
}

func (w *wrapper) ServeHTTP(rw http.ResponseWriter, r *http.Request) { w.next.ServeHTTP(rw, r) }
func (w *wrapper) Unwrap() http.Handler                              { return w.next }

// inventory is a minimal route inventory, standing in for authz.Mux.
type inventory struct {
	*http.ServeMux
	routes []string
	h      map[string]http.Handler
}

func newInventory() *inventory {
	return &inventory{ServeMux: http.NewServeMux(), h: map[string]http.Handler{}}
}

func (i *inventory) Handle(pattern string, h http.Handler) {
	i.ServeMux.Handle(pattern, h)
	i.routes = append(i.routes, pattern)
	i.h[pattern] = h
}

func (i *inventory) EachRoute(fn func(string, http.Handler)) {
	for _, p := range i.routes {
		fn(p, i.h[p])
	}
}

// loop unwraps to itself: a broken third-party middleware.
type loop struct{}

func (l loop) ServeHTTP(http.ResponseWriter, *http.Request) {}
func (l loop) Unwrap() http.Handler                         { return l }

func TestWalkFindsInventoryAndRoutes(t *testing.T) {
	inv := newInventory()
	final := http.NotFoundHandler()
	inv.Handle("POST /api/clients/{id}/tickets", &wrapper{name: "limit", next: final})
	inv.Handle("/healthz", final)
	outer := &wrapper{name: "log", next: &wrapper{name: "cors", next: inv}}

	chain := readiness.Walk(outer)
	require.Len(t, chain, 3)
	got, ok := readiness.Find[readiness.Inventory](chain)
	require.True(t, ok)
	assert.Same(t, inv, got)
	assert.Len(t, readiness.FindAll[*wrapper](chain), 2)

	var seen []readiness.Route
	target := readiness.Target{Server: &http.Server{Handler: outer}, Env: readiness.Development,
		Checks: []readiness.Check{readiness.CheckFunc("collect", func(_ context.Context, in *readiness.Inspection) []readiness.Finding {
			seen = in.Routes
			return nil
		})}}
	_, err := readiness.Run(t.Context(), target)
	require.NoError(t, err)
	require.Len(t, seen, 2)
	assert.Equal(t, "POST", seen[0].Method)
	assert.Equal(t, "/api/clients/{id}/tickets", seen[0].Path)
	assert.Equal(t, []string{"id"}, seen[0].Wildcards())
	assert.True(t, seen[0].Mutating())
	assert.Len(t, seen[0].Chain, 2, "the route chain is walked too")
	assert.Equal(t, "", seen[1].Method)
	assert.True(t, seen[1].Mutating(), "a pattern without a method accepts POST")
}

func TestWalkStopsOnCyclesAndNil(t *testing.T) {
	assert.Nil(t, readiness.Walk(nil))
	assert.LessOrEqual(t, len(readiness.Walk(loop{})), 256)
	chain := readiness.Walk(http.NotFoundHandler())
	assert.Len(t, chain, 1, "a handler that does not unwrap ends the walk")
}

func TestParsePattern(t *testing.T) {
	for _, tc := range []struct{ in, method, host, path string }{
		{"GET /x", "GET", "", "/x"},
		{"/x/{id...}", "", "", "/x/{id...}"},
		{"POST example.com/a", "POST", "example.com", "/a"},
		{"example.com/", "", "example.com", "/"},
	} {
		m, h, p := readiness.ParsePattern(tc.in)
		assert.Equal(t, []string{tc.method, tc.host, tc.path}, []string{m, h, p}, tc.in)
	}
	r := readiness.Route{Path: "/files/{dir}/{name...}/{$}"}
	assert.Equal(t, []string{"dir", "name"}, r.Wildcards())
}
