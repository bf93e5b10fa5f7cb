package readiness

import "sync"

// ProbeReach is how many requests one probe sent to one route and how many
// of them reached the route's handler. A probe's verdict on a route is only
// as good as its reached count: a route it never reached was not tested
// (PROBE001). The JSON report lists them under "probe_reach".
type ProbeReach struct {
	Probe string `json:"probe"`
	Route string `json:"route"`
	Sent  int    `json:"sent"`
	// Reached counts the requests that passed every layer in front of the
	// route's handler (Host allowlist, path firewall, rate limits, the
	// route's policy).
	Reached int `json:"reached"`
	// Refused counts the others by the layer that refused them.
	Refused map[string]int `json:"refused,omitempty"`
}

// reachLog collects what probes record during a run.
type reachLog struct {
	mu       sync.Mutex
	list     []ProbeReach
	evidence []Evidence
}

// RecordReach adds what a probe sent to the run's report (ProbeReach).
// Probes call it once per route at the end of their run; it is the one
// thing a check may add to an Inspection, and it is safe for concurrent
// use.
func (in *Inspection) RecordReach(r ...ProbeReach) {
	if in.reach == nil {
		return
	}
	in.reach.mu.Lock()
	defer in.reach.mu.Unlock()
	in.reach.list = append(in.reach.list, r...)
}

func (l *reachLog) snapshot() []ProbeReach {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]ProbeReach(nil), l.list...)
}

// Evidence is a behaviour a probe proved on a route, which resolves the
// static finding ID on that route: the static check infers from the
// handler tree, the probe saw the answer (evidence beats declaration). The
// finding stays in the report as info, its Seen ending in "verified by
// probe: " and the proof.
type Evidence struct {
	ID    string // the static check ID it resolves: "INPUT002"
	Route string // the route pattern
	Proof string // what the probe saw: "a body one byte over 1 MB was answered 413"
}

// RecordEvidence records behaviours a probe proved (see Evidence). Safe for
// concurrent use.
func (in *Inspection) RecordEvidence(e ...Evidence) {
	if in.reach == nil {
		return
	}
	in.reach.mu.Lock()
	defer in.reach.mu.Unlock()
	in.reach.evidence = append(in.reach.evidence, e...)
}

// resolve turns the findings the evidence contradicts into info.
func (l *reachLog) resolve(findings []Finding) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	proof := map[string]string{}
	for _, e := range l.evidence {
		proof[e.ID+"\x00"+e.Route] = e.Proof
	}
	for i, f := range findings {
		p, ok := proof[f.ID+"\x00"+f.Route]
		if !ok || f.Route == "" {
			continue
		}
		findings[i].Severity = Info
		findings[i].VerifiedByProbe = p
		findings[i].Seen += " — verified by probe: " + p
	}
}
