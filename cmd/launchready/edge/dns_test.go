package edge_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/cmd/launchready/edge"
	"github.com/launchready/launchready/readiness"
)

// fakeRSA2048 is a DKIM public key record value of a 2048-bit RSA key.
// Key records are only parsed, never used to verify, so a random odd
// modulus is enough (no prime generation).
func fakeRSA2048(t *testing.T) string {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 2047))
	require.NoError(t, err)
	n.SetBit(n, 2047, 1)
	n.SetBit(n, 0, 1)
	der, err := x509.MarshalPKIXPublicKey(&rsa.PublicKey{N: n, E: 65537})
	require.NoError(t, err)
	s := base64.StdEncoding.EncodeToString(der)
	var parts []string
	for len(s) > 200 {
		parts = append(parts, `"`+s[:200]+`"`)
		s = s[200:]
	}
	return strings.Join(append(parts, `"`+s+`"`), " ")
}

// startDNS serves the zones in testdata/zones on 127.0.0.1, UDP and TCP on
// the same port (the resolver falls back to TCP for long DKIM answers),
// and returns the address.
func startDNS(t *testing.T) string {
	t.Helper()
	records := map[string][]dns.RR{}
	files, err := filepath.Glob(filepath.Join("testdata", "zones", "*.zone"))
	require.NoError(t, err)
	key := fakeRSA2048(t)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		zp := dns.NewZoneParser(strings.NewReader(strings.ReplaceAll(string(b), "{{RSA2048}}", key)), "", f)
		for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
			records[strings.ToLower(rr.Header().Name)] = append(records[strings.ToLower(rr.Header().Name)], rr)
		}
		require.NoError(t, zp.Err())
	}
	serve := func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		m.Authoritative = true
		name := strings.ToLower(q.Question[0].Name)
		rrs, exists := records[name]
		for _, rr := range rrs {
			if rr.Header().Rrtype == q.Question[0].Qtype {
				m.Answer = append(m.Answer, rr)
			}
		}
		if !exists {
			m.Rcode = dns.RcodeNameError
		}
		if _, udp := w.RemoteAddr().(*net.UDPAddr); udp && m.Len() > 512 {
			m.Answer, m.Truncated = nil, true
		}
		_ = w.WriteMsg(m)
	}
	var (
		pc net.PacketConn
		ln net.Listener
	)
	for i := 0; i < 20 && ln == nil; i++ { // find a port free for both protocols
		pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		require.NoError(t, err)
		if ln, err = net.Listen("tcp", pc.LocalAddr().String()); err != nil {
			pc.Close()
			ln = nil
		}
	}
	require.NotNil(t, ln, "no loopback port free for both UDP and TCP")
	started := make(chan struct{}, 2)
	notify := func() { started <- struct{}{} }
	udp := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(serve), NotifyStartedFunc: notify}
	tcp := &dns.Server{Listener: ln, Handler: dns.HandlerFunc(serve), NotifyStartedFunc: notify}
	go func() { _ = udp.ActivateAndServe() }()
	go func() { _ = tcp.ActivateAndServe() }()
	<-started
	<-started
	t.Cleanup(func() {
		_ = udp.Shutdown()
		_ = tcp.Shutdown()
	})
	return pc.LocalAddr().String()
}

// TestDNSAndMail: the portal's name is resolved through -dns (the HTTPS
// connection included); CAA and the sending domain's SPF, DKIM and DMARC
// are checked with the readiness/email IDs.
func TestDNSAndMail(t *testing.T) {
	addr := startDNS(t)
	ca := newCA(t)
	sender := []netip.Addr{netip.MustParseAddr("198.51.100.7")}

	t.Run("good", func(t *testing.T) {
		srv := startTLS(t, goodHandler(t, "x"), secureTLS(ca.leaf(t, leafOpts{names: []string{"portal.test"}, noIP: true})))
		_, port, _ := net.SplitHostPort(hostOf(srv.URL))
		r := runCheck(t, edge.Config{URL: "https://portal.test:" + port, SkipHTTP: true, RootCAs: ca.pool(), DNS: addr,
			MailDomain: "portal.test", DKIMSelectors: []string{"s1"}, SendingIPs: sender, Sequential: -1, Concurrent: -1})
		assert.False(t, r.Blocked(), "%s", r)
		assert.Empty(t, r.ByID("EDGE001"), "the certificate names portal.test")
		var caa, resolved bool
		for _, f := range r.ByID("EDGE010") {
			assert.Equal(t, readiness.Info, f.Severity, f.Seen)
			caa = caa || strings.Contains(f.Seen, `CAA at portal.test: issue "ca.portal.test"`)
			resolved = resolved || strings.Contains(f.Seen, "resolves to 127.0.0.1")
		}
		assert.True(t, caa && resolved, "%v", r.ByID("EDGE010"))
		for _, f := range r.Findings {
			assert.False(t, strings.HasPrefix(f.ID, "EMAIL") && f.Severity != readiness.Info, "%s", f)
		}
	})

	t.Run("bad", func(t *testing.T) {
		srv := startTLS(t, goodHandler(t, "x"), secureTLS(ca.leaf(t, leafOpts{names: []string{"bad.test"}, noIP: true})))
		_, port, _ := net.SplitHostPort(hostOf(srv.URL))
		r := runCheck(t, edge.Config{URL: "https://bad.test:" + port, SkipHTTP: true, RootCAs: ca.pool(), DNS: addr,
			MailDomain: "bad.test", DKIMSelectors: []string{"s1"}, SendingIPs: sender, Sequential: -1, Concurrent: -1})
		assert.Subset(t, blockerIDs(r), []string{"EMAIL004", "EMAIL005", "EMAIL006"}, "%s", r)
		noCAA := withSeverity(r, "EDGE010", readiness.Warning)
		require.Len(t, noCAA, 1, "%s", r)
		assert.Contains(t, noCAA[0].Seen, "no CAA record for bad.test")
	})

	t.Run("name does not resolve", func(t *testing.T) {
		c, err := edge.New(fast(edge.Config{URL: fmt.Sprintf("https://missing.test:%d", 1), SkipHTTP: true, DNS: addr}))
		require.NoError(t, err)
		_, err = c.Run(t.Context())
		assert.ErrorIs(t, err, edge.ErrUnreachable)
		assert.ErrorContains(t, err, "no such host")
	})
}
