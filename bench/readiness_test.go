package bench

import (
	"fmt"
	"net/http"
	"runtime/debug"
	"testing"
	"time"

	"github.com/launchready/launchready/readiness"
)

// routeInventory is a minimal readiness.Inventory. Once authz.Mux exists the
// benchmark should use it instead, so the AUTH checks are measured too.
type routeInventory struct {
	*http.ServeMux
	patterns []string
	handlers []http.Handler
}

func (i *routeInventory) EachRoute(fn func(string, http.Handler)) {
	for k, p := range i.patterns {
		fn(p, i.handlers[k])
	}
}

func serverWithRoutes(n int) *http.Server {
	inv := &routeInventory{ServeMux: http.NewServeMux()}
	h := http.NotFoundHandler()
	for i := range n {
		p := fmt.Sprintf("GET /api/clients/{id}/r%d", i)
		inv.Handle(p, h)
		inv.patterns = append(inv.patterns, p)
		inv.handlers = append(inv.handlers, h)
	}
	return &http.Server{Handler: inv, ReadHeaderTimeout: time.Second, ReadTimeout: time.Second,
		WriteTimeout: time.Second, IdleTimeout: time.Second, MaxHeaderBytes: 1 << 16}
}

// BenchmarkReadinessStatic measures one static readiness run (every built-in
// check) over a server with 100 and 1,000 routes. Goal: under 20 ms at 1,000.
func BenchmarkReadinessStatic(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("routes=%d", n), func(b *testing.B) {
			target := readiness.Target{Server: serverWithRoutes(n), Build: &debug.BuildInfo{}, Env: readiness.Production}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := readiness.Run(b.Context(), target); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
