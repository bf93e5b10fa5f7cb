package email_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/readiness/email"
)

var sendingIP = netip.MustParseAddr("198.51.100.10")

// testTimeout bounds each query in tests; the timeout zone waits it out
// twice per query (one retry).
const testTimeout = 300 * time.Millisecond

func config(s *zoneServer, from string) email.Config {
	return email.Config{
		FromDomain:    from,
		DKIMSelectors: []string{"s1"},
		SendingIPs:    []netip.Addr{sendingIP},
		Resolver:      s.resolver(),
		Timeout:       testTimeout,
	}
}

type want struct {
	id  string
	sev readiness.Severity
}

func got(fs []readiness.Finding) []want {
	out := []want{}
	for _, f := range fs {
		out = append(out, want{f.ID, f.Severity})
	}
	return out
}

func TestZones(t *testing.T) {
	s := startZoneServer(t)
	B, W := readiness.Blocker, readiness.Warning
	tests := []struct {
		name   string
		cfg    func(email.Config) email.Config
		from   string
		want   []want
		inSeen []string // every finding's text together must contain these
	}{
		{name: "good", from: "good.test", cfg: func(c email.Config) email.Config {
			c.DKIMSelectors = []string{"s1", "s2", "pk", "ed", "cn"}
			c.SPFInclude = "_spf.provider.test"
			c.SendingIPs = append(c.SendingIPs, netip.MustParseAddr("2001:db8:5::25"))
			c.DKIMSigner = loadKeys(t).ed25519Priv
			c.DKIMSignerSelector = "ed"
			return c
		}, want: []want{}},
		{name: "good subdomain falls back to the organisational DMARC record", from: "portal.good.test", cfg: func(c email.Config) email.Config {
			c.EnvelopeDomain, c.DKIMDomain = "good.test", "good.test"
			return c
		}, want: []want{}},
		{name: "no SPF", from: "nospf.test", want: []want{{"EMAIL001", B}},
			inSeen: []string{"no SPF record at nospf.test", `"v=spf1 ip4:198.51.100.10 -all"`}},
		{name: "two SPF", from: "twospf.test", want: []want{{"EMAIL001", B}}, inSeen: []string{"2 SPF records"}},
		{name: "invalid SPF", from: "badspf.test", want: []want{{"EMAIL001", B}}, inSeen: []string{"198.51.100.300"}},
		{name: "+all", from: "plusall.test", want: []want{{"EMAIL004", B}},
			inSeen: []string{"ends in +all", `"v=spf1 ip4:198.51.100.10 -all"`}},
		{name: "0.0.0.0/0 caught by the TEST-NET probe", from: "anynet.test", want: []want{{"EMAIL004", B}},
			inSeen: []string{"passes for 192.0.2.1", `"v=spf1 ip4:198.51.100.10 -all"`}},
		{name: "?all and ptr", from: "qall.test", want: []want{{"EMAIL001", W}, {"EMAIL004", W}}, inSeen: []string{"ptr", "?all"}},
		{name: "11 lookups", from: "lookups11.test", want: []want{{"EMAIL003", B}}, inSeen: []string{"needs 11 DNS lookups"}},
		{name: "9 lookups", from: "lookups9.test", want: []want{{"EMAIL003", W}}, inSeen: []string{"needs 9 DNS lookups"}},
		{name: "3 void lookups", from: "void3.test", want: []want{{"EMAIL003", B}}, inSeen: []string{"3 void lookups"}},
		{name: "sending IP not authorised", from: "unauthorised.test", want: []want{{"EMAIL002", B}},
			inSeen: []string{"gives fail for sending address 198.51.100.10", `"v=spf1 ip4:198.51.100.99 ip4:198.51.100.10 -all"`}},
		{name: "SPF include not reached", from: "good.test", cfg: func(c email.Config) email.Config {
			c.SPFInclude = "spf.other-provider.test"
			return c
		}, want: []want{{"EMAIL002", B}}, inSeen: []string{"include:spf.other-provider.test"}},
		{name: "DKIM missing", from: "dkimmissing.test", want: []want{{"EMAIL005", B}}, inSeen: []string{"no DKIM key record at s1._domainkey.dkimmissing.test"}},
		{name: "DKIM revoked", from: "dkimrevoked.test", want: []want{{"EMAIL005", B}}, inSeen: []string{"revoked"}},
		{name: "DKIM 1024 bits", from: "dkim1024.test", want: []want{{"EMAIL005", W}}, inSeen: []string{"RSA 1024 bits"}},
		{name: "DKIM 512 bits", from: "dkim512.test", want: []want{{"EMAIL005", B}}, inSeen: []string{"RSA 512 bits"}},
		{name: "DKIM t=y", from: "dkimtesting.test", want: []want{{"EMAIL005", W}}, inSeen: []string{"t=y"}},
		{name: "DKIM h=sha1", from: "dkimsha1.test", want: []want{{"EMAIL005", B}}, inSeen: []string{"h=sha1"}},
		{name: "DKIM signer does not match the published key", from: "good.test", cfg: func(c email.Config) email.Config {
			_, other, err := ed25519.GenerateKey(rand.Reader)
			require.NoError(t, err)
			c.DKIMSelectors, c.DKIMSigner = []string{"ed"}, other
			return c
		}, want: []want{{"EMAIL005", B}}, inSeen: []string{"does not verify"}},
		{name: "DMARC missing", from: "nodmarc.test", want: []want{{"EMAIL006", B}}, inSeen: []string{"no DMARC record at _dmarc.nodmarc.test", "v=DMARC1; p=quarantine"}},
		{name: "DMARC p=none (blocks in production: the checklist asks for quarantine)", from: "pnone.test", want: []want{{"EMAIL006", B}}, inSeen: []string{"p=none"}},
		{name: "two DMARC records", from: "twodmarc.test", want: []want{{"EMAIL006", B}}, inSeen: []string{"2 DMARC records"}},
		{name: "DMARC without rua, pct=50", from: "norua.test", want: []want{{"EMAIL007", W}, {"EMAIL007", W}}, inSeen: []string{"no rua=", "pct=50"}},
		{name: "misaligned", from: "misaligned.test", cfg: func(c email.Config) email.Config {
			c.EnvelopeDomain, c.DKIMDomain = "bounce.misaligned.test", "mail.misaligned.test"
			return c
		}, want: []want{{"EMAIL008", B}}, inSeen: []string{"aspf=s", "adkim=s"}},
		{name: "DKIM signed by the provider's domain: SPF alone carries DMARC", from: "good.test", cfg: func(c email.Config) email.Config {
			c.DKIMDomain = "provider.test"
			return c
		}, want: []want{{"EMAIL008", W}}, inSeen: []string{"DKIM domain provider.test (adkim=r)"}},
		{name: "SERVFAIL is unverified, never a pass", from: "servfail.test",
			want:   []want{{"EMAIL001", B}, {"EMAIL005", B}, {"EMAIL006", B}},
			inSeen: []string{"unverified: TXT query for servfail.test failed 2 times: server misbehaving"}},
		{name: "timeout is unverified, never a pass", from: "timeout.test",
			want:   []want{{"EMAIL001", B}, {"EMAIL005", B}, {"EMAIL006", B}},
			inSeen: []string{"unverified: TXT query for timeout.test failed 2 times: no answer within 300ms"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := config(s, tt.from)
			if tt.cfg != nil {
				cfg = tt.cfg(cfg)
			}
			chk, err := email.New(cfg)
			require.NoError(t, err)
			fs := chk.Run(context.Background(), nil)
			assert.ElementsMatch(t, tt.want, got(fs), "findings: %v", fs)
			var text strings.Builder
			for _, f := range fs {
				assert.NotEmpty(t, f.Seen)
				assert.NotEmpty(t, f.Fix)
				assert.Equal(t, readiness.ItemEmail, f.Item)
				if f.Severity == readiness.Blocker {
					assert.True(t, f.ProductionOnly, "email blockers need production DNS: %v", f)
				}
				fmt.Fprintf(&text, "%s\n%s\n", f.Seen, f.Fix)
			}
			for _, s := range tt.inSeen {
				assert.Contains(t, text.String(), s)
			}
		})
	}
}

