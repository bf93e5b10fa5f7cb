package egress

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
)

// Fallback is what the app does for its caller when a dependency is slow or
// down. Declaring it is required: "we wait for the mail API" is the answer
// that freezes a support agent's screen for the length of the timeout.
type Fallback int

const (
	// FallbackUnset is the zero value; NewDependency refuses it.
	FallbackUnset Fallback = iota
	// Queue: the work is put on a queue and retried later; the request
	// succeeds without waiting for the dependency (mail, webhooks).
	Queue
	// Degrade: the response is served without the dependency's part (an
	// enrichment panel says "unavailable").
	Degrade
	// FailFast: the request answers 503 with Retry-After at once, without
	// waiting for the dependency (a payment that cannot be taken later).
	FailFast
)

func (f Fallback) String() string {
	switch f {
	case Queue:
		return "queue"
	case Degrade:
		return "degrade"
	case FailFast:
		return "fail-fast"
	}
	return "unset"
}

// DependencyConfig describes one outbound dependency: how long the app may
// wait for it, how often a request may be retried, when to stop calling it,
// and what the app does instead.
type DependencyConfig struct {
	// Name identifies the dependency in errors, the readiness report and
	// the monitor ("mail", "crm"). Required.
	Name string

	// Guard configures the SSRF guard and the transport's timeouts as for
	// NewClient. Guard.Timeout is the per-attempt timeout and defaults to
	// Deadline.
	Guard Config

	// Deadline bounds one call to the dependency, retries and backoff
	// included. It must be shorter than the server's WriteTimeout and than
	// what a support agent is willing to wait; readiness reports a deadline
	// that is not. Zero means 2 s.
	Deadline time.Duration

	// Retries is how many times an idempotent request (GET, HEAD, OPTIONS,
	// or any request carrying an Idempotency-Key header) is retried after a
	// connection error or a 502, 503 or 504, within Deadline. Other
	// requests are never retried: a retried POST can send the mail twice.
	// Zero means no retry; at most 3.
	Retries int

	// Backoff is the base of the exponential backoff between retries, with
	// full jitter (a random wait in [0, Backoff·2^attempt)). Zero means
	// 100 ms.
	Backoff time.Duration

	// Failures is how many consecutive failed calls (connection errors,
	// timeouts, 5xx) open the circuit breaker. While open, calls fail at once
	// with an *OpenError and the dependency gets time to recover. Zero
	// means 5.
	Failures uint32

	// OpenFor is how long the breaker stays open before it lets one trial
	// call through (half-open). Zero means 30 s.
	OpenFor time.Duration

	// Fallback is what the app does when a call fails. Required: readiness
	// reports it, and the dependency probe verifies it.
	Fallback Fallback

	// OnStateChange, when set, is called when the breaker changes state,
	// for logs and counters.
	OnStateChange func(name string, from, to BreakerState)
}

// BreakerState is the circuit breaker's state.
type BreakerState int

const (
	// Closed: calls go through.
	Closed BreakerState = iota
	// HalfOpen: one trial call goes through; its outcome closes or reopens.
	HalfOpen
	// Open: calls fail at once.
	Open
)

func (s BreakerState) String() string {
	switch s {
	case Closed:
		return "closed"
	case HalfOpen:
		return "half-open"
	case Open:
		return "open"
	}
	return "unknown"
}

func fromGobreaker(s gobreaker.State) BreakerState {
	switch s {
	case gobreaker.StateHalfOpen:
		return HalfOpen
	case gobreaker.StateOpen:
		return Open
	}
	return Closed
}

// ErrOpen is wrapped by the error a call returns while the breaker is open.
var ErrOpen = errors.New("egress: circuit open")

// OpenError is returned, without calling the dependency, while its breaker
// is open. RetryAfter is a sensible Retry-After for the app's own 503.
type OpenError struct {
	Name       string
	RetryAfter time.Duration
}

func (e *OpenError) Error() string {
	return fmt.Sprintf("egress: %s is failing; its circuit breaker is open, calls fail at once (retry after %s)", e.Name, e.RetryAfter)
}

func (e *OpenError) Unwrap() error { return ErrOpen }

// StatusError is returned for a response with a 5xx status, so that the
// breaker counts it as a failure. The response body has been discarded.
type StatusError struct {
	Name   string
	Status int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("egress: %s answered %d %s", e.Name, e.Status, http.StatusText(e.Status))
}

// DependencySettings are a dependency's effective settings, read by
// readiness.
type DependencySettings struct {
	Name     string
	Deadline time.Duration
	Retries  int
	Backoff  time.Duration
	Failures uint32
	OpenFor  time.Duration
	Fallback Fallback
}

