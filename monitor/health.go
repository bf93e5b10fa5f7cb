package monitor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Dependency is something the app needs to serve requests: the database,
// the mail API, the session store. Its Ping must honour ctx: the readiness
// endpoint cancels it after Timeout.
type Dependency struct {
	// Name identifies the dependency in the authenticated detail view
	// ("db", "mail"). Anonymous callers never see it.
	Name string
	// Timeout bounds each ping. Required: a dependency that hangs must not
	// hang the readiness endpoint (and the monitor polling it).
	Timeout time.Duration
	// Ping returns nil when the dependency is usable.
	Ping func(ctx context.Context) error
	// Optional marks a dependency the app can serve without, through a
	// declared fallback (a queue, a degraded page): while it fails, the
	// detail view says "degraded" but the endpoint stays ready. Pulling
	// every replica out of the load balancer for a dependency they all
	// share would turn a degraded page into an outage.
	Optional bool
}

// HealthConfig configures the health endpoints.
type HealthConfig struct {
	// Dependencies are pinged, concurrently, by the readiness endpoint.
	Dependencies []Dependency

	// Boot returns the boot verdict (for example the error of
	// readiness.Gate). Nil means the verdict is set with Health.SetBoot,
	// and is "starting" (not ready) until the first SetBoot call.
	Boot func() error

	// Detail reports whether the caller may see the detail view: each
	// dependency's name, state, latency and error text, and the boot
	// verdict. The app decides (an admin session, a monitoring token).
	// Nil means nobody: callers get only "ready" or "unavailable".
	Detail func(*http.Request) bool

	// InsecurePublicDetail shows the detail view to everyone, anonymous
	// callers included. It leaks internals (dependency names, error text)
	// and is reported by readiness as MON004.
	InsecurePublicDetail bool

	// CacheFor reuses a readiness result for this long, so a flood of
	// anonymous requests does not become a flood of database pings.
	// Zero means one second; negative disables caching.
	CacheFor time.Duration

	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// Health serves the liveness and readiness endpoints.
type Health struct {
	cfg  HealthConfig
	boot struct {
		sync.Mutex
		set bool
		err error
	}
	cache struct {
		sync.Mutex
		at  time.Time
		res *healthResult
	}
}

// ErrStarting is the boot verdict before the first SetBoot call.
var ErrStarting = errors.New("monitor: boot verdict not set yet")

// NewHealth validates cfg and returns the health endpoints.
func NewHealth(cfg HealthConfig) (*Health, error) {
	seen := map[string]bool{}
	var errs []error
	for i, d := range cfg.Dependencies {
		switch {
		case d.Name == "":
			errs = append(errs, fmt.Errorf("monitor: HealthConfig.Dependencies[%d].Name is empty; name the dependency", i))
		case seen[d.Name]:
			errs = append(errs, fmt.Errorf("monitor: HealthConfig.Dependencies[%d].Name %q is used twice; give each dependency its own name", i, d.Name))
		}
		seen[d.Name] = true
		if d.Timeout <= 0 {
			errs = append(errs, fmt.Errorf("monitor: HealthConfig.Dependencies[%d].Timeout is %v; set it (for example 2*time.Second) so a hung dependency cannot hang the endpoint", i, d.Timeout))
		}
		if d.Ping == nil {
			errs = append(errs, fmt.Errorf("monitor: HealthConfig.Dependencies[%d].Ping is nil; pass a function that checks the dependency", i))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	cfg.Dependencies = append([]Dependency(nil), cfg.Dependencies...)
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CacheFor == 0 {
		cfg.CacheFor = time.Second
	}
	return &Health{cfg: cfg}, nil
}

// SetBoot sets the boot verdict used when HealthConfig.Boot is nil: nil
// means booted and ready, an error means not ready. Safe for concurrent use.
func (h *Health) SetBoot(err error) {
	h.boot.Lock()
	h.boot.set, h.boot.err = true, err
	h.boot.Unlock()
	h.cache.Lock()
	h.cache.res = nil
	h.cache.Unlock()
}

func (h *Health) bootErr() error {
	if h.cfg.Boot != nil {
		return h.cfg.Boot()
	}
	h.boot.Lock()
	defer h.boot.Unlock()
	if !h.boot.set {
		return ErrStarting
	}
	return h.boot.err
}

// Dependencies returns the names of the registered dependencies.
func (h *Health) Dependencies() []string {
	out := make([]string, len(h.cfg.Dependencies))
	for i, d := range h.cfg.Dependencies {
		out[i] = d.Name
	}
	return out
}

// PublicDetail reports whether anonymous callers see the detail view
// (InsecurePublicDetail).
func (h *Health) PublicDetail() bool { return h.cfg.InsecurePublicDetail }

// HasDetailAuth reports whether an app function decides who sees the
// detail view.
func (h *Health) HasDetailAuth() bool { return h.cfg.Detail != nil }

// Liveness returns the liveness endpoint: 200 {"status":"ok"} while the
// process serves HTTP. It checks no dependency, so a database outage never
// makes an orchestrator restart healthy processes.
func (h *Health) Liveness() http.Handler { return &LivenessHandler{h: h} }

// Liveness returns a liveness endpoint not tied to any Health: 200
// {"status":"ok"} while the process serves HTTP.
func Liveness() http.Handler { return &LivenessHandler{} }

// Readiness returns the readiness endpoint: 200 {"status":"ready"} when the
// boot verdict is nil and every dependency answers within its timeout,
// otherwise 503 {"status":"unavailable"}. Callers allowed by
// HealthConfig.Detail get the detail view.
func (h *Health) Readiness() http.Handler { return &ReadinessHandler{h: h} }

// DetailHandler returns the readiness endpoint that always shows the detail
// view. Mount it only behind authentication (an admin route).
func (h *Health) DetailHandler() http.Handler { return &ReadinessHandler{h: h, detail: true} }

// LivenessHandler is the liveness endpoint; readiness finds it among the
// routes (MON001).
type LivenessHandler struct{ h *Health }

// Health returns the health endpoints the handler belongs to, or nil for
// the package-level Liveness.
func (l *LivenessHandler) Health() *Health { return l.h }

func (l *LivenessHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// ReadinessHandler is the readiness endpoint; readiness finds it among the
// routes (MON001) and reads its output settings (MON004).
type ReadinessHandler struct {
	h      *Health
	detail bool
}

// Health returns the health endpoints the handler belongs to.
func (rh *ReadinessHandler) Health() *Health { return rh.h }

// AlwaysDetail reports whether this handler shows the detail view to every
// caller it serves (DetailHandler, or InsecurePublicDetail).
func (rh *ReadinessHandler) AlwaysDetail() bool { return rh.detail || rh.h.cfg.InsecurePublicDetail }

// DependencyState is one dependency's line in the detail view.
type DependencyState struct {
	Name       string `json:"name"`
	OK         bool   `json:"ok"`
	DurationMS int64  `json:"duration_ms"`
	Error      string `json:"error,omitempty"`
	Optional   bool   `json:"optional,omitempty"`
}

type healthResult struct {
	ready    bool
	degraded bool // an optional dependency fails
	boot     string
	deps     []DependencyState
}

type detailBody struct {
	Status       string            `json:"status"`
	Boot         string            `json:"boot"`
	Dependencies []DependencyState `json:"dependencies"`
	CheckedAt    time.Time         `json:"checked_at"`
}

func (rh *ReadinessHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	res, at := rh.h.check(r.Context())
	status, word := http.StatusOK, "ready"
	if !res.ready {
		status, word = http.StatusServiceUnavailable, "unavailable"
	}
	if rh.AlwaysDetail() || (rh.h.cfg.Detail != nil && rh.h.cfg.Detail(r)) {
		if res.ready && res.degraded {
			word = "degraded"
		}
		writeJSON(w, status, detailBody{Status: word, Boot: res.boot, Dependencies: res.deps, CheckedAt: at.UTC()})
		return
	}
	writeJSON(w, status, map[string]string{"status": word})
}

// Check runs the readiness checks now (or returns a cached result) and
// returns nil when ready, or an error naming what is not.
func (h *Health) Check(ctx context.Context) error {
	res, _ := h.check(ctx)
	if res.ready {
		return nil
	}
	var errs []error
	if res.boot != "ok" {
		errs = append(errs, fmt.Errorf("boot: %s", res.boot))
	}
	for _, d := range res.deps {
		if !d.OK && !d.Optional {
			errs = append(errs, fmt.Errorf("%s: %s", d.Name, d.Error))
		}
	}
	return fmt.Errorf("monitor: not ready: %w", errors.Join(errs...))
}

func (h *Health) check(ctx context.Context) (*healthResult, time.Time) {
	h.cache.Lock()
	defer h.cache.Unlock() // one check at a time: concurrent callers share it
	now := h.cfg.Now()
	if h.cache.res != nil && h.cfg.CacheFor > 0 && now.Sub(h.cache.at) < h.cfg.CacheFor && !now.Before(h.cache.at) {
		return h.cache.res, h.cache.at
	}
	// A caller that goes away must not fail the shared result.
	ctx = context.WithoutCancel(ctx)
	res := &healthResult{ready: true, boot: "ok", deps: make([]DependencyState, len(h.cfg.Dependencies))}
	if err := h.bootErr(); err != nil {
		res.ready, res.boot = false, err.Error()
	}
	var wg sync.WaitGroup
	for i, d := range h.cfg.Dependencies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res.deps[i] = h.ping(ctx, d)
		}()
	}
	wg.Wait()
	for _, d := range res.deps {
		switch {
		case d.OK:
		case d.Optional:
			res.degraded = true
		default:
			res.ready = false
		}
	}
	h.cache.res, h.cache.at = res, now
	return res, now
}

func (h *Health) ping(ctx context.Context, d Dependency) (st DependencyState) {
	st.Name, st.Optional = d.Name, d.Optional
	ctx, cancel := context.WithTimeout(ctx, d.Timeout)
	defer cancel()
	start := h.cfg.Now()
	done := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("ping panicked: %v", p)
			}
		}()
		done <- d.Ping(ctx)
	}()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		err = fmt.Errorf("no answer within %v", d.Timeout)
	}
	st.DurationMS = h.cfg.Now().Sub(start).Milliseconds()
	if err != nil {
		st.Error = err.Error()
		return st
	}
	st.OK = true
	return st
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
