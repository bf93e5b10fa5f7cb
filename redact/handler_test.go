package redact_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/slogtest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/redact"
	"github.com/launchready/launchready/redact/redacttest"
)

func TestHandlerSlogtest(t *testing.T) {
	var buf bytes.Buffer
	newHandler := func(*testing.T) slog.Handler {
		buf.Reset()
		return redact.NewHandler(slog.NewJSONHandler(&buf, nil), nil)
	}
	result := func(t *testing.T) map[string]any {
		m := map[string]any{}
		require.NoError(t, json.Unmarshal(buf.Bytes(), &m))
		return m
	}
	slogtest.Run(t, newHandler, result)
}

type stringer struct{ s string }

func (s stringer) String() string { return s.s }

type valuer struct{ s string }

func (v valuer) LogValue() slog.Value { return slog.GroupValue(slog.String("inner", v.s)) }

type creds struct {
	User     string
	Password string
}

// TestHandlerNoLeaks sends every generated secret through every slog context
// and checks the output never contains it.
func TestHandlerNoLeaks(t *testing.T) {
	g := redacttest.New(7)
	contexts := []struct {
		name string
		log  func(l *slog.Logger, secret, text string)
	}{
		{"message", func(l *slog.Logger, _, text string) { l.Info(text) }},
		{"string attr", func(l *slog.Logger, _, text string) { l.Info("m", "note", text) }},
		{"nested group", func(l *slog.Logger, _, text string) {
			l.Info("m", slog.Group("a", slog.Group("b", slog.String("note", text))))
		}},
		{"WithAttrs", func(l *slog.Logger, _, text string) { l.With("note", text).Info("m") }},
		{"WithGroup+WithAttrs", func(l *slog.Logger, _, text string) { l.WithGroup("g").With("note", text).Info("m") }},
		{"LogValuer", func(l *slog.Logger, _, text string) { l.Info("m", "v", valuer{text}) }},
		{"error", func(l *slog.Logger, _, text string) {
			l.Info("m", "err", fmt.Errorf("calling api: %w", errors.New(text)))
		}},
		{"Stringer", func(l *slog.Logger, _, text string) { l.Info("m", "s", stringer{text}) }},
		{"struct", func(l *slog.Logger, _, text string) { l.Info("m", "c", creds{User: "bob", Password: text}) }},
		{"slice", func(l *slog.Logger, _, text string) { l.Info("m", "list", []string{"a", text}) }},
		{"header", func(l *slog.Logger, secret, text string) {
			l.Info("m", "h", http.Header{"Authorization": {"Bearer " + secret}, "X-Note": {text}})
		}},
		{"url", func(l *slog.Logger, secret, text string) {
			u := &url.URL{Scheme: "https", Host: "portal.example.com", Path: "/reset",
				RawQuery: url.Values{"token": {secret}, "note": {text}}.Encode()}
			l.Info("m", "url", u)
		}},
		{"sensitive key", func(l *slog.Logger, secret, _ string) { l.Info("m", "api_key", secret) }},
		{"bytes", func(l *slog.Logger, _, text string) { l.Info("m", "b", []byte(text)) }},
	}
	for _, json := range []bool{true, false} {
		for _, c := range contexts {
			t.Run(fmt.Sprintf("%s/json=%v", c.name, json), func(t *testing.T) {
				var buf bytes.Buffer
				var next slog.Handler = slog.NewTextHandler(&buf, nil)
				if json {
					next = slog.NewJSONHandler(&buf, nil)
				}
				l := slog.New(redact.NewHandler(next, nil))
				for _, s := range g.Secrets(2) {
					buf.Reset()
					c.log(l, s.Secret, s.Text)
					require.NotEmpty(t, buf.String())
					assert.NotContains(t, buf.String(), s.Secret, "%s leaked through %s", s.Detector, c.name)
					if s.Detector == "private-key" { // the body lines must not leak either
						for _, line := range strings.Split(strings.ReplaceAll(s.Secret, `\n`, "\n"), "\n")[1:3] { // real or escaped (JSON) line breaks
							assert.NotContains(t, buf.String(), line)
						}
					}
				}
			})
		}
	}
}

func TestHandlerMasksOnlySpan(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(redact.NewHandler(slog.NewTextHandler(&buf, nil), nil))
	tok := redacttest.New(11).GitHubToken()
	l.Info("push rejected for token "+tok+" on repo acme/portal", "email", "alice.smith@client-a.test", "status", 403)
	out := buf.String()
	assert.Contains(t, out, "push rejected for token [REDACTED:github-token] on repo acme/portal")
	assert.Contains(t, out, "email=***@client-a.test")
	assert.Contains(t, out, "status=403")
	assert.NotContains(t, out, tok)
}

func TestHandlerHMAC(t *testing.T) {
	var buf bytes.Buffer
	// Drop the time so two records of the same values compare equal.
	noTime := &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}
	l := slog.New(redact.NewHandler(slog.NewTextHandler(&buf, noTime), &redact.Options{HashKey: []byte("k3y-for-tests-only-0123456789abcdef"), Keys: []string{"customer_ref"}}))
	l.Info("m", "password", "Horse123Maple!", "customer_ref", "C-1")
	first := buf.String()
	buf.Reset()
	l.Info("m", "password", "Horse123Maple!", "customer_ref", "C-1")
	assert.Equal(t, first, buf.String(), "same value, same hash")
	assert.Contains(t, first, "hmac:")
	assert.NotContains(t, first, "Horse123Maple!")
	assert.NotContains(t, first, "C-1")
}

func TestHandlerConcurrent(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	h := redact.NewHandler(slog.NewJSONHandler(&lockedWriter{&mu, &buf}, nil), nil)
	g := redacttest.New(13)
	secrets := g.Secrets(1)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := slog.New(h).With("worker", i)
			for _, s := range secrets {
				l.InfoContext(context.Background(), s.Text, "v", s.Text)
			}
		}()
	}
	wg.Wait()
	for _, s := range secrets {
		assert.NotContains(t, buf.String(), s.Secret)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func ExampleNewHandler() {
	h := slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}})
	logger := slog.New(redact.NewHandler(h, nil))
	logger.Info("login failed password=hunter2hunter2", "user", "alice@client-a.test", "password", "s3cret-Value")
	// Output:
	// level=INFO msg="login failed password=[REDACTED:secret-assignment]" user=***@client-a.test password=[REDACTED]
}

func TestHandlerSensitiveGroup(t *testing.T) {
	var buf bytes.Buffer
	l := slog.New(redact.NewHandler(slog.NewTextHandler(&buf, nil), nil))
	l.WithGroup("credentials").With("user", "svc-billing").Info("m", "value", "Horse123Maple!")
	l.Info("m", slog.Group("credentials", slog.String("value", "Tiger456Orbit#")))
	assert.NotContains(t, buf.String(), "Horse123Maple!")
	assert.NotContains(t, buf.String(), "Tiger456Orbit#")
	assert.NotContains(t, buf.String(), "svc-billing")
	assert.Contains(t, buf.String(), "credentials.value=[REDACTED]")
}
