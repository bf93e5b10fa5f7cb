package email_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
	"github.com/stretchr/testify/require"
)

// udpLimit is the largest UDP answer the test server sends, like a server
// that ignores EDNS0: longer answers are truncated (TC set) and the resolver
// retries over TCP, as it must for long DKIM keys.
const udpLimit = 512

// zoneServer is an in-process authoritative DNS server on 127.0.0.1 serving
// the zone files in testdata/zones. A zone file whose first line is
// "; mode: servfail" is answered with SERVFAIL; "; mode: timeout" is never
// answered.
type zoneServer struct {
	records    map[string][]dns.RR // by lower-case owner name
	modes      map[string]string   // zone origin -> servfail|timeout
	udp, tcp   string
	tcpQueries atomic.Int64
	udpQueries atomic.Int64
}

// testKeys are the DKIM keys the zone templates refer to. Only public keys
// go into the zones; the Ed25519 private key signs the self-test message.
type testKeys struct {
	ed25519Priv ed25519.PrivateKey
	subst       map[string]string
}

var (
	keysOnce sync.Once
	keys     testKeys
)

// fakeRSA builds an RSA public key of exactly bits bits. Key records are
// only parsed, never used to verify, so a random modulus is enough and
// keeps the tests fast (no prime generation).
func fakeRSA(t testing.TB, bits int) *rsa.PublicKey {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), uint(bits-1)))
	require.NoError(t, err)
	n.SetBit(n, bits-1, 1)
	n.SetBit(n, 0, 1)
	return &rsa.PublicKey{N: n, E: 65537}
}

func pkix(t testing.TB, pub any) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	require.NoError(t, err)
	return base64.StdEncoding.EncodeToString(der)
}

// chunks writes a long value as the quoted character-strings of one TXT
// record (each at most 255 bytes).
func chunks(s string) string {
	var parts []string
	for len(s) > 200 {
		parts = append(parts, `"`+s[:200]+`"`)
		s = s[200:]
	}
	return strings.Join(append(parts, `"`+s+`"`), " ")
}

func loadKeys(t testing.TB) testKeys {
	keysOnce.Do(func() {
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		require.NoError(t, err)
		keys = testKeys{ed25519Priv: priv, subst: map[string]string{
			"{{RSA512}}":       chunks(pkix(t, fakeRSA(t, 512))),
			"{{RSA1024}}":      chunks(pkix(t, fakeRSA(t, 1024))),
			"{{RSA2048}}":      chunks(pkix(t, fakeRSA(t, 2048))),
			"{{RSA4096}}":      chunks(pkix(t, fakeRSA(t, 4096))),
			"{{RSA2048PKCS1}}": chunks(base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PublicKey(fakeRSA(t, 2048)))),
			"{{ED25519}}":      chunks(base64.StdEncoding.EncodeToString(pub)),
		}}
	})
	return keys
}

func startZoneServer(t *testing.T) *zoneServer {
	t.Helper()
	k := loadKeys(t)
	s := &zoneServer{records: map[string][]dns.RR{}, modes: map[string]string{}}
	files, err := filepath.Glob(filepath.Join("testdata", "zones", "*.zone"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		text := string(b)
		for from, to := range k.subst {
			text = strings.ReplaceAll(text, from, to)
		}
		origin := strings.TrimSuffix(filepath.Base(f), ".zone") + "."
		if first, _, _ := strings.Cut(text, "\n"); strings.HasPrefix(first, "; mode: ") {
			s.modes[origin] = strings.TrimSpace(strings.TrimPrefix(first, "; mode: "))
		}
		zp := dns.NewZoneParser(strings.NewReader(text), origin, f)
		for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
			name := strings.ToLower(rr.Header().Name)
			s.records[name] = append(s.records[name], rr)
		}
		require.NoError(t, zp.Err(), f)
	}

	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s.udp, s.tcp = pc.LocalAddr().String(), ln.Addr().String()
	udpSrv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(s.serve)}
	tcpSrv := &dns.Server{Listener: ln, Handler: dns.HandlerFunc(s.serve)}
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
	return s
}

func (s *zoneServer) mode(name string) string {
	for origin, m := range s.modes {
		if name == origin || strings.HasSuffix(name, "."+origin) {
			return m
		}
	}
	return ""
}

func (s *zoneServer) serve(w dns.ResponseWriter, r *dns.Msg) {
	_, isTCP := w.RemoteAddr().(*net.TCPAddr)
	if isTCP {
		s.tcpQueries.Add(1)
	} else {
		s.udpQueries.Add(1)
	}
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	if len(r.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		_ = w.WriteMsg(m)
		return
	}
	q := r.Question[0]
	name := strings.ToLower(q.Name)
	switch s.mode(name) {
	case "timeout":
		return // never answer
	case "servfail":
		m.Rcode = dns.RcodeServerFailure
		_ = w.WriteMsg(m)
		return
	}
	for hops := 0; hops < 8; hops++ {
		rrs, ok := s.records[name]
		if !ok {
			if len(m.Answer) == 0 {
				m.Rcode = dns.RcodeNameError
			}
			break
		}
		var cname string
		for _, rr := range rrs {
			switch {
			case rr.Header().Rrtype == q.Qtype:
				m.Answer = append(m.Answer, rr)
			case rr.Header().Rrtype == dns.TypeCNAME:
				m.Answer = append(m.Answer, rr)
				cname = strings.ToLower(rr.(*dns.CNAME).Target)
			}
		}
		if cname == "" {
			break
		}
		name = cname
	}
	if opt := r.IsEdns0(); opt != nil {
		m.SetEdns0(udpLimit, false)
	}
	if !isTCP {
		m.Truncate(udpLimit)
	}
	_ = w.WriteMsg(m)
}

// resolver reaches the test server only: UDP for datagrams, TCP for the
// fallback after a truncated answer. No query leaves the machine.
func (s *zoneServer) resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		if strings.HasPrefix(network, "tcp") {
			return d.DialContext(ctx, "tcp", s.tcp)
		}
		return d.DialContext(ctx, "udp", s.udp)
	}}
}
