package portalapp

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/readiness/email"
)

// demoAccountsCheck is AUTH010: the published demo accounts must not exist
// in production. In development they are the point, so the finding is a
// warning there.
func demoAccountsCheck(store Store) readiness.Check {
	return readiness.CheckFunc("portal/demo-accounts", func(ctx context.Context, in *readiness.Inspection) []readiness.Finding {
		users, err := store.DemoUsers(ctx)
		if err != nil {
			return []readiness.Finding{{ID: "AUTH010", Severity: readiness.Blocker,
				Seen: "the demo accounts could not be listed, so nobody knows whether they are active",
				Fix:  "make the store answer DemoUsers"}}
		}
		if len(users) == 0 {
			return nil
		}
		emails := make([]string, 0, len(users))
		for _, u := range users {
			emails = append(emails, u.Email)
		}
		return []readiness.Finding{{
			ID: "AUTH010", Severity: readiness.Blocker, ProductionOnly: true,
			Seen: fmt.Sprintf("%d demo account(s) with the published password are active: %s", len(users), strings.Join(emails, ", ")),
			Fix:  "start production with a store that has no demo accounts (real users only), or change their passwords",
		}}
	})
}

// emailCheck verifies SPF, DKIM and DMARC of the portal's sending domain.
func emailCheck(opts Options) (readiness.Check, error) {
	res := opts.Resolver
	if res == nil && opts.Env == readiness.Development {
		res = offlineResolver
	}
	c, err := email.New(email.Config{
		FromDomain:    MailDomain,
		DKIMSelectors: []string{"portal"},
		SPFInclude:    "_spf.mailer." + MailDomain,
		Resolver:      res,
		Timeout:       3 * time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("portal: email check: %w", err)
	}
	return c, nil
}
