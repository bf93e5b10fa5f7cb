package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/launchready/launchready/audit"
	"github.com/launchready/launchready/examples/portalapp"
	"github.com/launchready/launchready/readiness"
)

// Server implementations of -serve.
const (
	implKit  = "kit"
	implBare = "bare"
	// implKitTmpfs is the kit with its audit file on a memory-backed file
	// system (-tmpfs-audit): every record is still appended and fsynced,
	// but an fsync costs nothing there, so it shows the kit without the
	// disk's share. Only -saturate knows it; its server process is a kit.
	implKitTmpfs = "kit-tmpfs"
)

// serve is the server process of -saturate: it builds the portal with
// every protection on (kit, as examples/portal does, the boot gate
// included) or its bare twin (portalapp.BuildBare), listens on a loopback
// port, prints "serving <url>" on out, and serves until in closes. cpu >= 0
// pins it to that CPU first; cpuProfile names a file for a CPU profile of
// the serving (go tool pprof -top). commitDelay is the kit's audit
// group-commit delay (portalapp.Options.AuditCommitDelay: 0 the default,
// negative off).
func serve(impl string, cpu int, auditFile, cpuProfile string, commitDelay time.Duration, in io.Reader, out io.Writer) error {
	if impl != implKit && impl != implBare {
		return fmt.Errorf("-serve %q: use %s or %s", impl, implKit, implBare)
	}
	if cpu >= 0 {
		if err := pinTo(cpu); err != nil {
			return fmt.Errorf("pinning the server to CPU %d: %w", cpu, err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	var srv *http.Server
	var url string
	closeApp := func() error { return nil }
	if impl == implKit {
		dir, err := os.MkdirTemp("", "loadgen-serve-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if auditFile == "" {
			auditFile = filepath.Join(dir, "audit.jsonl")
		}
		p, err := portalapp.Build(portalapp.Options{Env: readiness.Development, Addr: ln.Addr().String(), OutboxDir: dir, AuditFile: auditFile, AuditCommitDelay: commitDelay})
		if err != nil {
			return err
		}
		if err := readiness.Gate(context.Background(), p.Target, nil); err != nil {
			p.Close()
			return err
		}
		srv, url = p.Server, p.PublicURL
		closeApp = func() error {
			printAuditStats(os.Stderr, p) // the parent passes our stderr through
			err := p.Close()
			// Then, for the parent (startServer), the audit trail's group
			// commit as one line of JSON on stdout.
			if p.AuditFile != nil {
				b, _ := json.Marshal(newAuditReport(p.AuditFile.Stats(), commitDelay))
				fmt.Fprintf(out, "%s%s\n", auditStatsPrefix, b)
			}
			return err
		}
	} else {
		b, err := portalapp.BuildBare(portalapp.Options{Addr: ln.Addr().String()})
		if err != nil {
			return err
		}
		srv, url = b.Server, b.PublicURL
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	go func() { _ = srv.Serve(ln) }()
	fmt.Fprintf(out, "serving %s\n", url)
	_, _ = io.Copy(io.Discard, in) // until the parent closes our stdin
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(ctx)
	if cerr := closeApp(); err == nil {
		err = cerr
	}
	return err
}

// auditStatsPrefix starts the line on which a -serve kit process reports
// its audit trail's group commit when it stops.
const auditStatsPrefix = "audit-stats "

// auditReport is the kit server's audit file at the end of a run: how the
// group commit shared its fsyncs (in the results file's fixed-rate runs).
type auditReport struct {
	Records uint64 `json:"records"`
	Syncs   uint64 `json:"fsyncs"`
	// PerSync is records per fsync; MaxBatch the most one fsync covered.
	PerSync  float64 `json:"records_per_fsync"`
	MaxBatch int     `json:"max_batch"`
	// SyncMeanUs is the mean time of one fsync (wall time, µs).
	SyncMeanUs float64 `json:"fsync_mean_us"`
	// CommitDelayUs is the group commit's delay (0: off).
	CommitDelayUs float64 `json:"commit_delay_us"`
}

func newAuditReport(st audit.FileStats, commitDelay time.Duration) auditReport {
	r := auditReport{Records: st.Records, Syncs: st.Syncs + st.SyncErrors, PerSync: st.RecordsPerSync(), MaxBatch: st.MaxBatch}
	if r.Syncs > 0 {
		r.SyncMeanUs = us(st.SyncTime) / float64(r.Syncs)
	}
	switch {
	case commitDelay == 0:
		r.CommitDelayUs = us(audit.DefaultCommitDelay) // the portal's default
	case commitDelay > 0:
		r.CommitDelayUs = us(commitDelay)
	}
	return r
}

// child is a server process started by startServer.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	url   string
	// audit is what the kit server reported when it stopped (nil before,
	// and for the bare twin); out is closed when its stdout is read.
	audit *auditReport
	out   chan struct{}
}

// startServer re-executes this binary as `-serve impl` (pinned to cpu when
// cpu >= 0) and waits for its address.
func startServer(impl string, cpu int, auditFile string, commitDelay time.Duration) (*child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	args := []string{"-serve", impl, "-cpu", strconv.Itoa(cpu)}
	if auditFile != "" {
		args = append(args, "-audit", auditFile)
	}
	if commitDelay != 0 {
		args = append(args, "-commit-delay", commitDelay.String())
	}
	cmd := exec.Command(self, args...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, stdin: stdin}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "serving ")
	if err != nil || !ok {
		c.stop()
		return nil, fmt.Errorf("server process (-serve %s) did not start: %q %v", impl, line, err)
	}
	c.url = url
	c.out = make(chan struct{})
	go func() {
		defer close(c.out)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), auditStatsPrefix); ok {
				var a auditReport
				if json.Unmarshal([]byte(rest), &a) == nil {
					c.audit = &a
				}
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	return c, nil
}

// cpu is the server process's CPU time so far.
func (c *child) cpu() (time.Duration, error) { return cpuTime(c.cmd.Process.Pid) }

// stop closes the server's stdin (a graceful shutdown) and waits for it;
// after 15 s it is killed.
func (c *child) stop() error {
	c.stdin.Close()
	done := make(chan error, 1)
	go func() {
		if c.out != nil {
			<-c.out // Wait closes stdout: read it to the end first
		}
		done <- c.cmd.Wait()
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(15 * time.Second):
		_ = c.cmd.Process.Kill()
		return fmt.Errorf("server process did not stop; killed: %v", <-done)
	}
}
