package redact_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/launchready/launchready/redact"
)

// TestEmailInternationalised guards issue 19 item 8: Unicode local parts
// (RFC 6531) and IDN domains are addresses too, and the whole local part is
// masked, never the ASCII tail of it.
func TestEmailInternationalised(t *testing.T) {
	r := redact.NewRedactor(nil)
	tests := []struct{ in, want string }{
		{"reset sent to josé@x.test", "reset sent to ***@x.test"},
		{"reset sent to 日本語@x.test", "reset sent to ***@x.test"},
		{"reset sent to hans.müller@x.test", "reset sent to ***@x.test"},
		{"user=Ελένη.Παπα@παράδειγμα.δοκιμή ok", "user=***@παράδειγμα.δοκιμή ok"},
		{"to: anna@bücher.example", "to: ***@bücher.example"},
		{"to: anna@xn--bcher-kva.example", "to: ***@xn--bcher-kva.example"},
		{"<jöhn+tag@client-a.test>", "<***@client-a.test>"},
		{"plain jane.doe@client-a.test", "plain ***@client-a.test"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, r.String(tc.in), tc.in)
	}
	// not addresses: a git remote in scp form, a URL's userinfo, a handle
	for _, s := range []string{"git@github.com:org/repo.git", "ssh://git@github.com/org/repo", "ping @team now", "v1@2x"} {
		assert.Equal(t, s, r.String(s))
	}
}
