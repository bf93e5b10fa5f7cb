package readiness

import (
	"fmt"
	"strings"
)

// Severity says how much a finding matters for launch.
type Severity int

const (
	// Info is worth knowing and never blocks.
	Info Severity = iota + 1
	// Warning should be fixed or accepted soon; it does not block.
	Warning
	// Blocker stops the launch: the gate refuses to boot and the test helper
	// fails, unless the finding is accepted with a reason.
	Blocker
)

func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Warning:
		return "warning"
	case Blocker:
		return "blocker"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// MarshalText makes severities read as words in JSON.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses the words MarshalText writes.
func (s *Severity) UnmarshalText(b []byte) error {
	switch strings.ToLower(string(b)) {
	case "info":
		*s = Info
	case "warning":
		*s = Warning
	case "blocker":
		*s = Blocker
	default:
		return fmt.Errorf("readiness: unknown severity %q (want info, warning or blocker)", b)
	}
	return nil
}

// Item is one line of the launch scorecard.
type Item int

// The ten scorecard items, numbered as in the launch checklist.
const (
	ItemAuth       Item = iota + 1 // 1 Auth protection
	ItemSession                    // 2 Session handling
	ItemSecrets                    // 3 Secrets management
	ItemInput                      // 4 Input validation
	ItemRateLimit                  // 5 Rate limiting
	ItemCORS                       // 6 CORS policy
	ItemLogging                    // 7 Logging hygiene
	ItemEmail                      // 8 Email authentication
	ItemDeploy                     // 9 Deployment safety
	ItemMonitoring                 // 10 Monitoring coverage (and the audit trail)
)

// Items lists the scorecard items in order.
var Items = []Item{ItemAuth, ItemSession, ItemSecrets, ItemInput, ItemRateLimit,
	ItemCORS, ItemLogging, ItemEmail, ItemDeploy, ItemMonitoring}

var itemTitles = map[Item]string{
	ItemAuth:       "Auth protection",
	ItemSession:    "Session handling",
	ItemSecrets:    "Secrets management",
	ItemInput:      "Input validation",
	ItemRateLimit:  "Rate limiting",
	ItemCORS:       "CORS policy",
	ItemLogging:    "Logging hygiene",
	ItemEmail:      "Email authentication",
	ItemDeploy:     "Deployment safety",
	ItemMonitoring: "Monitoring coverage",
}

func (i Item) String() string {
	if t, ok := itemTitles[i]; ok {
		return t
	}
	return fmt.Sprintf("item(%d)", int(i))
}

// A Finding is one thing a check saw that stands between the app and launch.
type Finding struct {
	// ID is the stable check ID from the catalogue, e.g. "AUTH002".
	ID string `json:"id"`
	// Severity as reported by the check, after the environment rule (see
	// ProductionOnly) and before acceptance.
	Severity Severity `json:"severity"`
	// Item is the scorecard item; zero means "take it from the catalogue".
	Item Item `json:"item"`
	// Route is the route pattern the finding is about, where one applies.
	Route string `json:"route,omitempty"`
	// Seen says what was observed, in words an operator understands. It must
	// never contain a secret value: show a masked form instead.
	Seen string `json:"seen"`
	// Fix says what to change.
	Fix string `json:"fix"`
	// File and Line locate the finding in source, where one applies (secret
	// scans); SARIF output uses them.
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	// Column is the 1-based column (in characters) on Line, where known.
	Column int `json:"column,omitempty"`
	// ProductionOnly marks a blocker that needs production infrastructure
	// (TLS, Secure cookies, email DNS). In development it is reported as a
	// warning; in production it stays a blocker.
	ProductionOnly bool `json:"production_only,omitempty"`
	// VerifiedByProbe says what a probe proved on the route that resolves
	// this static finding (see Evidence); the finding is then info.
	VerifiedByProbe string `json:"verified_by_probe,omitempty"`
	// Downgraded is set by the report when ProductionOnly lowered a blocker.
	Downgraded bool `json:"downgraded,omitempty"`
	// Accepted is set when the app accepted the risk; AcceptedReason says why.
	// Accepted findings stay in the report.
	Accepted       bool   `json:"accepted,omitempty"`
	AcceptedReason string `json:"accepted_reason,omitempty"`
}

// Blocks reports whether the finding keeps the app from launching.
func (f Finding) Blocks() bool { return f.Severity == Blocker && !f.Accepted }

func (f Finding) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", strings.ToUpper(f.Severity.String()), f.ID)
	if f.Route != "" {
		fmt.Fprintf(&b, " [%s]", f.Route)
	}
	if f.File != "" {
		switch {
		case f.Line > 0 && f.Column > 0:
			fmt.Fprintf(&b, " %s:%d:%d", f.File, f.Line, f.Column)
		case f.Line > 0:
			fmt.Fprintf(&b, " %s:%d", f.File, f.Line)
		default:
			fmt.Fprintf(&b, " %s", f.File)
		}
	}
	fmt.Fprintf(&b, ": %s", f.Seen)
	return b.String()
}
