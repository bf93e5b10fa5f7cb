package edge

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/launchready/launchready/readiness"
)

// Percentiles are nearest-rank percentiles of a set of durations.
type Percentiles struct {
	N             int
	P50, P95, P99 time.Duration
}

// percentiles returns the nearest-rank percentiles of d (sorted in place).
func percentiles(d []time.Duration) Percentiles {
	slices.Sort(d)
	at := func(p int) time.Duration {
		if len(d) == 0 {
			return 0
		}
		i := (p*len(d)+99)/100 - 1
		return d[max(i, 0)]
	}
	return Percentiles{N: len(d), P50: at(50), P95: at(95), P99: at(99)}
}

// checkLatency times Sequential GETs one after another and Concurrent
// GETs Parallelism at a time, to the first health path and (signed in) to
// AuthPath. p95 over LatencyBudget blocks (EDGE011).
func (s *scan) checkLatency(ctx context.Context) {
	c := s.c
	if c.cfg.Sequential < 0 && c.cfg.Concurrent < 0 {
		return
	}
	type target struct {
		path string
		hdr  http.Header
	}
	var targets []target
	if len(c.cfg.HealthPaths) > 0 {
		targets = append(targets, target{c.cfg.HealthPaths[0], nil})
	}
	if len(s.session) > 0 {
		req := &http.Request{Header: http.Header{}}
		for _, ck := range s.session {
			req.AddCookie(ck)
		}
		targets = append(targets, target{c.cfg.AuthPath, req.Header})
	}
	for _, t := range targets {
		var (
			mu        sync.Mutex
			durations []time.Duration
			failures  int
			firstErr  error
		)
		one := func() {
			res, err := c.do(ctx, s.client, http.MethodGet, c.url(t.path), t.hdr, nil)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				failures++
				if firstErr == nil {
					firstErr = err
				}
			case res.status >= 300:
				failures++
				if firstErr == nil {
					firstErr = fmt.Errorf("GET %s answered %d", t.path, res.status)
				}
			default:
				durations = append(durations, res.elapsed)
			}
		}
		for i := 0; i < c.cfg.Sequential; i++ {
			one()
		}
		if c.cfg.Concurrent > 0 {
			work := make(chan struct{})
			var wg sync.WaitGroup
			for w := 0; w < min(c.cfg.Parallelism, c.cfg.Concurrent); w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range work {
						one()
					}
				}()
			}
			for i := 0; i < c.cfg.Concurrent; i++ {
				work <- struct{}{}
			}
			close(work)
			wg.Wait()
		}
		route := "GET " + t.path
		if failures > 0 {
			s.unverified(fmt.Sprintf("the latency of %s (%d of %d requests failed)", t.path, failures, failures+len(durations)), firstErr)
		}
		if len(durations) == 0 {
			continue
		}
		p := percentiles(durations)
		seen := fmt.Sprintf("%s: %d requests (%d sequential, %d concurrent at %d): p50 %v, p95 %v, p99 %v",
			t.path, p.N, max(c.cfg.Sequential, 0), max(c.cfg.Concurrent, 0), c.cfg.Parallelism, ms(p.P50), ms(p.P95), ms(p.P99))
		f := finding("EDGE011", readiness.Info, seen, "nothing to do; keep p95 under 500 ms")
		if p.P95 > LatencyBudget {
			f = finding("EDGE011", readiness.Blocker, seen+fmt.Sprintf(" — over the %s budget", ms(LatencyBudget)),
				"profile the slow path (database queries, outbound calls without timeouts, CPU), add capacity, or cache; support flows need p95 under 500 ms")
		}
		f.Route = route
		s.add(f)
	}
}

// ms formats d in milliseconds with one decimal.
func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
