package monitor

import (
	"encoding/json"
	"net/http"
	"runtime/debug"
	"time"
)

// Release identifies the running build, so a deploy can check that the new
// release is the one answering and knows what it would roll back to
// (scorecard item 9). It is read from the binary's build information,
// which `go build` stamps from the git checkout (vcs.revision, vcs.time,
// vcs.modified); -buildvcs=false or a copy without .git leaves it empty.
type Release struct {
	// Version is the main module's version ("(devel)" for a local build).
	Version string `json:"version"`
	// Revision is the VCS revision (the git commit), or "".
	Revision string `json:"revision"`
	// Time is the revision's commit time (vcs.time), the build's time as
	// far as the binary knows it; zero when not stamped.
	Time time.Time `json:"time,omitzero"`
	// Modified is true when the binary was built from a tree with
	// uncommitted changes.
	Modified bool `json:"modified"`
	// GoVersion is the toolchain that built the binary.
	GoVersion string `json:"go"`
}

// ReleaseFrom reads a Release from build information; nil gives the zero
// Release.
func ReleaseFrom(bi *debug.BuildInfo) Release {
	if bi == nil {
		return Release{}
	}
	rel := Release{Version: bi.Main.Version, GoVersion: bi.GoVersion}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rel.Revision = s.Value
		case "vcs.time":
			rel.Time, _ = time.Parse(time.RFC3339, s.Value)
		case "vcs.modified":
			rel.Modified = s.Value == "true"
		}
	}
	return rel
}

// CurrentRelease is the running binary's Release.
func CurrentRelease() Release {
	bi, _ := debug.ReadBuildInfo()
	return ReleaseFrom(bi)
}

// String is "revision (version)", or "unknown".
func (r Release) String() string {
	s := r.Revision
	if s == "" {
		s = "unknown revision"
	}
	if r.Modified {
		s += "+modified"
	}
	if r.Version != "" {
		s += " (" + r.Version + ")"
	}
	return s
}

// VersionHandler serves a Release as JSON: {"version", "revision", "time",
// "modified", "go"}. The revision tells an attacker which advisories apply
// to the running code, so mount it behind an admin policy or a deploy
// token, never as a public route; anonymous callers then learn nothing.
type VersionHandler struct {
	rel Release
}

// NewVersionHandler returns a handler serving rel.
func NewVersionHandler(rel Release) *VersionHandler { return &VersionHandler{rel: rel} }

// Release returns the release the handler serves.
func (h *VersionHandler) Release() Release { return h.rel }

func (h *VersionHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(h.rel)
}
