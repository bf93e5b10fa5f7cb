package attack_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/readiness/email"
)

// dnsFault is a loopback DNS server that answers every query with rcode,
// or never answers (blackhole), and counts the queries it saw.
type dnsFault struct {
	addr    string
	queries atomic.Int64
}

func startDNSFault(t *testing.T, rcode int, blackhole bool) *dnsFault {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	f := &dnsFault{addr: pc.LocalAddr().String()}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		f.queries.Add(1)
		if blackhole {
			return // no answer: the client times out
		}
		m := new(dns.Msg)
		m.SetRcode(q, rcode)
		_ = w.WriteMsg(m)
	})}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return f
}

func (f *dnsFault) resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", f.addr)
	}}
}

// TestEmailCheckDNSFaults: the email check against a DNS server that
// answers SERVFAIL (or REFUSED) to everything, or never answers, finishes
// in bounded time, reports every record as unverified (never a pass): a
// blocker in production, a warning in development, and names the failure.
func TestEmailCheckDNSFaults(t *testing.T) {
	g := newTally(t, "email-dns-faults")
	const timeout = 300 * time.Millisecond
	cases := []struct {
		name      string
		rcode     int
		blackhole bool
	}{
		{"servfail", dns.RcodeServerFailure, false},
		{"refused", dns.RcodeRefused, false},
		{"timeout", 0, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := startDNSFault(t, c.rcode, c.blackhole)
			chk, err := email.New(email.Config{FromDomain: "portal.example.com", DKIMSelectors: []string{"s1"},
				SPFInclude: "_spf.provider.example", Resolver: f.resolver(), Timeout: timeout})
			require.NoError(t, err)
			srv := &http.Server{Handler: http.NewServeMux(), ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
				WriteTimeout: 10 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 1 << 16}
			for _, env := range []readiness.Env{readiness.Production, readiness.Development} {
				t0 := time.Now()
				rep, err := readiness.Run(context.Background(), readiness.Target{Server: srv, Env: env,
					ShutdownTimeout: 10 * time.Second, AllowedHosts: []string{"portal.example.com"}, Checks: []readiness.Check{chk}})
				took := time.Since(t0)
				require.NoError(t, err)
				var ids []string
				for _, fd := range rep.Findings {
					if fd.Item != readiness.ItemEmail {
						continue
					}
					ids = append(ids, fd.ID)
					want := readiness.Blocker
					if env == readiness.Development {
						want = readiness.Warning
					}
					g.check(fd.Severity == want, "%s %v: %s is %v, want %v", c.name, env, fd.ID, fd.Severity, want)
					g.check(strings.Contains(strings.ToLower(fd.Seen), "unverified") || strings.Contains(strings.ToLower(fd.Seen), "fail") ||
						strings.Contains(strings.ToLower(fd.Seen), "timeout") || strings.Contains(strings.ToLower(fd.Seen), "timed out"),
						"%s: %s does not say the query failed: %q", c.name, fd.ID, fd.Seen)
				}
				for _, id := range []string{"EMAIL001", "EMAIL005", "EMAIL006"} {
					g.check(len(rep.ByID(id)) > 0, "%s %v: no %s finding (got %v): unverified must not pass", c.name, env, id, ids)
				}
				// Queries run with a per-query timeout and one retry; the run
				// stays bounded even when nothing answers.
				g.check(took < 20*timeout, "%s %v: the check took %v (per-query timeout %v)", c.name, env, took, timeout)
				t.Logf("%s %v: %v in %v, %d DNS queries seen", c.name, env, ids, took.Round(time.Millisecond), f.queries.Load())
			}
		})
	}
}