// Long DKIM keys do not fit a 512-byte UDP answer: the resolver must retry
// over TCP after the truncated answer, and the key must still parse.
func TestLongKeyUsesTCPFallback(t *testing.T) {
	s := startZoneServer(t)
	cfg := config(s, "good.test")
	cfg.DKIMSelectors = []string{"s2"}
	chk, err := email.New(cfg)
	require.NoError(t, err)
	assert.Empty(t, chk.Run(context.Background(), nil))
	assert.Positive(t, s.tcpQueries.Load(), "the 4096-bit key should have come over TCP")
}

// Through readiness.Run: production keeps blockers, development downgrades
// them, and the text scorecard shows the record and the fix.
func TestReportEnvironments(t *testing.T) {
	s := startZoneServer(t)
	chk, err := email.New(config(s, "plusall.test"))
	require.NoError(t, err)
	srv := &http.Server{Handler: http.NewServeMux(), ReadHeaderTimeout: time.Second, ReadTimeout: time.Second,
		WriteTimeout: time.Second, IdleTimeout: time.Second, MaxHeaderBytes: 1 << 16}
	for _, tc := range []struct {
		env readiness.Env
		sev readiness.Severity
	}{{readiness.Production, readiness.Blocker}, {readiness.Development, readiness.Warning}} {
		rep, err := readiness.Run(context.Background(), readiness.Target{Server: srv, Env: tc.env,
			ShutdownTimeout: time.Second, AllowedHosts: []string{"portal.example.com"}, Checks: []readiness.Check{chk}})
		require.NoError(t, err)
		fs := rep.ByID("EMAIL004")
		require.Len(t, fs, 1)
		assert.Equal(t, tc.sev, fs[0].Severity, tc.env.String())
		assert.Contains(t, rep.String(), `v=spf1 ip4:198.51.100.10 +all`)
		assert.Contains(t, rep.String(), `"v=spf1 ip4:198.51.100.10 -all"`)
	}
}

