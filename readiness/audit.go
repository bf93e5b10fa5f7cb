package readiness

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/launchready/launchready/audit"
)

// The audit trail (scorecard item 10, red flag "no audit trail").

func init() {
	registerBuiltin("audit/coverage", checkAuditCoverage)
	registerBuiltin("audit/sink", checkAuditSink)
	registerBuiltin("audit/chain", checkAuditChain)
}

// auditors returns every auditor in the server chain and the routes' chains.
func auditors(in *Inspection) []*audit.Auditor {
	var out []*audit.Auditor
	seen := map[*audit.Auditor]bool{}
	add := func(hs []*audit.Handler) {
		for _, h := range hs {
			if a := h.Auditor(); !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	add(FindAll[*audit.Handler](in.Chain))
	for _, r := range in.Routes {
		add(FindAll[*audit.Handler](r.Chain))
	}
	return out
}

// sinks returns s and the sinks inside it (audit.Tee).
func sinks(s audit.Sink, depth int) []audit.Sink {
	if t, ok := s.(audit.Tee); ok && depth < 8 {
		var out []audit.Sink
		for _, x := range t {
			out = append(out, sinks(x, depth+1)...)
		}
		return out
	}
	return []audit.Sink{s}
}

// tailRecords bounds the boot-time verification of a sink's tail.
const tailRecords = 1000

// checkAuditChain asks each sink that can (audit.PrivilegeReporter,
// audit.TailVerifier; the PostgreSQL sink and the file sink) whether its
// writer could rewrite history (AUDIT003) and whether the newest records
// verify (AUDIT004). readiness imports no database driver: the sinks
// answer through those interfaces.
func checkAuditChain(ctx context.Context, in *Inspection) []Finding {
	var out []Finding
	for _, a := range auditors(in) {
		for _, s := range sinks(a.Sink(), 0) {
			if pr, ok := s.(audit.PrivilegeReporter); ok {
				privs, err := pr.CanRewrite(ctx)
				switch {
				case err != nil:
					out = append(out, Finding{ID: "AUDIT003", Severity: Warning,
						Seen: fmt.Sprintf("could not read the privileges of the audit sink's role (%T): %v; this check did not run", s, err),
						Fix:  "make the database reachable at boot, and let the app's role read its own privileges (has_table_privilege)"})
				case len(privs) > 0:
					out = append(out, Finding{ID: "AUDIT003", Severity: Warning,
						Seen: fmt.Sprintf("the audit sink's database role holds %s on the audit table: whoever steals the app's credentials can rewrite history (the hash chain shows it, but only if someone verifies)", strings.Join(privs, ", ")),
						Fix:  "connect the app with a role that has INSERT and SELECT only (postgres.Grant); run migrations as the table's owner"})
				}
			}
			if tv, ok := s.(audit.TailVerifier); ok {
				err := tv.VerifyTail(ctx, tailRecords)
				switch {
				case errors.Is(err, audit.ErrChainBroken):
					out = append(out, Finding{ID: "AUDIT004", Severity: Blocker,
						Seen: fmt.Sprintf("the audit trail (%T) fails verification: %v", s, err),
						Fix:  "find out who changed the trail (restore it from a backup, keep the damaged copy as evidence), then run `launchready audit verify` until it passes; never start a new trail over a broken one without a record of why"})
				case err != nil:
					out = append(out, Finding{ID: "AUDIT004", Severity: Warning,
						Seen: fmt.Sprintf("could not verify the audit trail (%T): %v; this check did not run", s, err),
						Fix:  "make the audit store reachable at boot, then check again"})
				}
			}
		}
	}
	return out
}

func checkAuditCoverage(_ context.Context, in *Inspection) []Finding {
	if in.Inventory == nil {
		return nil // see the note in monitor.go
	}
	global, missing := coveredByAll[*audit.Handler](in, Route.Mutating)
	if global {
		return nil
	}
	var out []Finding
	for _, p := range missing {
		out = append(out, Finding{
			ID: "AUDIT001", Severity: Blocker, Route: p,
			Seen: "mutating route not covered by the audit trail: changes through it are not recorded (who, what, when, outcome)",
			Fix:  "wrap the server handler with auditor.Handler(...) (covers every route), or this route's handler",
		})
	}
	return out
}

func checkAuditSink(_ context.Context, in *Inspection) []Finding {
	var out []Finding
	for _, a := range auditors(in) {
		if onlyLog(a.Sink(), 0) {
			out = append(out, Finding{
				ID: "AUDIT002", Severity: Warning,
				Seen: fmt.Sprintf("the audit trail is written only to the app log (%T): logs are sampled, rotated away and readable by anyone with log access, and records can be lost silently", a.Sink()),
				Fix:  "add a durable sink: audit.OpenFile(path, nil) (append-only, fsynced), or audit.Tee{fileSink, audit.LogSink{...}}",
			})
		}
	}
	return out
}

func onlyLog(s audit.Sink, depth int) bool {
	switch s := s.(type) {
	case audit.LogSink, *audit.LogSink:
		return true
	case audit.Tee:
		if len(s) == 0 || depth > 8 {
			return false
		}
		for _, x := range s {
			if !onlyLog(x, depth+1) {
				return false
			}
		}
		return true
	}
	return false
}
