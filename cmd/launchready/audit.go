package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/launchready/launchready/audit"
	auditpg "github.com/launchready/launchready/audit/postgres"
)

func init() {
	commands = append(commands, command{name: "audit", summary: "audit verify: check an audit trail's hash chain (file or PostgreSQL)", run: runAudit})
}

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprintln(stderr, "usage: launchready audit verify [-anchor SEQ:HASH] FILE|postgres://ROLE@HOST/DB")
		return exitCantRun
	}
	fs := newFlagSet("audit verify", stderr)
	anchorFlag := fs.String("anchor", "", "the SEQ:HASH a previous verification printed: also catch records cut off the end or a trail rewritten from the start")
	timeout := fs.Duration("timeout", time.Minute, "give up after this long")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: launchready audit verify [-anchor SEQ:HASH] FILE|postgres://ROLE@HOST/DB")
		fmt.Fprintln(stderr, "Verifies the hash chain of an audit trail and names the first edited, deleted, inserted or reordered record.")
		fs.PrintDefaults()
	}
	if code, ok := parseFlags(fs, args[1:]); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return exitCantRun
	}
	anchor, err := parseAnchor(*anchorFlag)
	if err != nil {
		fmt.Fprintln(stderr, "launchready audit verify:", err)
		return exitCantRun
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	src := fs.Arg(0)
	var last audit.Link
	var checked int
	if strings.HasPrefix(src, "postgres://") || strings.HasPrefix(src, "postgresql://") {
		conn, cerr := pgx.Connect(ctx, src)
		if cerr != nil {
			fmt.Fprintln(stderr, "launchready audit verify: connect:", cerr)
			return exitCantRun
		}
		defer conn.Close(context.Background())
		rep, verr := auditpg.Verify(ctx, conn, anchor)
		last, checked, err = rep.Last, rep.Checked, verr
	} else {
		rep, verr := audit.VerifyFile(src, anchor)
		last, checked, err = rep.Last, rep.Checked, verr
		if err == nil && rep.Unchained > 0 {
			fmt.Fprintf(stdout, "note: %d leading records carry no hash (written before the chain) and are not verified\n", rep.Unchained)
		}
	}
	if errors.Is(err, audit.ErrChainBroken) {
		fmt.Fprintln(stdout, "FAIL", err)
		return exitFailed
	}
	if err != nil {
		fmt.Fprintln(stderr, "launchready audit verify:", err)
		return exitCantRun
	}
	fmt.Fprintf(stdout, "ok: %d records verified as one chain; last %d:%s\n", checked, last.Seq, last.Hash)
	fmt.Fprintf(stdout, "keep the last SEQ:HASH where the servers cannot write, and pass it as -anchor next time\n")
	return exitOK
}

// parseAnchor reads SEQ:HASH ("" is no anchor).
func parseAnchor(s string) (audit.Link, error) {
	if s == "" {
		return audit.Link{}, nil
	}
	seq, hash, ok := strings.Cut(s, ":")
	n, err := strconv.ParseUint(seq, 10, 64)
	_, herr := hex.DecodeString(hash)
	if !ok || err != nil || n == 0 || len(hash) != 64 || herr != nil {
		return audit.Link{}, fmt.Errorf("-anchor %q is not SEQ:HASH (a positive number, a colon and 64 hex digits) as a previous run printed", s)
	}
	return audit.Link{Seq: n, Hash: strings.ToLower(hash)}, nil
}
