package email

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// lookup is one run's view of DNS: every query has a timeout, a temporary
// failure is retried once, and TXT answers are cached so that the SPF walk,
// DMARC and DKIM see the same data.
type lookup struct {
	r       *net.Resolver
	timeout time.Duration

	mu  sync.Mutex
	txt map[string]txtAnswer
}

type txtAnswer struct {
	txts []string
	err  error
}

func newLookup(r *net.Resolver, timeout time.Duration) *lookup {
	return &lookup{r: r, timeout: timeout, txt: map[string]txtAnswer{}}
}

// errUnverified marks an answer that could not be obtained.
var errUnverified = errors.New("unverified")

// unverifiedError says which query failed, how often, and why.
type unverifiedError struct {
	qtype, name string
	attempts    int
	timeout     time.Duration
	err         error
}

func (e *unverifiedError) Error() string {
	var dnsErr *net.DNSError
	reason := e.err.Error()
	switch {
	case errors.As(e.err, &dnsErr) && dnsErr.IsTimeout, errors.Is(e.err, context.DeadlineExceeded):
		reason = fmt.Sprintf("no answer within %s", e.timeout)
	case errors.As(e.err, &dnsErr):
		reason = dnsErr.Err // e.g. "server misbehaving" (SERVFAIL); never the server address
	}
	return fmt.Sprintf("%s query for %s failed %d times: %s", e.qtype, e.name, e.attempts, reason)
}

func (e *unverifiedError) Unwrap() []error { return []error{errUnverified, e.err} }

// notFound reports an authoritative "no such name" or "no records".
func notFound(err error) bool {
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr) && dnsErr.IsNotFound
}

func isUnverified(err error) bool { return errors.Is(err, errUnverified) }

// do runs q with the per-query timeout, retrying once unless the answer is
// definite (success or not found).
func do[T any](ctx context.Context, l *lookup, qtype, name string, q func(context.Context) (T, error)) (T, error) {
	var (
		v   T
		err error
	)
	const attempts = 2
	for i := 0; i < attempts; i++ {
		qctx, cancel := context.WithTimeout(ctx, l.timeout)
		v, err = q(qctx)
		cancel()
		if err == nil || notFound(err) {
			return v, err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return v, &unverifiedError{qtype: qtype, name: name, attempts: attempts, timeout: l.timeout, err: err}
}

// TXT returns the TXT records of name (each record's strings joined).
func (l *lookup) TXT(ctx context.Context, name string) ([]string, error) {
	name = normDomain(name)
	l.mu.Lock()
	a, ok := l.txt[name]
	l.mu.Unlock()
	if ok {
		return a.txts, a.err
	}
	txts, err := do(ctx, l, "TXT", name, func(ctx context.Context) ([]string, error) {
		return l.r.LookupTXT(ctx, name+".")
	})
	if notFound(err) {
		txts = nil
	}
	if err == nil || notFound(err) {
		l.mu.Lock()
		l.txt[name] = txtAnswer{txts, err}
		l.mu.Unlock()
	}
	return txts, err
}

// hasAddr reports whether name has an A or AAAA record.
func (l *lookup) hasAddr(ctx context.Context, name string) (bool, error) {
	ips, err := do(ctx, l, "A/AAAA", name, func(ctx context.Context) ([]net.IPAddr, error) {
		return l.r.LookupIPAddr(ctx, name+".")
	})
	if notFound(err) {
		return false, nil
	}
	return len(ips) > 0, err
}

// hasMX reports whether name has an MX record.
func (l *lookup) hasMX(ctx context.Context, name string) (bool, error) {
	mxs, err := do(ctx, l, "MX", name, func(ctx context.Context) ([]*net.MX, error) {
		return l.r.LookupMX(ctx, name+".")
	})
	if notFound(err) {
		return false, nil
	}
	return len(mxs) > 0, err
}

// spfResolver gives blitiri.com.ar/go/spf the same per-query timeout and
// the run's TXT cache.
type spfResolver struct{ l *lookup }

func (s spfResolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	txts, err := s.l.TXT(ctx, name)
	var u *unverifiedError
	if errors.As(err, &u) {
		return nil, u.err // the library classifies *net.DNSError itself
	}
	return txts, err
}

func (s spfResolver) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	ctx, cancel := context.WithTimeout(ctx, s.l.timeout)
	defer cancel()
	return s.l.r.LookupMX(ctx, name)
}

func (s spfResolver) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	ctx, cancel := context.WithTimeout(ctx, s.l.timeout)
	defer cancel()
	return s.l.r.LookupIPAddr(ctx, host)
}

func (s spfResolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.l.timeout)
	defer cancel()
	return s.l.r.LookupAddr(ctx, addr)
}
