package portalapp_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/launchready/launchready/examples/portalapp"
	"github.com/launchready/launchready/readiness/probe"
)

// outboxTokens reads reset links from the portal's development outbox: each
// call returns the token of the one mail to the account it has not
// returned before.
func outboxTokens(p *portalapp.Portal) func(context.Context, probe.Account) (string, error) {
	var mu sync.Mutex
	seen := map[string]bool{}
	link := regexp.MustCompile(`#reset=([A-Z2-7]+)`)
	return func(_ context.Context, a probe.Account) (string, error) {
		if p.Mail != nil {
			p.Mail.Wait() // the portal mails after the response
		}
		mu.Lock()
		defer mu.Unlock()
		mails, err := filepath.Glob(filepath.Join(p.Outbox, "*.eml"))
		if err != nil {
			return "", err
		}
		token := ""
		for _, m := range mails {
			if seen[m] {
				continue
			}
			raw, err := os.ReadFile(m)
			if err != nil {
				return "", err
			}
			if !strings.Contains(string(raw), "To: "+a.Username+"\r\n") {
				continue
			}
			seen[m] = true
			if tok := link.FindStringSubmatch(string(raw)); tok != nil {
				token = tok[1]
			}
		}
		if token == "" {
			return "", fmt.Errorf("no new reset mail to %s in %s", a.Username, p.Outbox)
		}
		return token, nil
	}
}

// resetProbe resets bob's password (and puts it back).
func resetProbe(t *testing.T, p *portalapp.Portal, c *probe.Client) probe.PasswordResetProbe {
	t.Helper()
	return probe.PasswordResetProbe{Client: c, Account: "bob", Token: outboxTokens(p)}
}
