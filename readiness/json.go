package readiness

import (
	"encoding/json"
	"io"
)

// jsonReport is the JSON shape: stable field names, scorecard first.
type jsonReport struct {
	Env       Env          `json:"env"`
	Ready     bool         `json:"ready"`
	Summary   string       `json:"summary"`
	Scorecard []ItemResult `json:"scorecard"`
	Findings  []Finding    `json:"findings"`
	Routes    []RouteInfo  `json:"routes"`
	Reach     []ProbeReach `json:"probe_reach,omitempty"`
}

// MarshalJSON writes the report with its verdict and scorecard.
func (r *Report) MarshalJSON() ([]byte, error) {
	findings := r.Findings
	if findings == nil {
		findings = []Finding{}
	}
	routes := r.Routes
	if routes == nil {
		routes = []RouteInfo{}
	}
	return json.Marshal(jsonReport{
		Env: r.Env, Ready: !r.Blocked(), Summary: r.Summary(),
		Scorecard: r.Scorecard(), Findings: findings, Routes: routes, Reach: r.Reach,
	})
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
