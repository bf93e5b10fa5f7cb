package readiness

import (
	"bytes"
	"fmt"
	"io"
	"strings"
)

// String returns the text scorecard.
func (r *Report) String() string {
	var b bytes.Buffer
	_ = r.WriteText(&b)
	return b.String()
}

// Summary is the one-line verdict: "READY" or "BLOCKED", with counts.
func (r *Report) Summary() string {
	blockers, warnings, accepted := r.counts()
	verdict := "READY"
	if blockers > 0 {
		verdict = "BLOCKED"
	}
	return fmt.Sprintf("launch readiness (%s): %s — %d blocker%s, %d warning%s, %d accepted",
		r.Env, verdict, blockers, plural(blockers), warnings, plural(warnings), accepted)
}

// WriteText writes the text scorecard: the verdict, the ten items with
// PASS/WARN/FAIL, then the findings grouped by item with what was seen and
// how to fix it.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	b.WriteString(r.Summary())
	b.WriteString("\n\n")
	for _, it := range r.Scorecard() {
		fmt.Fprintf(&b, "  %2d  %-22s %s", int(it.Item), it.Title, it.Status)
		var parts []string
		if it.Blockers > 0 {
			parts = append(parts, fmt.Sprintf("%d blocker%s", it.Blockers, plural(it.Blockers)))
		}
		if it.Warnings > 0 {
			parts = append(parts, fmt.Sprintf("%d warning%s", it.Warnings, plural(it.Warnings)))
		}
		if it.Accepted > 0 {
			parts = append(parts, fmt.Sprintf("%d accepted", it.Accepted))
		}
		if len(parts) > 0 {
			fmt.Fprintf(&b, "  (%s)", strings.Join(parts, ", "))
		}
		b.WriteByte('\n')
	}
	var item Item
	for _, f := range r.Findings {
		if f.Item != item {
			item = f.Item
			fmt.Fprintf(&b, "\n%d. %s\n", int(item), item)
		}
		fmt.Fprintf(&b, "  %s\n", f)
		if f.Fix != "" {
			fmt.Fprintf(&b, "      fix: %s\n", indentLines(f.Fix, "           "))
		}
		if f.Downgraded {
			b.WriteString("      (a blocker in production; a warning in development)\n")
		}
		if f.Accepted {
			fmt.Fprintf(&b, "      ACCEPTED: %s\n", f.AcceptedReason)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func indentLines(s, indent string) string {
	return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+indent)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
