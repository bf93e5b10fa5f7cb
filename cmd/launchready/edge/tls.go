package edge

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/launchready/launchready/readiness"
)

// tlsResult is what the TLS checks learned about the endpoint.
type tlsResult struct {
	trusted  bool // the chain verified for the host (expiry aside)
	findings []readiness.Finding
}

// handshake connects to the endpoint with cfg and returns the connection
// state; the connection is closed.
func (c *Checker) handshake(ctx context.Context, cfg *tls.Config) (tls.ConnectionState, error) {
	cfg.InsecureSkipVerify = true //nolint:gosec // the chain is verified by hand, against Config.RootCAs and the host
	if net.ParseIP(c.host) == nil {
		cfg.ServerName = c.host
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	d := tls.Dialer{NetDialer: c.dialer, Config: cfg}
	conn, err := d.DialContext(ctx, "tcp", hostPort(c.host, c.port))
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer conn.Close()
	return conn.(*tls.Conn).ConnectionState(), nil
}

// checkTLS verifies the certificate chain and expiry, and tries the
// protocol versions and TLS 1.2 suites the intermediate profile refuses.
// It returns ErrUnreachable when no handshake completes at all.
func (c *Checker) checkTLS(ctx context.Context) (tlsResult, error) {
	var res tlsResult
	st, err := c.handshake(ctx, &tls.Config{MinVersion: tls.VersionTLS10}) //nolint:gosec // TLS 1.0 is offered to see whether the server still takes it
	if err != nil {
		return res, fmt.Errorf("%w: TLS handshake with %s: %v", ErrUnreachable, hostPort(c.host, c.port), err)
	}
	if len(st.PeerCertificates) == 0 {
		return res, fmt.Errorf("%w: %s sent no certificate", ErrUnreachable, hostPort(c.host, c.port))
	}
	now := c.cfg.Now()
	leaf := st.PeerCertificates[0]
	inter := x509.NewCertPool()
	for _, ic := range st.PeerCertificates[1:] {
		inter.AddCert(ic)
	}
	verify := func(at time.Time) error {
		_, err := leaf.Verify(x509.VerifyOptions{Roots: c.cfg.RootCAs, Intermediates: inter, DNSName: c.host, CurrentTime: at})
		return err
	}
	fix := "serve a certificate for the host from a public CA (or your internal CA, passed with -ca), with the full intermediate chain"
	// Expiry is judged on its own; the chain is verified at a moment the
	// leaf is valid, so an expired self-signed certificate gets both.
	switch {
	case now.After(leaf.NotAfter):
		res.findings = append(res.findings, finding("EDGE002", readiness.Blocker,
			fmt.Sprintf("the certificate for %s expired on %s: browsers refuse the portal", c.host, leaf.NotAfter.UTC().Format(time.DateOnly)),
			"renew the certificate now and automate renewal (ACME), with an alert 30 days before expiry"))
	case now.Before(leaf.NotBefore):
		res.findings = append(res.findings, finding("EDGE002", readiness.Blocker,
			fmt.Sprintf("the certificate for %s is not valid before %s", c.host, leaf.NotBefore.UTC().Format(time.RFC3339)),
			"check the issuing system's clock and reissue"))
	case leaf.NotAfter.Sub(now) < ExpiryWarning:
		left := fmt.Sprintf("%d days", int(leaf.NotAfter.Sub(now).Hours()/24))
		if d := leaf.NotAfter.Sub(now); d < 48*time.Hour {
			left = d.Round(time.Minute).String()
		}
		res.findings = append(res.findings, finding("EDGE002", readiness.Warning,
			fmt.Sprintf("the certificate for %s expires in %s (%s)", c.host, left, leaf.NotAfter.UTC().Format(time.RFC3339)),
			"renew it now and automate renewal (ACME), with an alert 30 days before expiry"))
	}
	outOfTime := now.After(leaf.NotAfter) || now.Before(leaf.NotBefore)
	at := now
	if outOfTime {
		at = leaf.NotAfter.Add(-time.Second)
	}
	err = verify(at)
	var (
		hostErr    x509.HostnameError
		unknownErr x509.UnknownAuthorityError
		timeErr    x509.CertificateInvalidError
	)
	switch {
	case err == nil:
		res.trusted = true
	case outOfTime && errors.As(err, &timeErr) && timeErr.Reason == x509.Expired:
		// An issuer was not valid at the leaf's last moment either: the
		// renewal EDGE002 asks for fixes the chain too.
	case errors.As(err, &hostErr):
		names := append(slices.Clone(leaf.DNSNames), ipStrings(leaf.IPAddresses)...)
		res.findings = append(res.findings, finding("EDGE001", readiness.Blocker,
			fmt.Sprintf("the certificate is not valid for %s (it names %s): browsers refuse the portal", c.host, strings.Join(names, ", ")), fix))
	case errors.As(err, &unknownErr):
		what := "is signed by an authority that is not trusted"
		if selfSigned(leaf) {
			what = "is self-signed"
		}
		res.findings = append(res.findings, finding("EDGE001", readiness.Blocker,
			fmt.Sprintf("the certificate for %s %s (issuer %q): browsers refuse the portal", c.host, what, leaf.Issuer.String()), fix))
	default:
		res.findings = append(res.findings, finding("EDGE001", readiness.Blocker,
			fmt.Sprintf("the certificate chain for %s does not verify: %v", c.host, err), fix))
	}

	var problems []string
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
		if _, err := c.handshake(ctx, &tls.Config{MinVersion: v, MaxVersion: v}); err == nil {
			problems = append(problems, "accepts "+tls.VersionName(v))
		}
	}
	if weak := c.weakSuites(ctx); len(weak) > 0 {
		problems = append(problems, "accepts the TLS 1.2 suites "+strings.Join(weak, ", ")+" (CBC or no ECDHE: testssl.sh reports them, LUCKY13)")
	}
	if len(problems) > 0 {
		res.findings = append(res.findings, finding("DEPLOY005", readiness.Blocker,
			fmt.Sprintf("the TLS endpoint %s %s", hostPort(c.host, c.port), strings.Join(problems, "; ")),
			"allow TLS 1.2 and 1.3 only, and for TLS 1.2 only ECDHE with AES-GCM or ChaCha20-Poly1305 (Mozilla intermediate); in Go: tls.Config{MinVersion: tls.VersionTLS12, CipherSuites: readiness.SecureCipherSuites()}"))
	}

	staple := "no OCSP response stapled (clients must ask the CA, slower and a privacy leak)"
	if len(st.OCSPResponse) > 0 {
		staple = "OCSP response stapled"
	}
	res.findings = append(res.findings, finding("EDGE003", readiness.Info,
		fmt.Sprintf("%s with %s; certificate for %s from %q valid until %s; %s", tls.VersionName(st.Version), tls.CipherSuiteName(st.CipherSuite),
			strings.Join(append(slices.Clone(leaf.DNSNames), ipStrings(leaf.IPAddresses)...), ", "), leaf.Issuer.CommonName, leaf.NotAfter.UTC().Format(time.DateOnly), staple),
		"enable OCSP stapling at the TLS terminator where it is offered"))
	return res, nil
}

