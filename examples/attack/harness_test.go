// Package attack_test is launchready's attack and fault suite: the example
// portal (examples/portal) built once per test binary, run as a real process
// on a loopback port, and attacked black-box through its HTTP contract
// (DESIGN.md, "The example portal's contract"). Each attack class of issue 13
// has one named test; every test counts its attempts and failures and logs
// them (run with -v to see the tallies, printed again at the end).
package attack_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/examples/portalapp"
	"github.com/launchready/launchready/mfa"
)

// Demo accounts of the portal's contract.
const (
	adminEmail   = "admin@acme.test"
	agentEmail   = "agent@acme.test"
	aliceEmail   = "alice@client-a.test" // client user, tenant client-a
	bobEmail     = "bob@client-b.test"   // client user, tenant client-b
	demoPassword = "demo-password-123"
)

// portalBin is the portal binary built once by TestMain.
var portalBin string

// errBlocked: the portal refused to boot in development mode.
var errBlocked = errors.New("portal refused to boot")

// buildErr is set when the portal could not be built; every test that
// needs the binary fails with it.
var buildErr error

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "launchready-attack-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	// ATTACK_PORTAL_BIN runs the suite against a portal binary built
	// elsewhere (another branch, a release build); by default the suite
	// builds ./examples/portal of this tree.
	if bin := os.Getenv("ATTACK_PORTAL_BIN"); bin != "" {
		portalBin = bin
	} else {
		portalBin = filepath.Join(dir, "portal")
		cmd := exec.Command("go", "build", "-o", portalBin, "github.com/launchready/launchready/examples/portal")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./examples/portal: %v\n%s", err, out)
		}
	}
	code := m.Run()
	printTallies()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// syncBuffer collects a process's output from its pipes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// portal is one running portal process.
type portal struct {
	t      *testing.T
	cmd    *exec.Cmd
	addr   string // host:port
	base   string // scheme://host:port
	tls    bool
	out    *syncBuffer // stdout and stderr: the app log and access log (JSON lines)
	done   chan struct{}
	outbox string // development mail directory

	mfaMu   sync.Mutex
	mfaStep int64 // last TOTP step of the demo admin used on this portal
}

type portalOpts struct {
	router string // -router; default servemux (authz.Mux)
	tls    bool
	host   string // listen host; default 127.0.0.1
	audit  string // audit file; default audit.jsonl in a test directory
}

// startPortal runs the portal binary in development mode on a free loopback
// port, waits until /healthz answers 200, and kills it when the test ends.
func startPortal(t *testing.T, opts ...portalOpts) *portal {
	t.Helper()
	require.NoError(t, buildErr)
	var o portalOpts
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.host == "" {
		o.host = "127.0.0.1"
	}
	var lastErr error
	for try := 0; try < 3; try++ {
		p, err := launchPortal(t, o)
		if err == nil {
			return p
		}
		if errors.Is(err, errBlocked) {
			t.Fatalf("examples/portal refuses to boot in development: %v", tail(err.Error(), 2000))
		}
		lastErr = err
	}
	t.Fatalf("portal did not start: %v", lastErr)
	return nil
}

func launchPortal(t *testing.T, o portalOpts) (*portal, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(o.host, "0"))
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	if o.audit == "" {
		o.audit = filepath.Join(t.TempDir(), "audit.jsonl")
	}
	outbox := t.TempDir()
	args := []string{"-addr", addr, "-env", "development", "-outbox", outbox, "-audit", o.audit}
	if o.router != "" {
		args = append(args, "-router", o.router)
	}
	scheme := "http"
	if o.tls {
		args = append(args, "-tls")
		scheme = "https"
	}
	p := &portal{t: t, addr: addr, base: scheme + "://" + addr, tls: o.tls, out: &syncBuffer{}, done: make(chan struct{}), outbox: outbox}
	p.cmd = exec.Command(portalBin, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	stop := func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	c := p.client()
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-p.done:
			if strings.Contains(p.out.String(), "BLOCKED") {
				return nil, fmt.Errorf("%w: %s", errBlocked, p.out.String())
			}
			return nil, fmt.Errorf("portal exited: %s", p.out.String())
		default:
		}
		res, err := c.get("/healthz")
		if err == nil && res.status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("no healthy /healthz within 60s: %v; output: %s", err, p.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("portal output (last 4 KiB):\n%s", tail(p.out.String(), 4096))
		}
	})
	return p, nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// pid is the portal's process ID.
func (p *portal) pid() int { return p.cmd.Process.Pid }