// Dependency is an outbound dependency with a budget, bounded retries and a
// circuit breaker. Its Client is what the app calls the dependency with.
type Dependency struct {
	settings DependencySettings
	breaker  atomic.Pointer[gobreaker.TwoStepCircuitBreaker[struct{}]]
	newBreak func() *gobreaker.TwoStepCircuitBreaker[struct{}]
	client   *http.Client
	base     atomic.Pointer[roundTripperBox]
	openedAt atomic.Int64 // unix nanoseconds of the last transition to open
	calls    atomic.Int64
}

type roundTripperBox struct{ rt http.RoundTripper }

// NewDependency validates cfg and returns the dependency.
func NewDependency(cfg DependencyConfig) (*Dependency, error) {
	var errs []error
	if cfg.Name == "" {
		errs = append(errs, errors.New("egress: DependencyConfig.Name is empty; name the dependency (\"mail\", \"crm\")"))
	}
	if cfg.Deadline < 0 {
		errs = append(errs, fmt.Errorf("egress: DependencyConfig.Deadline is %v; use a positive duration or zero for 2s", cfg.Deadline))
	}
	if cfg.Retries < 0 || cfg.Retries > 3 {
		errs = append(errs, fmt.Errorf("egress: DependencyConfig.Retries is %d; use 0 to 3 (more retries only add load to a failing dependency)", cfg.Retries))
	}
	if cfg.Backoff < 0 {
		errs = append(errs, fmt.Errorf("egress: DependencyConfig.Backoff is %v; use a positive duration or zero for 100ms", cfg.Backoff))
	}
	if cfg.OpenFor < 0 {
		errs = append(errs, fmt.Errorf("egress: DependencyConfig.OpenFor is %v; use a positive duration or zero for 30s", cfg.OpenFor))
	}
	switch cfg.Fallback {
	case Queue, Degrade, FailFast:
	default:
		errs = append(errs, fmt.Errorf("egress: DependencyConfig.Fallback is unset for %q; declare what the app does when it is down: egress.Queue, egress.Degrade or egress.FailFast", cfg.Name))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	s := DependencySettings{
		Name: cfg.Name, Deadline: cfg.Deadline, Retries: cfg.Retries, Backoff: cfg.Backoff,
		Failures: cfg.Failures, OpenFor: cfg.OpenFor, Fallback: cfg.Fallback,
	}
	if s.Deadline == 0 {
		s.Deadline = 2 * time.Second
	}
	if s.Backoff == 0 {
		s.Backoff = 100 * time.Millisecond
	}
	if s.Failures == 0 {
		s.Failures = 5
	}
	if s.OpenFor == 0 {
		s.OpenFor = 30 * time.Second
	}
	guard := cfg.Guard
	if guard.Timeout == 0 || guard.Timeout > s.Deadline {
		guard.Timeout = s.Deadline
	}
	inner, err := NewClient(guard)
	if err != nil {
		return nil, err
	}
	d := &Dependency{settings: s}
	d.base.Store(&roundTripperBox{inner.Transport})
	d.newBreak = func() *gobreaker.TwoStepCircuitBreaker[struct{}] {
		return gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
			Name:    s.Name,
			Timeout: s.OpenFor,
			ReadyToTrip: func(c gobreaker.Counts) bool {
				return c.ConsecutiveFailures >= s.Failures
			},
			OnStateChange: func(name string, from, to gobreaker.State) {
				if to == gobreaker.StateOpen {
					d.openedAt.Store(time.Now().UnixNano())
				}
				if cfg.OnStateChange != nil {
					cfg.OnStateChange(name, fromGobreaker(from), fromGobreaker(to))
				}
			},
		})
	}
	d.breaker.Store(d.newBreak())
	d.client = &http.Client{
		// The deadline is applied per call by the transport, through the
		// request's context; Timeout is a backstop a little above it.
		Timeout:   s.Deadline + time.Second,
		Transport: &dependencyTransport{d: d, guarded: inner.Transport.(*Transport)},
	}
	return d, nil
}

// Client returns the client to call the dependency with. Each call is
// bounded by Deadline, retried when safe, and refused at once while the
// breaker is open.
func (d *Dependency) Client() *http.Client { return d.client }

// Settings returns the dependency's effective settings.
func (d *Dependency) Settings() DependencySettings { return d.settings }

// State returns the breaker's state.
func (d *Dependency) State() BreakerState { return fromGobreaker(d.breaker.Load().State()) }

// ResetBreaker closes the breaker and forgets its counts. It is for tests
// and the dependency probe, which trip it on purpose and must leave the
// app as they found it.
func (d *Dependency) ResetBreaker() {
	d.breaker.Store(d.newBreak())
	d.openedAt.Store(0)
}

// Calls returns how many requests the app has made through the client,
// including those refused by an open breaker.
func (d *Dependency) Calls() int64 { return d.calls.Load() }

