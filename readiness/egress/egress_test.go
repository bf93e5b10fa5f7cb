package egress_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/readiness/egress"
)

// startDNS serves the given names (lower-case, fully qualified) on a loopback
// UDP port and returns a resolver that asks only that server.
func startDNS(t *testing.T, zone map[string][]string) *net.Resolver {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(req)
		m.Authoritative = true
		q := req.Question[0]
		addrs, ok := zone[strings.ToLower(q.Name)]
		if !ok {
			m.Rcode = dns.RcodeNameError
		}
		for _, a := range addrs {
			ip := netip.MustParseAddr(a)
			switch {
			case q.Qtype == dns.TypeA && ip.Is4():
				m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: ip.AsSlice()})
			case q.Qtype == dns.TypeAAAA && ip.Is6():
				m.Answer = append(m.Answer, &dns.AAAA{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeAAAA, Class: dns.ClassINET, Ttl: 60}, AAAA: ip.AsSlice()})
			}
		}
		_ = w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	addr := pc.LocalAddr().String()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", addr)
	}}
}

func TestGuardRefusesInternalAddresses(t *testing.T) {
	resolver := startDNS(t, map[string][]string{
		"loopback.test.":    {"127.0.0.1"},
		"metadata.test.":    {"169.254.169.254"},
		"private.test.":     {"10.0.0.1"},
		"mapped.test.":      {"::ffff:127.0.0.1"},
		"six.test.":         {"::1"},
		"mixed.test.":       {"93.184.216.34", "10.1.2.3"},
		"rebind.test.":      {"192.168.1.10"},
		"internal.allowed.": {"10.9.8.7"},
	})
	client, err := egress.NewClient(egress.Config{Resolver: resolver, Timeout: 2 * time.Second, Allow: []string{"internal.allowed"}})
	require.NoError(t, err)
	for _, target := range []string{
		"http://127.0.0.1/", "http://[::1]/", "http://169.254.169.254/latest/meta-data/",
		"http://10.0.0.1/", "http://[::ffff:127.0.0.1]/", "http://[64:ff9b::7f00:1]/",
		"http://0.0.0.0/", "http://100.64.0.1/", "http://[fe80::1]/", "http://[fd00:ec2::254]/",
		"http://loopback.test/", "http://metadata.test/", "http://private.test/",
		"http://mapped.test/", "http://six.test/", "http://mixed.test/", "http://rebind.test/",
	} {
		t.Run(target, func(t *testing.T) {
			resp, err := client.Get(target)
			if resp != nil {
				resp.Body.Close()
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, egress.ErrDenied)
			var de *egress.DeniedError
			require.ErrorAs(t, err, &de)
			assert.Contains(t, de.Error(), "Config.Allow")
		})
	}
}

func TestGuardAllowsExplicitHostAndPrefix(t *testing.T) {
	// A real server on loopback stands in for a trusted internal service.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	resolver := startDNS(t, map[string][]string{"mail.internal.": {"127.0.0.1"}, "other.internal.": {"127.0.0.1"}})

	byHost, err := egress.NewClient(egress.Config{Resolver: resolver, Allow: []string{"mail.internal"}})
	require.NoError(t, err)
	resp, err := byHost.Get(fmt.Sprintf("http://mail.internal:%s/", port))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "ok", string(body))

	_, err = byHost.Get(fmt.Sprintf("http://other.internal:%s/", port))
	assert.ErrorIs(t, err, egress.ErrDenied, "allowing one host does not allow its neighbours")

	byPrefix, err := egress.NewClient(egress.Config{Allow: []string{"127.0.0.0/8"}})
	require.NoError(t, err)
	resp, err = byPrefix.Get(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
}

func TestRedirectIntoInternalNetworkRefused(t *testing.T) {
	// The first hop is allowed; its redirect to the metadata address is not.
	srv := httptest.NewServer(http.RedirectHandler("http://169.254.169.254/latest/meta-data/", http.StatusFound))
	defer srv.Close()
	client, err := egress.NewClient(egress.Config{Allow: []string{"127.0.0.1"}})
	require.NoError(t, err)
	_, err = client.Get(srv.URL)
	require.Error(t, err)
	assert.True(t, errors.Is(err, egress.ErrDenied), "%v", err)
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		cfg  egress.Config
		want string
	}{
		{egress.Config{Allow: []string{"0.0.0.0/0"}}, "allows every address"},
		{egress.Config{Allow: []string{"10.0.0.0/33"}}, "not a valid CIDR"},
		{egress.Config{Allow: []string{" "}}, "empty entry"},
		{egress.Config{Timeout: -time.Second}, "Config.Timeout"},
		{egress.Config{DialTimeout: -time.Second}, "Config.DialTimeout"},
	} {
		_, err := egress.NewClient(tc.cfg)
		require.Error(t, err)
		assert.Contains(t, err.Error(), tc.want)
	}
	c, err := egress.NewClient(egress.Config{})
	require.NoError(t, err)
	assert.Equal(t, 10*time.Second, c.Timeout, "the zero Config still has a timeout")
}

func TestClassify(t *testing.T) {
	for addr, internal := range map[string]bool{
		"8.8.8.8": false, "2606:4700::1111": false, "127.0.0.53": true, "::ffff:10.0.0.1": true,
		"172.31.255.255": true, "172.32.0.1": false, "fe80::1%eth0": true, "64:ff9b::a00:1": true,
	} {
		assert.Equal(t, internal, egress.Classify(netip.MustParseAddr(addr)) != "", addr)
	}
}

func ExampleNewClient() {
	client, err := egress.NewClient(egress.Config{Timeout: 5 * time.Second})
	if err != nil {
		panic(err)
	}
	_, err = client.Get("http://169.254.169.254/latest/meta-data/")
	fmt.Println(errors.Is(err, egress.ErrDenied))
	// Output: true
}
