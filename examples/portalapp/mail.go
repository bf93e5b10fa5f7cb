package portalapp

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Mailer sends the portal's emails.
type Mailer interface {
	Send(ctx context.Context, m Mail) error
}

// Mail is one outgoing message.
type Mail struct {
	To      string
	Subject string
	Body    string
}

// OutboxMailer writes each message as an .eml file into a directory, for
// development: the reset link lands on disk, never in the log.
type OutboxMailer struct {
	Dir  string
	From string
	Now  func() time.Time
}

// Send writes the message to a new file in the outbox directory.
func (o *OutboxMailer) Send(_ context.Context, m Mail) error {
	if o.Dir == "" {
		return errors.New("portal: OutboxMailer.Dir is empty; set a directory for development mail")
	}
	if strings.ContainsAny(m.To+m.Subject, "\r\n") {
		return errors.New("portal: mail header contains a line break")
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return fmt.Errorf("portal: outbox: %w", err)
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	name := fmt.Sprintf("%s-%s.eml", now().UTC().Format("20060102T150405"), rand.Text()[:8])
	msg := fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
		o.From, m.To, m.Subject, now().UTC().Format(time.RFC1123Z), m.Body)
	return os.WriteFile(filepath.Join(o.Dir, name), []byte(msg), 0o600)
}
