package redact_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/redact"
	"github.com/launchready/launchready/redact/redacttest"
)

// TestScanReportsNoPersonalData guards the initialisation-order bug of
// issue 18: the PII mask was computed before the detector bits were
// assigned, so scans reported emails, phone numbers and cards as secrets.
func TestScanReportsNoPersonalData(t *testing.T) {
	g := redacttest.New(31)
	text := "contact: jane.doe@client-a.test\n" +
		"phone: +44 20 7946 0123\n" +
		"card " + g.Card("4", 16) + " charged\n"
	pii := map[string]bool{}
	for _, d := range redact.Detectors() {
		if d.Kind == redact.PII {
			pii[d.Name] = true
		}
	}
	require.NotEmpty(t, redact.Find(text), "the log path still sees the personal data")
	for _, f := range redact.ScanBytes([]byte(text)) {
		assert.False(t, pii[f.Detector], "scan reported personal data: %v", f)
	}
	assert.Empty(t, redact.ScanBytes([]byte(text)))
}

// TestScanPEMMultiline: a private key split over lines is found once, at
// its BEGIN line, by the multi-line path that reads the body; a PEM-shaped
// block whose body is a placeholder (documentation) is not a finding — the
// header line alone cannot tell the two apart.
func TestScanPEMMultiline(t *testing.T) {
	pem := redacttest.New(33).PEM()
	got := redact.ScanBytes([]byte("key:\n  " + strings.ReplaceAll(pem, "\n", "\n  ") + "\nend\n"))
	require.Len(t, got, 1)
	assert.Equal(t, "private-key", got[0].Detector)
	assert.Equal(t, 2, got[0].Line)
	assert.Equal(t, 3, got[0].Column)

	begin, end := "-----BEGIN RSA "+"PRIVATE KEY-----", "-----END RSA "+"PRIVATE KEY-----"
	for _, doc := range []string{
		begin + "\n...\n" + end + "\n",
		begin + "\n<your private key here>\n" + end + "\n",
		begin + "\n" + end + "\n",
		"Paste the key (" + begin + " …) into the form.\n",
	} {
		assert.Empty(t, redact.ScanBytes([]byte(doc)), doc)
	}
}
