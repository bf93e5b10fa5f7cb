package bench

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// BenchmarkChainConcurrency is the GET of BenchmarkChain (the whole kit,
// chainKit) at 1, 8 and 64 concurrent requests: conc=1 one goroutine, the
// others b.RunParallel with b.SetParallelism(conc/GOMAXPROCS), so conc
// goroutines when GOMAXPROCS divides it (1, 2, 4, 8, 64). ns/op is wall
// time per request (the inverse of throughput: it falls as cores join);
// cpu-ns/op is the process's CPU time (user+system, getrusage) per
// request, what each request costs whatever the concurrency — the report's
// scaling table states how both grow (issue 25). Kit-only.
//
// refused/op is the share answered 429 by the chain's per-principal limit
// (chainLimit: 10⁶/s, burst 100): a goroutine preempted between reading
// the limiter's clock and deciding comes back with a stale clock and is
// refused, so a few requests of the parallel runs stop at the limit. They
// ran the chain up to it and are counted; the figure says how many.
func BenchmarkChainConcurrency(b *testing.B) {
	h, cookie := chainKit(b, "")
	newReq := func() (*http.Request, *chainWriter) {
		r := httptest.NewRequest(http.MethodGet, chainOrigin+"/api/clients/client-a", nil)
		r.RemoteAddr = "203.0.113.9:4242"
		r.AddCookie(cookie)
		r.Header.Set("Sec-Fetch-Site", "same-origin")
		return r, &chainWriter{benchWriter: benchWriter{h: http.Header{}}}
	}
	var refused atomic.Int64
	serve := func(r *http.Request, w *chainWriter) {
		w.reset()
		h.ServeHTTP(w, r)
		switch w.code {
		case http.StatusOK:
		case http.StatusTooManyRequests:
			refused.Add(1)
		default:
			panic(fmt.Sprintf("status %d", w.code))
		}
	}
	for _, conc := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("conc=%d", conc), func(b *testing.B) {
			b.ReportAllocs()
			refused.Store(0)
			cpu0 := processCPU(b)
			if conc == 1 {
				r, w := newReq()
				for b.Loop() {
					serve(r, w)
				}
			} else {
				b.SetParallelism(max(1, conc/runtime.GOMAXPROCS(0)))
				b.RunParallel(func(pb *testing.PB) {
					r, w := newReq()
					for pb.Next() {
						serve(r, w)
					}
				})
			}
			b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(refused.Load())/float64(b.N), "refused/op")
		})
	}
}

// processCPU is the user+system CPU time of the benchmark process so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
