package redact_test

import (
	"bytes"
	"log/slog"
	"reflect"
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

// FuzzAccessLogLine sends fuzzed request values (method, route, principal,
// tenant, request ID, client IP) through the access log's line writer: the
// output is one line of one JSON object with exactly the expected keys;
// each value decodes to the redactor's result for it, so a value without a
// detection comes back as given (invalid UTF-8 as U+FFFD); and the slog
// path through redact.Handler logs the same values.
func FuzzAccessLogLine(f *testing.F) {
	g := redacttest.New(97)
	f.Add("GET", "GET /api/clients/{id}", "u-7", "client-a", "req-1", "203.0.113.9")
	f.Add("POST", "", "", "", "", "")
	f.Add("GET", "GET /x", "alice@client-a.test", "acme", "trace "+g.GitHubToken(), "2001:db8::1")
	f.Add("PATCH", "PATCH /t/{id}", "u", "t", "token="+g.JWT(), "card "+g.Card("5", 16))
	f.Fuzz(func(t *testing.T, method, route, principal, tenant, requestID, clientIP string) {
		rq := request{method: method, route: route, principal: principal, tenant: tenant, requestID: requestID, clientIP: clientIP}
		red := redact.NewRedactor(nil)
		lbuf, lbuild := lines(t, red)
		serve(t, rq, lbuild)
		out := lbuf.Bytes()
		line := decodeLine(t, out)
		for _, c := range out[:len(out)-1] {
			if c < 0x20 {
				t.Fatalf("raw control byte %#x in %q", c, out)
			}
		}
		want := map[string]string{"method": method, "route": route, "client_ip": clientIP, "request_id": requestID}
		if route == "" {
			want["route"] = "(unmatched)"
		}
		if principal != "" {
			want["principal"], want["tenant"] = principal, tenant
		}
		for _, k := range []string{"time", "level", "msg", "status", "duration", "bytes"} {
			if _, ok := line[k]; !ok {
				t.Fatalf("no %s in %q", k, out)
			}
		}
		if len(line) != len(want)+6 {
			t.Fatalf("keys %v, want %v and time, level, msg, status, duration, bytes", keys(line), want)
		}
		for k, v := range want {
			got, ok := line[k].(string)
			if !ok {
				t.Fatalf("%s missing or not a string in %q", k, out)
			}
			if exp := string([]rune(red.String(v))); got != exp {
				t.Fatalf("%s: decoded %q, want %q", k, got, exp)
			}
			if len(redact.Find(v)) == 0 && got != string([]rune(v)) {
				t.Fatalf("%s: %q did not round-trip: %q", k, v, got)
			}
		}
		rbuf, rbuild := records(nil)
		serve(t, rq, rbuild)
		record := decodeLine(t, rbuf.Bytes())
		delete(line, "time")
		delete(record, "time")
		if !reflect.DeepEqual(line, record) {
			t.Fatalf("line %v, slog record %v", line, record)
		}
	})
}
