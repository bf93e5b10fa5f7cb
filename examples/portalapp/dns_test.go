package portalapp_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"math/big"
	"net"
	"strings"
	"testing"

	"crypto/rsa"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/require"
)

// startMailDNS serves the portal's sending domain from an in-process DNS
// server on loopback, as production DNS would: SPF through the provider's
// include, a 2048-bit DKIM key for selector "portal", DMARC p=reject with
// reports. It returns a resolver that asks only this server.
func startMailDNS(t *testing.T) *net.Resolver {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 2047))
	require.NoError(t, err)
	n.SetBit(n, 2047, 1)
	n.SetBit(n, 0, 1)
	der, err := x509.MarshalPKIXPublicKey(&rsa.PublicKey{N: n, E: 65537})
	require.NoError(t, err)
	key := base64.StdEncoding.EncodeToString(der)
	var parts []string
	for len(key) > 200 {
		parts = append(parts, `"`+key[:200]+`"`)
		key = key[200:]
	}
	parts = append(parts, `"`+key+`"`)
	zone := `$TTL 300
@ IN SOA ns.acme.test. hostmaster.acme.test. 1 3600 600 86400 300
@ IN TXT "v=spf1 include:_spf.mailer.acme.test -all"
_spf.mailer IN TXT "v=spf1 ip4:198.51.100.10 ip4:198.51.100.11 -all"
portal._domainkey IN TXT "v=DKIM1; k=rsa; p=" ` + strings.Join(parts, " ") + `
_dmarc IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@acme.test"
`
	records := map[string][]dns.RR{}
	zp := dns.NewZoneParser(strings.NewReader(zone), "acme.test.", "acme.test.zone")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		name := strings.ToLower(rr.Header().Name)
		records[name] = append(records[name], rr)
	}
	require.NoError(t, zp.Err())
	serve := dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		m.Authoritative = true
		if len(q.Question) == 1 {
			name := strings.ToLower(q.Question[0].Name)
			for _, rr := range records[name] {
				if rr.Header().Rrtype == q.Question[0].Qtype {
					m.Answer = append(m.Answer, rr)
				}
			}
			if len(m.Answer) == 0 && len(records[name]) == 0 {
				m.Rcode = dns.RcodeNameError
			}
		}
		if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
			m.Truncate(512)
		}
		_ = w.WriteMsg(m)
	})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	udpSrv := &dns.Server{PacketConn: pc, Handler: serve}
	tcpSrv := &dns.Server{Listener: ln, Handler: serve}
	started := make(chan struct{}, 2)
	udpSrv.NotifyStartedFunc = func() { started <- struct{}{} }
	tcpSrv.NotifyStartedFunc = func() { started <- struct{}{} }
	go func() { _ = udpSrv.ActivateAndServe() }()
	go func() { _ = tcpSrv.ActivateAndServe() }()
	<-started
	<-started
	t.Cleanup(func() {
		_ = udpSrv.Shutdown()
		_ = tcpSrv.Shutdown()
	})
	udpAddr, tcpAddr := pc.LocalAddr().String(), ln.Addr().String()
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		if strings.HasPrefix(network, "tcp") {
			return d.DialContext(ctx, "tcp", tcpAddr)
		}
		return d.DialContext(ctx, "udp", udpAddr)
	}}
}

// offline is a resolver that fails every query at once.
func offline() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, net.UnknownNetworkError("offline")
	}}
}