// Ping reports the breaker: nil unless it is open, then an *OpenError. It
// does not call the dependency, so a readiness endpoint can show the state
// without adding load.
func (d *Dependency) Ping(context.Context) error {
	if d.State() == Open {
		return &OpenError{Name: d.settings.Name, RetryAfter: d.retryAfter()}
	}
	return nil
}

// InjectFault replaces the transport beneath the budget, retries and
// breaker with rt until restore is called. It is for tests and the
// dependency probe, which simulate a slow or failing dependency with it;
// the rest of the dependency's behaviour stays as in production.
func (d *Dependency) InjectFault(rt http.RoundTripper) (restore func()) {
	prev := d.base.Swap(&roundTripperBox{rt})
	return func() { d.base.Store(prev) }
}

func (d *Dependency) retryAfter() time.Duration {
	opened := d.openedAt.Load()
	if opened == 0 {
		return d.settings.OpenFor
	}
	left := d.settings.OpenFor - time.Since(time.Unix(0, opened))
	if left < time.Second {
		return time.Second
	}
	return left.Round(time.Second)
}

// RetryAfterSeconds formats a Retry-After header value for err: the time
// until the breaker half-opens for an *OpenError, otherwise fallback.
func RetryAfterSeconds(err error, fallback time.Duration) string {
	var open *OpenError
	if errors.As(err, &open) {
		fallback = open.RetryAfter
	}
	secs := int(fallback.Round(time.Second) / time.Second)
	if secs < 1 {
		secs = 1
	}
	return strconv.Itoa(secs)
}

// dependencyTransport applies the dependency's deadline, retries and
// breaker around the guarded transport (or an injected fault).
type dependencyTransport struct {
	d       *Dependency
	guarded *Transport
}

// Guard returns the SSRF guard beneath the dependency, so readiness sees
// the client as guarded (DEPLOY007).
func (t *dependencyTransport) Guard() *Guard { return t.guarded.Guard() }

// Dependency returns the dependency the transport belongs to; readiness
// reads its settings through it.
func (t *dependencyTransport) Dependency() *Dependency { return t.d }

func idempotent(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, "":
		return true
	}
	return r.Header.Get("Idempotency-Key") != ""
}

func retryableStatus(code int) bool {
	return code == http.StatusBadGateway || code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout
}

func (t *dependencyTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	d := t.d
	d.calls.Add(1)
	done, err := d.breaker.Load().Allow()
	if err != nil {
		closeBody(req)
		return nil, &OpenError{Name: d.settings.Name, RetryAfter: d.retryAfter()}
	}
	ctx, cancel := context.WithTimeout(req.Context(), d.settings.Deadline)
	resp, err := t.attempts(ctx, req)
	if err != nil {
		cancel()
		// A call the app itself cancelled says nothing about the dependency.
		if req.Context().Err() != nil {
			done(nil)
		} else {
			done(err)
		}
		return nil, err
	}
	if resp.StatusCode >= 500 {
		done(&StatusError{Name: d.settings.Name, Status: resp.StatusCode})
	} else {
		done(nil)
	}
	// The deadline covers reading the body too; cancel when it is closed.
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

func (t *dependencyTransport) attempts(ctx context.Context, req *http.Request) (*http.Response, error) {
	d := t.d
	retries := 0
	if idempotent(req) && (req.Body == nil || req.Body == http.NoBody || req.GetBody != nil) {
		retries = d.settings.Retries
	}
	var lastErr error
	for attempt := 0; ; attempt++ {
		r := req.Clone(ctx)
		if attempt > 0 && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			r.Body = body
		}
		resp, err := d.base.Load().rt.RoundTrip(r)
		switch {
		case err == nil && !(retryableStatus(resp.StatusCode) && attempt < retries):
			return resp, nil
		case err == nil:
			lastErr = &StatusError{Name: d.settings.Name, Status: resp.StatusCode}
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		default:
			if ctx.Err() != nil {
				return nil, fmt.Errorf("egress: %s did not answer within its %s deadline: %w", d.settings.Name, d.settings.Deadline, err)
			}
			lastErr = err
			if attempt >= retries {
				return nil, err
			}
		}
		// Full jitter: a random wait below the exponential step, so replicas
		// retrying together do not arrive together.
		step := d.settings.Backoff << attempt
		wait := time.Duration(rand.Int64N(int64(step) + 1))
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, fmt.Errorf("egress: %s did not answer within its %s deadline (last: %v): %w", d.settings.Name, d.settings.Deadline, lastErr, ctx.Err())
		case <-timer.C:
		}
	}
}

func closeBody(r *http.Request) {
	if r.Body != nil {
		r.Body.Close()
	}
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// DependencyOf returns the dependency behind a client made by
// Dependency.Client, or nil.
func DependencyOf(c *http.Client) *Dependency {
	if c == nil {
		return nil
	}
	if t, ok := c.Transport.(interface{ Dependency() *Dependency }); ok {
		return t.Dependency()
	}
	return nil
}