// alive reports whether the process is still running.
func (p *portal) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// client is one user agent with its own cookie jar.
type client struct {
	p   *portal
	hc  *http.Client
	jar http.CookieJar
}

// client returns a new anonymous client (fresh cookie jar, no redirects
// followed, self-signed certificate accepted under -tls).
func (p *portal) client() *client {
	return p.clientFrom(nil)
}

// clientFrom returns a client whose connections leave from the given local
// address (any 127.0.0.0/8 address is loopback on Linux): a distinct client
// IP for the portal's per-IP limits.
func (p *portal) clientFrom(local net.IP) *client {
	jar, _ := cookiejar.New(nil)
	d := &net.Dialer{Timeout: 10 * time.Second}
	if local != nil {
		d.LocalAddr = &net.TCPAddr{IP: local}
	}
	tr := &http.Transport{
		DialContext:         d.DialContext,
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // the portal's certificate is generated at start
		MaxIdleConnsPerHost: 64,
		ForceAttemptHTTP2:   false,
	}
	hc := &http.Client{
		Jar: jar, Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return &client{p: p, hc: hc, jar: jar}
}

// response is a read response.
type response struct {
	status int
	header http.Header
	body   []byte
	dur    time.Duration
}

func (r *response) String() string {
	return fmt.Sprintf("%d %s", r.status, strings.TrimSpace(string(r.body[:min(len(r.body), 200)])))
}

// req sends a request. body: nil, string or []byte (sent as is), anything
// else is JSON-encoded; a non-nil body gets Content-Type application/json
// unless hdr sets one. hdr is name, value pairs (Add, so repeats stay).
func (c *client) req(method, path string, body any, hdr ...string) (*response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(raw)
	}
	r, err := http.NewRequest(method, c.p.base+path, rd)
	if err != nil {
		return nil, err
	}
	if rd != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if strings.EqualFold(hdr[i], "Content-Type") || strings.EqualFold(hdr[i], "Host") {
			if strings.EqualFold(hdr[i], "Host") {
				r.Host = hdr[i+1]
				continue
			}
			r.Header.Set(hdr[i], hdr[i+1])
			continue
		}
		r.Header.Add(hdr[i], hdr[i+1])
	}
	start := time.Now()
	res, err := c.hc.Do(r)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	return &response{status: res.StatusCode, header: res.Header, body: raw, dur: time.Since(start)}, nil
}

func (c *client) get(path string, hdr ...string) (*response, error) {
	return c.req(http.MethodGet, path, nil, hdr...)
}

// must sends a request and fails the test on a transport error.
func (c *client) must(t *testing.T, method, path string, body any, hdr ...string) *response {
	t.Helper()
	res, err := c.req(method, path, body, hdr...)
	require.NoError(t, err, "%s %s", method, path)
	return res
}

// login posts the demo credentials (or any) and reports the response.
func (c *client) login(t *testing.T, email, password string, hdr ...string) *response {
	t.Helper()
	return c.must(t, http.MethodPost, "/api/login", map[string]string{"email": email, "password": password}, hdr...)
}

// signedIn returns a client signed in as the demo account.
func (p *portal) signedIn(t *testing.T, email string) *client {
	t.Helper()
	c := p.client()
	res := c.signIn(t, email)
	require.Equal(t, http.StatusOK, res.status, "login of %s: %s", email, res)
	return c
}

// signIn signs email in with the demo password and, when the portal asks
// for it (the demo admin is enrolled), the second factor; it returns the
// response of the last step, which carries the session cookie.
func (c *client) signIn(t *testing.T, email string) *response {
	t.Helper()
	res := c.login(t, email, demoPassword)
	if res.status != http.StatusOK || !bytes.Contains(res.body, []byte(`"mfa_required":true`)) {
		return res
	}
	return c.must(t, http.MethodPost, "/api/login/mfa", map[string]string{"code": c.p.adminCode(t)})
}

// adminCode returns a TOTP code of the demo admin that this portal has not
// accepted yet (it refuses a step used before): the current step's, then
// the next step's; past that it waits for the clock to reach a new step.
func (p *portal) adminCode(t *testing.T) string {
	t.Helper()
	p.mfaMu.Lock()
	defer p.mfaMu.Unlock()
	period := int64(mfa.Period / time.Second)
	deadline := time.Now().Add(2 * mfa.Period)
	for {
		cur := time.Now().Unix() / period
		if step := max(cur, p.mfaStep+1); step <= cur+1 {
			p.mfaStep = step
			code, err := mfa.Code(portalapp.DemoTOTPSecret, time.Unix(step*period, 0))
			require.NoError(t, err)
			return code
		}
		require.True(t, time.Now().Before(deadline), "no fresh TOTP step")
		<-time.After(time.Until(time.Unix((cur+1)*period, 0)))
	}
}