// One check value serves concurrent runs (boot gate and admin page at once).
func TestConcurrentRuns(t *testing.T) {
	s := startZoneServer(t)
	chk, err := email.New(config(s, "unauthorised.test"))
	require.NoError(t, err)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.Equal(t, []want{{"EMAIL002", readiness.Blocker}}, got(chk.Run(context.Background(), nil)))
		}()
	}
	wg.Wait()
}

// A cancelled context gives unverified findings, never an empty (passing) result.
func TestCancelledIsUnverified(t *testing.T) {
	s := startZoneServer(t)
	chk, err := email.New(config(s, "good.test"))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fs := chk.Run(ctx, nil)
	require.NotEmpty(t, fs)
	for _, f := range fs {
		assert.Contains(t, f.Seen, "unverified")
		assert.Equal(t, readiness.Blocker, f.Severity)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	ok := email.Config{FromDomain: "portal.example.com", DKIMSelectors: []string{"s1"}, SPFInclude: "_spf.provider.example"}
	tests := []struct {
		name string
		mut  func(*email.Config)
		msg  string
	}{
		{"no from", func(c *email.Config) { c.FromDomain = "" }, "Config.FromDomain is empty"},
		{"bad from", func(c *email.Config) { c.FromDomain = "exa mple.com" }, "Config.FromDomain"},
		{"no selectors", func(c *email.Config) { c.DKIMSelectors = nil }, "Config.DKIMSelectors is empty"},
		{"no sender", func(c *email.Config) { c.SPFInclude = "" }, "Config.SendingIPs and Config.SPFInclude are both empty"},
		{"probe address as sender", func(c *email.Config) { c.SendingIPs = []netip.Addr{netip.MustParseAddr("192.0.2.1")} }, "documentation address"},
		{"invalid address", func(c *email.Config) { c.SendingIPs = []netip.Addr{{}} }, "Config.SendingIPs"},
		{"negative timeout", func(c *email.Config) { c.Timeout = -1 }, "Config.Timeout"},
		{"signer selector without signer", func(c *email.Config) { c.DKIMSignerSelector = "s1" }, "Config.DKIMSigner is nil"},
		{"signer selector unknown", func(c *email.Config) {
			_, k, _ := ed25519.GenerateKey(rand.Reader)
			c.DKIMSigner, c.DKIMSignerSelector = k, "s9"
		}, "not in Config.DKIMSelectors"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.mut(&cfg)
			_, err := email.New(cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.msg)
			assert.True(t, strings.HasPrefix(err.Error(), "email: "))
		})
	}
	chk, err := email.New(ok)
	require.NoError(t, err)
	assert.Equal(t, "email authentication (portal.example.com)", chk.Name())
}
