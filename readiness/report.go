package readiness

// Report holds every finding of a run and the per-item verdicts.
type Report struct {
	Env      Env       `json:"env"`
	Findings []Finding `json:"findings"`
	// Routes is the route table of the run: every route of the inventory
	// with what protects it and its findings (empty when the handler tree
	// leads to no router readiness can list).
	Routes []RouteInfo `json:"routes,omitempty"`
	// Reach lists, per probe and route, the requests sent and how many
	// reached the route's handler.
	Reach []ProbeReach `json:"probe_reach,omitempty"`
	// Checked lists the scorecard items the run looked at; nil means all.
	// A command that checks only some items (a secret scan) sets it with
	// Only, so the others read NOT CHECKED instead of PASS.
	Checked []Item `json:"checked,omitempty"`
}

// Status is an item's verdict on the scorecard.
type Status string

// Item verdicts.
const (
	Pass Status = "PASS" // no findings, or only info
	Warn Status = "WARN" // warnings, or accepted blockers
	Fail Status = "FAIL" // at least one blocker not accepted
	// NotChecked is an item the run did not look at (Report.Only): it has
	// not passed, nobody looked.
	NotChecked Status = "NOT CHECKED"
)

// Only limits the scorecard to the items the run looked at: every other
// item reads NOT CHECKED rather than PASS. It returns r.
func (r *Report) Only(items ...Item) *Report {
	r.Checked = append([]Item(nil), items...)
	return r
}

func (r *Report) checked(it Item) bool {
	if r.Checked == nil {
		return true
	}
	for _, c := range r.Checked {
		if c == it {
			return true
		}
	}
	return false
}

// ItemResult is one scorecard line.
type ItemResult struct {
	Item     Item   `json:"item"`
	Title    string `json:"title"`
	Status   Status `json:"status"`
	Blockers int    `json:"blockers"`
	Warnings int    `json:"warnings"`
	Accepted int    `json:"accepted"`
}

// Blocked reports whether any blocker remains that is not accepted.
func (r *Report) Blocked() bool {
	for _, f := range r.Findings {
		if f.Blocks() {
			return true
		}
	}
	return false
}

// Blockers returns the findings that keep the app from launching.
func (r *Report) Blockers() []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Blocks() {
			out = append(out, f)
		}
	}
	return out
}

// ByID returns the findings with the given check ID.
func (r *Report) ByID(id string) []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.ID == id {
			out = append(out, f)
		}
	}
	return out
}

// IDs returns the check ID of every finding, in report order, one entry per
// finding.
func (r *Report) IDs() []string {
	out := make([]string, len(r.Findings))
	for i, f := range r.Findings {
		out[i] = f.ID
	}
	return out
}

// Scorecard returns the ten items with their verdicts.
func (r *Report) Scorecard() []ItemResult {
	out := make([]ItemResult, len(Items))
	for i, it := range Items {
		out[i] = ItemResult{Item: it, Title: it.String(), Status: Pass}
	}
	for _, f := range r.Findings {
		if f.Item < 1 || int(f.Item) > len(out) {
			continue
		}
		res := &out[f.Item-1]
		switch {
		case f.Accepted:
			res.Accepted++
		case f.Severity == Blocker:
			res.Blockers++
		case f.Severity == Warning:
			res.Warnings++
		}
	}
	for i := range out {
		switch {
		case out[i].Blockers > 0:
			out[i].Status = Fail
		case out[i].Warnings > 0 || out[i].Accepted > 0:
			out[i].Status = Warn
		case !r.checked(out[i].Item):
			out[i].Status = NotChecked
		}
	}
	return out
}

// counts returns blockers, warnings and accepted findings in total.
func (r *Report) counts() (blockers, warnings, accepted int) {
	for _, f := range r.Findings {
		switch {
		case f.Accepted:
			accepted++
		case f.Severity == Blocker:
			blockers++
		case f.Severity == Warning:
			warnings++
		}
	}
	return
}

// NewReport builds a report from findings that were gathered outside Run —
// by the launchready command's outside-in checks, a secret scan, or a
// verification run — so they share the catalogue, the severity rules
// (production-only blockers are downgraded outside production), the
// accepted risks and every output format with the in-process report.
func NewReport(env Env, findings []Finding, accepted ...Acceptance) *Report {
	return newReport(Target{Env: env, Accepted: accepted}, findings)
}