// cookies returns the jar's cookies for the portal's URL.
func (c *client) cookies() []*http.Cookie {
	u, _ := url.Parse(c.p.base + "/")
	return c.jar.Cookies(u)
}

// cookieHeader is the Cookie header the jar would send.
func (c *client) cookieHeader() string {
	var parts []string
	for _, ck := range c.cookies() {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	return strings.Join(parts, "; ")
}

// raw sends bytes on a fresh connection and parses one response: for
// request lines net/http's client would normalise (encoded paths, CONNECT,
// absolute form). It returns status 0 when the server closed the connection
// without answering.
func (p *portal) raw(t *testing.T, request string) *response {
	t.Helper()
	conn := p.dial(t)
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	_, err := io.WriteString(conn, request)
	require.NoError(t, err)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return &response{status: 0, body: []byte(err.Error())}
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return &response{status: res.StatusCode, header: res.Header, body: body}
}

// dial opens a plain or TLS connection to the portal.
func (p *portal) dial(t *testing.T) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", p.addr, 10*time.Second)
	require.NoError(t, err)
	if p.tls {
		tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, ServerName: "localhost"}) //nolint:gosec // test certificate
		require.NoError(t, tc.Handshake())
		return tc
	}
	return conn
}

// rawLine builds an HTTP/1.1 request with Host, Connection: close and the
// given extra header lines.
func (p *portal) rawLine(method, target string, headers ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", method, target, p.addr)
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// tally counts the attempts and failures of one test group.
type tally struct {
	t        *testing.T
	name     string
	attempts int
	failures int
}

var (
	talliesMu sync.Mutex
	tallies   = map[string]*tally{}
)

// newTally starts the count of a test group; the count is logged when the
// test ends and printed again after all tests.
func newTally(t *testing.T, name string) *tally {
	g := &tally{t: t, name: name}
	talliesMu.Lock()
	tallies[name] = g
	talliesMu.Unlock()
	t.Cleanup(func() { t.Logf("TALLY %s: attempts=%d failures=%d", g.name, g.attempts, g.failures) })
	return g
}

// check records one attempt; a false ok is a failure and fails the test.
func (g *tally) check(ok bool, format string, args ...any) bool {
	g.t.Helper()
	talliesMu.Lock()
	g.attempts++
	if !ok {
		g.failures++
	}
	talliesMu.Unlock()
	if !ok {
		g.t.Errorf(format, args...)
	}
	return ok
}

func printTallies() {
	talliesMu.Lock()
	defer talliesMu.Unlock()
	if len(tallies) == 0 {
		return
	}
	names := make([]string, 0, len(tallies))
	for n := range tallies {
		names = append(names, n)
	}
	sort.Strings(names)
	if !testing.Verbose() {
		return
	}
	fmt.Println("attack suite tallies:")
	for _, n := range names {
		g := tallies[n]
		fmt.Printf("  %-28s attempts=%-6d failures=%d\n", n, g.attempts, g.failures)
	}
}

// is2xx reports a success status.
func is2xx(s int) bool { return s >= 200 && s < 300 }

// discover finds a client user's ticket IDs through their own session.
func discoverTickets(t *testing.T, c *client, clientID string) []int64 {
	t.Helper()
	res := c.must(t, http.MethodGet, "/api/clients/"+clientID+"/tickets", nil)
	require.Equal(t, http.StatusOK, res.status, "list tickets of %s: %s", clientID, res)
	var ts []struct {
		ID int64 `json:"id"`
	}
	require.NoError(t, json.Unmarshal(res.body, &ts))
	require.NotEmpty(t, ts, "%s has tickets", clientID)
	ids := make([]int64, len(ts))
	for i, x := range ts {
		ids[i] = x.ID
	}
	return ids
}

// onEachRouter runs an attack against the portal on each router it can
// serve from: authz.Mux and go-chi/chi through chiauthz. The attack holds
// no router-specific code: the same requests must meet the same refusals.
func onEachRouter(t *testing.T, attack func(t *testing.T, p *portal)) {
	for _, router := range []string{"servemux", "chi"} {
		t.Run(router, func(t *testing.T) { attack(t, startPortal(t, portalOpts{router: router})) })
	}
}
