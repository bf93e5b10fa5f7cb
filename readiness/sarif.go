package readiness

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
)

// SARIFOptions tunes the SARIF output.
type SARIFOptions struct {
	// DefaultFile is the repository-relative file that findings without a
	// file of their own point at (route and configuration findings). GitHub
	// code scanning needs a location on every result. Default "go.mod".
	DefaultFile string
	// ToolVersion is written as the driver's version.
	ToolVersion string
}

// The SARIF 2.1.0 subset that GitHub code scanning reads. Field names follow
// the schema: https://docs.oasis-open.org/sarif/sarif/v2.1.0/
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool       sarifTool     `json:"tool"`
	ColumnKind string        `json:"columnKind"`
	Results    []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string            `json:"id"`
	Name                 string            `json:"name"`
	ShortDescription     sarifText         `json:"shortDescription"`
	DefaultConfiguration sarifRuleConfig   `json:"defaultConfiguration"`
	Properties           map[string]string `json:"properties,omitempty"`
}

type sarifRuleConfig struct {
	Level string `json:"level"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID       string             `json:"ruleId"`
	RuleIndex    int                `json:"ruleIndex"`
	Level        string             `json:"level"`
	Message      sarifText          `json:"message"`
	Locations    []sarifLocation    `json:"locations"`
	Suppressions []sarifSuppression `json:"suppressions,omitempty"`
	// PartialFingerprints keep GitHub from opening a new alert each run.
	PartialFingerprints map[string]string `json:"partialFingerprints"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical  `json:"physicalLocation"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           sarifRegion   `json:"region"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
}

type sarifLogical struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Justification string `json:"justification"`
}

func sarifLevel(s Severity) string {
	switch s {
	case Blocker:
		return "error"
	case Warning:
		return "warning"
	}
	return "note"
}

// WriteSARIF writes the report as a SARIF 2.1.0 log for code-scanning upload.
// Accepted findings carry an external suppression with the reason, so they
// stay visible but closed.
func (r *Report) WriteSARIF(w io.Writer, opts SARIFOptions) error {
	if opts.DefaultFile == "" {
		opts.DefaultFile = "go.mod"
	}
	ruleIndex := map[string]int{}
	var rules []sarifRule
	ids := make([]string, 0)
	seen := map[string]bool{}
	for _, f := range r.Findings {
		if !seen[f.ID] {
			seen[f.ID] = true
			ids = append(ids, f.ID)
		}
	}
	sort.Strings(ids)
	for _, id := range ids {
		title := id
		var item Item
		if info, ok := catalogue[id]; ok {
			title, item = info.Title, info.Item
		}
		level := "warning"
		for _, f := range r.Findings {
			if f.ID == id {
				level = sarifLevel(f.Severity)
				if item == 0 {
					item = f.Item
				}
				break
			}
		}
		ruleIndex[id] = len(rules)
		rules = append(rules, sarifRule{
			ID: id, Name: id, ShortDescription: sarifText{Text: title},
			DefaultConfiguration: sarifRuleConfig{Level: level},
			Properties:           map[string]string{"scorecard-item": fmt.Sprintf("%d %s", int(item), item)},
		})
	}
	results := make([]sarifResult, 0, len(r.Findings))
	for _, f := range r.Findings {
		file, line := f.File, f.Line
		if file == "" {
			file = opts.DefaultFile
		}
		if line < 1 {
			line = 1
		}
		msg := f.Seen
		if f.Fix != "" {
			msg += " Fix: " + f.Fix
		}
		loc := sarifLocation{PhysicalLocation: sarifPhysical{
			ArtifactLocation: sarifArtifact{URI: file}, Region: sarifRegion{StartLine: line, StartColumn: f.Column},
		}}
		if f.Route != "" {
			loc.LogicalLocations = []sarifLogical{{Name: f.Route, Kind: "member"}}
		}
		res := sarifResult{
			RuleID: f.ID, RuleIndex: ruleIndex[f.ID], Level: sarifLevel(f.Severity),
			Message: sarifText{Text: msg}, Locations: []sarifLocation{loc},
			PartialFingerprints: map[string]string{
				"launchready/v1": fmt.Sprintf("%s|%s|%s|%d", f.ID, f.Route, f.File, f.Line),
			},
		}
		if f.Accepted {
			res.Suppressions = []sarifSuppression{{Kind: "external", Justification: f.AcceptedReason}}
		}
		results = append(results, res)
	}
	if rules == nil {
		rules = []sarifRule{}
	}
	log := sarifLog{
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Version: "2.1.0",
		Runs: []sarifRun{{
			Tool: sarifTool{Driver: sarifDriver{
				Name: "launchready", Version: opts.ToolVersion,
				InformationURI: "https://github.com/launchready/launchready",
				Rules:          rules,
			}},
			ColumnKind: "unicodeCodePoints", // Finding.Column counts characters
			Results:    results,
		}},
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(log)
}
