package redact_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/launchready/launchready/redact"
	"github.com/launchready/launchready/redact/redacttest"
)

// TestAssignmentLoopMatchesRegexp holds the secret-assignment rule's byte
// loop to the regexp that documents it, on the generated corpus.
func TestAssignmentLoopMatchesRegexp(t *testing.T) {
	g := redacttest.New(51)
	for _, s := range append(g.Secrets(3), g.Benign(3)...) {
		loop, re := redact.AssignmentSpans(s.Text)
		assert.Equal(t, re, loop, s.Text)
	}
}

// FuzzAssignment: on ASCII text the byte loop and the regexp agree (the
// regexp's (?i) also folds U+017F and U+212A, and counts runes, so
// non-ASCII input is out of the comparison), and no span leaves the text.
func FuzzAssignment(f *testing.F) {
	for _, s := range redacttest.New(52).Secrets(1) {
		f.Add(s.Text)
	}
	f.Add(`Password:SECRET_KEY = 'k8$Vq2!zLm#9xx'`)
	f.Add(`token := cfg.GitHubToken`)
	f.Fuzz(func(t *testing.T, s string) {
		for i := 0; i < len(s); i++ {
			if s[i] >= 0x80 {
				return
			}
		}
		loop, re := redact.AssignmentSpans(s)
		if len(loop) != len(re) {
			t.Fatalf("loop %v, regexp %v on %q", loop, re, s)
		}
		for i := range loop {
			if loop[i] != re[i] {
				t.Fatalf("loop %v, regexp %v on %q", loop, re, s)
			}
			if loop[i][0] < 0 || loop[i][1] > len(s) || loop[i][0] >= loop[i][1] {
				t.Fatalf("bad span %v in %q", loop[i], s)
			}
		}
	})
}
