package redact_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/launchready/launchready/redact"
	"github.com/launchready/launchready/redact/redacttest"
)

var fuzzSecrets = redacttest.New(99).Secrets(1)

// FuzzHandler embeds a generated secret in fuzzed text and logs it as the
// message, an attribute and a nested group: no panic, and the secret never
// reaches the output.
func FuzzHandler(f *testing.F) {
	f.Add("login failed", "", uint8(0))
	f.Add("password=", "; next", uint8(12))
	f.Add("Authorization: Bearer", "\n", uint8(9))
	f.Add("postgres://", "@db", uint8(11))
	f.Fuzz(func(t *testing.T, prefix, suffix string, which uint8) {
		s := fuzzSecrets[int(which)%len(fuzzSecrets)]
		text := prefix + " " + s.Text + " " + suffix
		var buf bytes.Buffer
		l := slog.New(redact.NewHandler(slog.NewTextHandler(&buf, nil), nil))
		l.Info(text, "note", text, slog.Group("g", slog.Any("err", errString(text))))
		if strings.Contains(buf.String(), s.Secret) {
			t.Fatalf("%s leaked: %q", s.Detector, buf.String())
		}
	})
}

type errString string

func (e errString) Error() string { return string(e) }

// FuzzFind checks the detectors on arbitrary text: no panic, spans inside
// the text, masks short.
func FuzzFind(f *testing.F) {
	for _, s := range redacttest.New(98).Corpus(1) {
		f.Add(s.Text)
	}
	// PEM-shaped seeds are built here rather than committed, so the
	// repository holds nothing that looks like a private key. The repeated
	// header once made the PEM pattern quadratic (1.6 s on 20 KB).
	begin, end := "-----BEGIN RSA "+"PRIVATE KEY-----", "-----END RSA "+"PRIVATE KEY-----"
	f.Add(begin + "\nAAAA\n" + end + "\npassword: \"${X}\"")
	f.Add(strings.Repeat(begin, 200))
	f.Fuzz(func(t *testing.T, text string) {
		for _, m := range redact.Find(text) {
			if m.Start < 0 || m.End > len(text) || m.Start >= m.End {
				t.Fatalf("bad span %+v", m)
			}
			if len(m.Masked) > 8 {
				t.Fatalf("mask too long: %q", m.Masked)
			}
		}
		_ = redact.ScanBytes([]byte(text))
		_ = redact.NewRedactor(nil).String(text)
	})
}
