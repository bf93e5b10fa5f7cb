package portalapp

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// MailQueue runs the portal's outgoing-mail work after the response: a
// handler hands it a task and answers at once, so a request that sends mail
// (a password reset for an existing account) takes as long as one that
// does not, and a slow or failing mail provider never holds a request.
// Deliveries through Mailer() are retried with backoff. The queue is
// bounded; a task that finds it full is dropped and logged (a reset can be
// asked for again), never blocking the request.
type MailQueue struct {
	tasks   chan func(context.Context)
	mailer  Mailer
	logger  *slog.Logger
	retries int
	backoff func(attempt int) time.Duration
	pending sync.WaitGroup
	stop    context.CancelFunc
	ctx     context.Context
	done    chan struct{}
	mu      sync.RWMutex // guards closed against Defer's send
	closed  bool
}

// MailQueueConfig configures NewMailQueue.
type MailQueueConfig struct {
	// Mailer delivers the mail. Required.
	Mailer Mailer
	// Size bounds the queued tasks; default 1024.
	Size int
	// Attempts is how often a delivery is tried; default 5.
	Attempts int
	// Backoff is the wait before attempt n+1 (n from 1). Default: 1 s,
	// doubling, at most 1 min.
	Backoff func(attempt int) time.Duration
	// Logger receives dropped tasks and failed deliveries. Nil discards.
	Logger *slog.Logger
}

// NewMailQueue starts the queue's worker. Close stops it.
func NewMailQueue(c MailQueueConfig) (*MailQueue, error) {
	if c.Mailer == nil {
		return nil, errors.New("portal: MailQueueConfig.Mailer is nil; pass the mailer that delivers")
	}
	if c.Size == 0 {
		c.Size = 1024
	}
	if c.Attempts == 0 {
		c.Attempts = 5
	}
	if c.Size < 0 || c.Attempts < 0 {
		return nil, errors.New("portal: MailQueueConfig.Size and Attempts must be positive (0 for the defaults)")
	}
	if c.Backoff == nil {
		c.Backoff = func(n int) time.Duration { return min(time.Second<<(n-1), time.Minute) }
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, stop := context.WithCancel(context.Background())
	q := &MailQueue{tasks: make(chan func(context.Context), c.Size), mailer: c.Mailer, logger: c.Logger,
		retries: c.Attempts, backoff: c.Backoff, ctx: ctx, stop: stop, done: make(chan struct{})}
	go q.run()
	return q, nil
}

func (q *MailQueue) run() {
	defer close(q.done)
	for task := range q.tasks {
		task(q.ctx)
		q.pending.Done()
	}
}

// Defer queues task to run after the response. It never blocks.
func (q *MailQueue) Defer(task func(ctx context.Context)) {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		q.logger.Error("mail queue closed; task dropped")
		return
	}
	q.pending.Add(1)
	select {
	case q.tasks <- task:
	default:
		q.pending.Done()
		q.logger.Error("mail queue full; task dropped")
	}
}

// Wait returns when every task queued so far has run (tests, shutdown).
func (q *MailQueue) Wait() { q.pending.Wait() }

// Close runs the queued tasks, stops the worker and returns; ctx bounds
// the wait (then pending retries give up).
func (q *MailQueue) Close(ctx context.Context) error {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.tasks)
	}
	q.mu.Unlock()
	select {
	case <-q.done:
		return nil
	case <-ctx.Done():
		q.stop()
		<-q.done
		return ctx.Err()
	}
}

// Mailer returns the queue's delivering mailer: Send tries up to Attempts
// times with backoff. Call it from queued tasks, not from handlers.
func (q *MailQueue) Mailer() Mailer { return retryingMailer{q} }

type retryingMailer struct{ q *MailQueue }

func (m retryingMailer) Send(ctx context.Context, msg Mail) error {
	var err error
	for n := 1; n <= m.q.retries; n++ {
		if err = m.q.mailer.Send(ctx, msg); err == nil {
			return nil
		}
		if n == m.q.retries {
			break
		}
		m.q.logger.WarnContext(ctx, "mail delivery failed; retrying", "attempt", n, "error", err)
		t := time.NewTimer(m.q.backoff(n))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
	return err
}
