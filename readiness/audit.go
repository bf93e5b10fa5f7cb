package readiness

import (
	"context"
	"fmt"

	"github.com/launchready/launchready/audit"
)

// The audit trail (scorecard item 10, red flag "no audit trail").

func init() {
	registerBuiltin("audit/coverage", checkAuditCoverage)
	registerBuiltin("audit/sink", checkAuditSink)
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
	var auditors []*audit.Auditor
	seen := map[*audit.Auditor]bool{}
	add := func(hs []*audit.Handler) {
		for _, h := range hs {
			if a := h.Auditor(); !seen[a] {
				seen[a] = true
				auditors = append(auditors, a)
			}
		}
	}
	add(FindAll[*audit.Handler](in.Chain))
	for _, r := range in.Routes {
		add(FindAll[*audit.Handler](r.Chain))
	}
	var out []Finding
	for _, a := range auditors {
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
