package redact_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/redact"
	"github.com/launchready/launchready/redact/redacttest"
)

// TestScanCorpusRecallPrecision writes a generated tree (secrets of every
// class and look-alikes of every class in .env, YAML, Terraform,
// docker-compose, shell history, logs, Go, JS, JSON, properties and XML
// files, between filler lines) to a temp dir, scans it with ScanDir, and
// prints recall and precision per class. A secret sample is found when a
// finding is on its line; every other finding is a false positive,
// charged to the class of the detector that reported it. Personal-data
// samples are look-alikes here: scans report secrets only.
func TestScanCorpusRecallPrecision(t *testing.T) {
	g := redacttest.New(1818)
	samples := append(g.Secrets(8), g.Benign(8)...)
	files := g.Tree(samples, 0)
	dir := t.TempDir()
	require.NoError(t, redacttest.WriteTree(dir, files))
	found, err := redact.ScanDir(dir)
	require.NoError(t, err)

	pii := map[string]bool{}
	for _, d := range redact.Detectors() {
		if d.Kind == redact.PII {
			pii[d.Name] = true
		}
	}
	type key struct {
		file string
		line int
	}
	at := map[key]redacttest.Placed{}
	for _, f := range files {
		for _, p := range f.Samples {
			at[key{f.Path, p.Line}] = p
		}
	}
	type tally struct{ tp, fn, fp int }
	classes := map[string]*tally{}
	class := func(n string) *tally {
		if classes[n] == nil {
			classes[n] = &tally{}
		}
		return classes[n]
	}
	hit := map[key]bool{}
	var falses []string
	for _, f := range found {
		k := key{f.File, f.Line}
		p, ok := at[k]
		if ok && p.Detector != "" && !pii[p.Detector] {
			hit[k] = true
			continue
		}
		class(f.Detector).fp++
		if len(falses) < 20 {
			text := "(filler)"
			if ok {
				text = p.Text
			}
			falses = append(falses, f.String()+": "+text)
		}
	}
	var misses []string
	positives := 0
	for k, p := range at {
		if p.Detector == "" || pii[p.Detector] {
			continue
		}
		positives++
		if hit[k] {
			class(p.Detector).tp++
		} else {
			class(p.Detector).fn++
			misses = append(misses, p.Detector+": "+p.Text)
		}
	}
	names := make([]string, 0, len(classes))
	for n := range classes {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	var all tally
	for _, n := range names {
		c := classes[n]
		all.tp, all.fn, all.fp = all.tp+c.tp, all.fn+c.fn, all.fp+c.fp
		fmt.Fprintf(&b, "\n  %-28s recall %.3f (%d/%d)  precision %.3f", n, ratio(c.tp, c.tp+c.fn), c.tp, c.tp+c.fn, ratio(c.tp, c.tp+c.fp))
	}
	recall, precision := ratio(all.tp, all.tp+all.fn), ratio(all.tp, all.tp+all.fp)
	t.Logf("scan of %d files, %d secrets, %d look-alikes:%s\n  %-28s recall %.3f  precision %.3f",
		len(files), positives, len(samples)-positives, b.String(), "overall", recall, precision)
	sort.Strings(misses)
	assert.Empty(t, misses, "missed secrets")
	assert.Empty(t, falses, "false positives")
	assert.GreaterOrEqual(t, recall, 0.97, "overall recall")
	assert.GreaterOrEqual(t, precision, 0.99, "overall precision")
	for _, n := range names {
		c := classes[n]
		assert.GreaterOrEqual(t, ratio(c.tp, c.tp+c.fn), 0.97, "recall of %s", n)
		assert.GreaterOrEqual(t, ratio(c.tp, c.tp+c.fp), 0.99, "precision of %s", n)
	}
}