// weakSuites returns the TLS 1.2 suites outside readiness.SecureCipherSuites
// the server accepts, offering all of them and removing each accepted one
// until the server refuses the rest.
func (c *Checker) weakSuites(ctx context.Context) []string {
	var offer []uint16
	for _, s := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		if !readiness.SecureCipherSuite(s.ID) && slices.Contains(s.SupportedVersions, tls.VersionTLS12) {
			offer = append(offer, s.ID)
		}
	}
	var got []string
	for len(offer) > 0 {
		st, err := c.handshake(ctx, &tls.Config{MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12, CipherSuites: slices.Clone(offer)})
		if err != nil {
			break
		}
		got = append(got, tls.CipherSuiteName(st.CipherSuite))
		i := slices.Index(offer, st.CipherSuite)
		if i < 0 {
			break // the server chose a suite we did not offer; the handshake would have failed
		}
		offer = slices.Delete(offer, i, i+1)
	}
	return got
}

func selfSigned(c *x509.Certificate) bool {
	return c.Issuer.String() == c.Subject.String() && c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

func ipStrings(ips []net.IP) []string {
	out := make([]string, len(ips))
	for i, ip := range ips {
		out[i] = ip.String()
	}
	return out
}

// finding builds a finding; the item comes from the catalogue.
func finding(id string, sev readiness.Severity, seen, fix string) readiness.Finding {
	f := readiness.Finding{ID: id, Severity: sev, Seen: seen, Fix: fix}
	if info, ok := readiness.Lookup(id); ok {
		f.Item = info.Item
	}
	return f
}
