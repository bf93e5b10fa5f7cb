// Package enginetest starts real redis-server and PostgreSQL processes for
// the kit's tests: on free loopback ports, in temporary directories,
// PostgreSQL as an unprivileged user (it refuses to run as root). A test
// skips with a message when a binary is missing, and fails instead under
// CI=true, where .ci/run installs them. It imports only the standard
// library, so every module of the kit can use it.
package enginetest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// missing skips t, or fails it under CI=true.
func missing(t testing.TB, what, install string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is missing; CI must install it (%s)", what, install)
	}
	t.Skipf("%s is missing; install it to run this test (%s)", what, install)
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitFor reads r until a line contains want, and reports on ready whether
// it came; it drains r after.
func waitFor(r io.Reader, want string, ready chan<- bool) {
	sc := bufio.NewScanner(r)
	ok := false
	for sc.Scan() {
		if !ok && strings.Contains(sc.Text(), want) {
			ok = true
			ready <- true
		}
	}
	if !ok {
		ready <- false
	}
}

// proc is a server process the test can stop and start again on the same
// port and data.
type proc struct {
	t     testing.TB
	name  string
	ready string // the log line that says it accepts connections
	argv  func() *exec.Cmd
	mu    sync.Mutex
	cmd   *exec.Cmd
	done  chan struct{}
}

func (p *proc) start() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return
	}
	cmd := p.argv()
	dieWithTest(cmd)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("%s: %v", p.name, err)
	}
	ready := make(chan bool, 1)
	go waitFor(pr, p.ready, ready)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); pw.Close(); close(done) }()
	select {
	case ok := <-ready:
		if !ok {
			p.t.Fatalf("%s exited before it was ready", p.name)
		}
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		p.t.Fatalf("%s did not become ready in 60s", p.name)
	}
	p.cmd, p.done = cmd, done
}

// stop ends the process with sig and waits for it.
func (p *proc) stop(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	p.cmd = nil
}

// Redis is a redis-server started by the test.
type Redis struct {
	// Addr is host:port on 127.0.0.1.
	Addr string
	p    *proc
}

// URL returns the redis:// URL of the server.
func (r *Redis) URL() string { return "redis://" + r.Addr + "/0" }

// Kill stops the server abruptly (SIGKILL), as a crash.
func (r *Redis) Kill() { r.p.stop(syscall.SIGKILL) }

// Start starts it again on the same port (after Kill); its data is gone
// (no persistence), as after a crash of a cache-only Redis.
func (r *Redis) Start() { r.p.start() }

// StartRedis starts redis-server on a free loopback port; it is killed when
// the test ends.
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		missing(t, "redis-server", "apt-get install redis-server")
	}
	port := freePort(t)
	r := &Redis{Addr: fmt.Sprintf("127.0.0.1:%d", port)}
	r.p = &proc{t: t, name: "redis-server", ready: "Ready to accept connections", argv: func() *exec.Cmd {
		return exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--loglevel", "notice")
	}}
	r.p.start()
	t.Cleanup(r.Kill)
	return r
}

// Postgres is a PostgreSQL server started by the test, with trust
// authentication on loopback (roles still have their own privileges).
type Postgres struct {
	// Port is its TCP port on 127.0.0.1.
	Port int
	// Dir is the data directory.
	Dir string
	p   *proc
}

// URL returns a postgres:// URL for role on database db.
func (pg *Postgres) URL(role, db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", role, pg.Port, db)
}

// Stop shuts the server down (fast shutdown: connections are closed,
// committed data stays).
func (pg *Postgres) Stop() { pg.p.stop(syscall.SIGINT) }

// Start starts it again on the same port and data.
func (pg *Postgres) Start() { pg.p.start() }

// PostgresBin returns the directory with initdb and postgres: on PATH, or
// Debian's /usr/lib/postgresql/<version>/bin (the newest).
func PostgresBin() (string, bool) {
	if p, err := exec.LookPath("postgres"); err == nil {
		return filepath.Dir(p), true
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			return d, true
		}
	}
	return "", false
}

// StartPostgres initialises a cluster in a fresh temporary directory and
// starts it on a free loopback port; superuser "postgres", database
// "postgres". Run as root, it runs initdb and postgres as the "postgres"
// user (as runuser -u postgres would; PostgreSQL refuses root) and hands
// it the directory. It is stopped and removed when the test ends.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	bin, ok := PostgresBin()
	if !ok {
		missing(t, "PostgreSQL (postgres, initdb)", "apt-get install postgresql")
	}
	asUser := func(name string, args ...string) *exec.Cmd {
		return exec.Command(filepath.Join(bin, name), args...)
	}
	dir, err := os.MkdirTemp("", "enginetest-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			missing(t, "the unprivileged user postgres", "apt-get install postgresql creates it")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		// What runuser -u postgres does, without a process in between:
		// signals (Stop) reach postgres itself.
		asUser = func(name string, args ...string) *exec.Cmd {
			cmd := exec.Command(filepath.Join(bin, name), args...)
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
			cmd.Dir = dir
			return cmd
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := asUser("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
		"--locale=C", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	port := freePort(t)
	pg := &Postgres{Port: port, Dir: data}
	pg.p = &proc{t: t, name: "postgres", ready: "ready to accept connections", argv: func() *exec.Cmd {
		return asUser("postgres", "-D", data, "-p", strconv.Itoa(port), "-k", dir,
			"-c", "listen_addresses=127.0.0.1", "-c", "max_connections=100",
			"-c", "shared_buffers=16MB", "-c", "logging_collector=off")
	}}
	pg.p.start()
	t.Cleanup(pg.Stop)
	return pg
}
