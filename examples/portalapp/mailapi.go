package portalapp

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/launchready/launchready/readiness/egress"
)

// MailAPIDeadline bounds one delivery attempt to the mail provider's HTTP
// API. Delivery runs on the mail queue, after the response, so a slow
// provider delays mail, never a support agent.
const MailAPIDeadline = 5 * time.Second

// APIMailer sends mail through a mail provider's HTTP API (POST
// {base}/send with a JSON message), through a budgeted, breaker-guarded
// egress.Dependency whose declared fallback is the queue. Each message
// carries an Idempotency-Key, so a retried POST cannot send it twice.
type APIMailer struct {
	From string
	send *url.URL
	dep  *egress.Dependency
}

// NewAPIMailer validates rawURL and returns the mailer.
func NewAPIMailer(rawURL, from string) (*APIMailer, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("portal: Options.MailAPIURL %q is not an http(s) URL; set it to the mail provider's API base URL or leave it empty", rawURL)
	}
	dep, err := egress.NewDependency(egress.DependencyConfig{
		Name:     "mail",
		Deadline: MailAPIDeadline,
		Retries:  2,
		Fallback: egress.Queue,
		// The operator configured this host: it may be internal.
		Guard: egress.Config{Allow: []string{u.Hostname()}},
	})
	if err != nil {
		return nil, fmt.Errorf("portal: mail API: %w", err)
	}
	return &APIMailer{From: from, send: u.JoinPath("send"), dep: dep}, nil
}

// Dependency returns the mail provider as a dependency, for readiness
// (Target.Clients) and the health endpoint.
func (m *APIMailer) Dependency() *egress.Dependency { return m.dep }

// Send posts one message to the provider.
func (m *APIMailer) Send(ctx context.Context, msg Mail) error {
	body, err := json.Marshal(map[string]string{"from": m.From, "to": msg.To, "subject": msg.Subject, "text": msg.Body})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.send.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", rand.Text())
	resp, err := m.dep.Client().Do(req)
	if err != nil {
		return fmt.Errorf("portal: mail API: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("portal: mail API answered %d", resp.StatusCode)
	}
	return nil
}
