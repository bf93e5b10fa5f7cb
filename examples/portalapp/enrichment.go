package portalapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/launchready/launchready/readiness/egress"
)

// Enrichment is what the external CRM knows about a client (account
// health, the account manager), shown next to the client in the portal.
// The portal works without it: when the CRM is slow or down, the client
// is served with Status "unavailable" instead, within the dependency's
// deadline, and the breaker stops calling a CRM that keeps failing.
type Enrichment struct {
	Status         string `json:"status"` // "ok" or "unavailable"
	Health         string `json:"health,omitempty"`
	AccountManager string `json:"account_manager,omitempty"`
}

// EnrichmentDeadline bounds one CRM lookup, retry included: a support
// agent opening a client waits at most this long for the panel.
const EnrichmentDeadline = 800 * time.Millisecond

// enricher calls the CRM through a budgeted, breaker-guarded dependency.
type enricher struct {
	base *url.URL
	dep  *egress.Dependency
}

// newEnricher returns nil when no CRM is configured (the embedded default).
func newEnricher(rawURL string) (*enricher, error) {
	if rawURL == "" {
		return nil, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("portal: Options.EnrichmentURL %q is not an http(s) URL; set it to the CRM's base URL or leave it empty", rawURL)
	}
	dep, err := egress.NewDependency(egress.DependencyConfig{
		Name:     "crm",
		Deadline: EnrichmentDeadline,
		Retries:  1,
		Backoff:  50 * time.Millisecond,
		Failures: 5,
		OpenFor:  30 * time.Second,
		Fallback: egress.Degrade,
		// The operator configured this host: it may be internal.
		Guard: egress.Config{Allow: []string{u.Hostname()}},
	})
	if err != nil {
		return nil, fmt.Errorf("portal: enrichment: %w", err)
	}
	return &enricher{base: u, dep: dep}, nil
}

var errBadEnrichment = errors.New("portal: the CRM answered something that is not an enrichment record")

// lookup asks the CRM about one client. It never returns an error to the
// handler: a failure is logged by the caller and shown as "unavailable".
func (e *enricher) lookup(ctx context.Context, clientID string) (Enrichment, error) {
	u := e.base.JoinPath("clients", clientID)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Enrichment{Status: "unavailable"}, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := e.dep.Client().Do(req)
	if err != nil {
		return Enrichment{Status: "unavailable"}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return Enrichment{Status: "unavailable"}, fmt.Errorf("portal: the CRM answered %d", resp.StatusCode)
	}
	var rec struct {
		Health         string `json:"health"`
		AccountManager string `json:"account_manager"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&rec); err != nil || rec.Health == "" {
		return Enrichment{Status: "unavailable"}, errBadEnrichment
	}
	return Enrichment{Status: "ok", Health: rec.Health, AccountManager: rec.AccountManager}, nil
}

// ClientView is a client with its CRM enrichment, the answer of
// GET /api/clients/{id} when a CRM is configured.
type ClientView struct {
	Client
	Enrichment *Enrichment `json:"enrichment,omitempty"`
}
