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

type score struct{ tp, fp, fn int }

// TestDetectorPrecisionRecall runs every detector over a generated corpus of
// true secrets and benign look-alikes and logs per-detector precision and
// recall (quoted in the closing note).
func TestDetectorPrecisionRecall(t *testing.T) {
	g := redacttest.New(42)
	samples := g.Corpus(150)
	scores := map[string]*score{}
	logOnly := map[string]bool{}
	for _, d := range redact.Detectors() {
		if d.LogOnly {
			logOnly[d.Name] = true // masks when in doubt; TestLogOnlyAssignment
			continue
		}
		scores[d.Name] = &score{}
	}
	var misses, falses []string
	for _, s := range samples {
		found := map[string]bool{}
		for _, m := range redact.Find(s.Text) {
			if logOnly[m.Detector] {
				continue
			}
			if m.Detector == s.Detector {
				found[m.Detector] = true
				continue
			}
			scores[m.Detector].fp++
			if len(falses) < 10 && m.Detector != "secret-assignment" || len(falses) < 3 {
				falses = append(falses, m.Detector+": "+s.Text)
			}
		}
		if s.Detector != "" {
			if found[s.Detector] {
				scores[s.Detector].tp++
			} else {
				scores[s.Detector].fn++
				if len(misses) < 10 {
					misses = append(misses, s.Detector+": "+s.Text)
				}
			}
		}
	}
	names := make([]string, 0, len(scores))
	for n := range scores {
		names = append(names, n)
	}
	sort.Strings(names)
	var line strings.Builder
	var all score
	for _, n := range names {
		s := scores[n]
		all.tp, all.fp, all.fn = all.tp+s.tp, all.fp+s.fp, all.fn+s.fn
		fmt.Fprintf(&line, " %s P=%.2f R=%.2f;", n, ratio(s.tp, s.tp+s.fp), ratio(s.tp, s.tp+s.fn))
	}
	t.Logf("detector precision/recall over %d samples:%s overall P=%.3f R=%.3f", len(samples), line.String(),
		ratio(all.tp, all.tp+all.fp), ratio(all.tp, all.tp+all.fn))
	assert.Empty(t, misses, "missed secrets")
	assert.Empty(t, falses, "false positives on look-alikes")
	for _, n := range names {
		s := scores[n]
		assert.GreaterOrEqual(t, ratio(s.tp, s.tp+s.fn), 0.99, "recall of %s", n)
		assert.GreaterOrEqual(t, ratio(s.tp, s.tp+s.fp), 0.99, "precision of %s", n)
	}
}

// TestLogOnlyAssignment: the log handler masks password= and token= values
// on looser gates than a scan reports (a short or dictionary password in a
// log line is masked), and scans never report the log-only detector.
func TestLogOnlyAssignment(t *testing.T) {
	r := redact.NewRedactor(nil)
	for _, line := range []string{"login failed password=sunshine", "retry with token=abc123 now", "auth: api_key=Zx81qq"} {
		out := r.String(line)
		assert.Contains(t, out, "[REDACTED:password-assignment]", line)
		assert.Empty(t, redact.ScanBytes([]byte(line)), line)
	}
	// where the strict rule also fires, the finding is the strict rule's
	pw := redacttest.New(53).Password()
	assert.Equal(t, "login failed password=[REDACTED:secret-assignment]", r.String("login failed password="+pw))
	got := redact.ScanBytes([]byte("login failed password=" + pw))
	require.Len(t, got, 1)
	assert.Equal(t, "secret-assignment", got[0].Detector)
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

func TestDetectorsDocumentSource(t *testing.T) {
	for _, d := range redact.Detectors() {
		assert.NotEmpty(t, d.Source, d.Name)
		assert.NotNil(t, d.Pattern, d.Name)
	}
}

func TestGitHubChecksum(t *testing.T) {
	g := redacttest.New(1)
	tok := g.GitHubToken()
	require.Len(t, redact.Find(tok), 1)
	// flip one character of the random part: the checksum no longer matches
	bad := tok[:5] + string(rune('A'+(tok[5]-'A'+1)%26)) + tok[6:]
	if tok[5] < 'A' || tok[5] > 'Z' {
		bad = tok[:5] + "Q" + tok[6:]
	}
	assert.Empty(t, redact.Find(bad))
}

func TestIsPlaceholder(t *testing.T) {
	for _, s := range []string{"", "${API_KEY}", "<YOUR_KEY>", "changeme", "$DB_PASSWORD", "{{ .Secret }}", "xxxxxxxxxxxx", "AKIAIOSFODNN7" + "EXAMPLE", "JBSWY3DP" + "EHPK3PXP", `"+password+"`} {
		assert.True(t, redact.IsPlaceholder(s), s)
	}
	g := redacttest.New(3)
	for _, s := range []string{g.GitHubToken(), g.Password(), "k8$Vq2!zLm#9"} {
		assert.False(t, redact.IsPlaceholder(s), s)
	}
}

func TestMaskNeverRevealsSecret(t *testing.T) {
	for _, s := range redacttest.New(5).Secrets(3) {
		for _, m := range redact.Find(s.Text) {
			assert.NotContains(t, m.Masked, s.Secret[min(4, len(s.Secret)):], s.Detector)
			assert.LessOrEqual(t, len(m.Masked), 8)
		}
	}
}

func TestScanReaderChunksAndLines(t *testing.T) {
	g := redacttest.New(9)
	tok := g.GitHubToken()
	var b strings.Builder
	for b.Len() < 600<<10 { // several chunks
		b.WriteString("const filler = \"" + strings.Repeat("a", 80) + "\";\n")
	}
	lines := strings.Count(b.String(), "\n")
	b.WriteString("token = " + tok + "\n")
	var got []redact.Finding
	require.NoError(t, redact.ScanReader(strings.NewReader(b.String()), func(f redact.Finding) { got = append(got, f) }))
	require.Len(t, got, 1)
	assert.Equal(t, "github-token", got[0].Detector)
	assert.Equal(t, lines+1, got[0].Line)
	assert.NotContains(t, got[0].String(), tok[4:])
}

func TestCardAndPhoneFormats(t *testing.T) {
	g := redacttest.New(17)
	visa := g.Card("4", 16)
	amex := g.Card("37", 15)
	r := redact.NewRedactor(nil)
	tests := []struct {
		in, leak string
	}{
		{"card " + visa[:4] + " " + visa[4:8] + " " + visa[8:12] + " " + visa[12:], visa[8:12] + " " + visa[12:]},
		{"card " + visa[:4] + "-" + visa[4:8] + "-" + visa[8:12] + "-" + visa[12:], visa[8:12] + "-" + visa[12:]},
		{"amex " + amex[:4] + " " + amex[4:10] + " " + amex[10:], amex[4:10] + " " + amex[10:]},
		{"call (555) 010-4477 now", "010-4477"},
		{"call +1 415 555 0172 now", "555 0172"},
	}
	for _, tc := range tests {
		out := r.String(tc.in)
		assert.NotContains(t, out, tc.leak, tc.in)
	}
	// not cards: wrong issuer, wrong Luhn, timestamps, version numbers
	for _, s := range []string{"order " + g.Card("1", 16), "ts 1732806193000", "v1.25.0", "id " + visa[:15] + string('0'+(visa[15]-'0'+1)%10)} {
		assert.Equal(t, s, r.String(s))
	}
}
