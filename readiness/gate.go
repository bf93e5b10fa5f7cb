package readiness

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// ErrBlocked is wrapped by the error Gate returns while blockers remain.
var ErrBlocked = errors.New("readiness: launch blocked")

// BlockedError is returned by Gate when blockers remain. It carries the
// report, and unwraps to ErrBlocked.
type BlockedError struct {
	Report *Report
}

func (e *BlockedError) Error() string {
	b := e.Report.Blockers()
	ids := make([]string, 0, len(b))
	for _, f := range b {
		ids = append(ids, f.ID)
	}
	return fmt.Sprintf("readiness: launch blocked by %d finding(s): %v", len(b), ids)
}

func (e *BlockedError) Unwrap() error { return ErrBlocked }

// Gate runs the static checks at boot, writes the text scorecard to w (nil
// means no output), and returns a *BlockedError while blockers remain. In
// development, production-only blockers are warnings, so the app boots on a
// laptop; in production nothing is downgraded.
//
// Gate refuses probe checks (ProbeOnly): they execute real handlers and
// belong in tests.
func Gate(ctx context.Context, t Target, w io.Writer) error {
	for _, c := range t.Checks {
		if _, ok := c.(ProbeOnly); ok {
			return fmt.Errorf("readiness: check %q is a probe; probes run only in tests (readiness.Require), never at boot", c.Name())
		}
	}
	r, err := Run(ctx, t)
	if err != nil {
		return err
	}
	if w != nil {
		if err := r.WriteText(w); err != nil {
			return fmt.Errorf("readiness: writing the scorecard: %w", err)
		}
	}
	if r.Blocked() {
		return &BlockedError{Report: r}
	}
	return nil
}

// TB is the part of testing.TB that Require uses.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
	FailNow()
	Logf(format string, args ...any)
	Context() context.Context
}

// Require runs every check, probes included, and fails the test with the
// text scorecard while blockers remain. Warnings are logged. Use it in the
// app's own test suite so `go test` fails before launch does.
func Require(t TB, target Target) *Report {
	t.Helper()
	r, err := Run(t.Context(), target)
	if err != nil {
		t.Errorf("%v", err)
		t.FailNow()
		return nil
	}
	if r.Blocked() {
		t.Errorf("%s", r)
		t.FailNow()
		return r
	}
	t.Logf("%s", r)
	return r
}
