package portalapp_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/launchready/launchready/examples/portalapp"
	"github.com/launchready/launchready/readiness"
)

// Build the portal and run its readiness checks as the boot gate does: in
// development it boots, the demo accounts are a warning; in production
// they block.
func Example() {
	dir, err := os.MkdirTemp("", "portal-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	for _, env := range []readiness.Env{readiness.Development, readiness.Production} {
		p, err := portalapp.Build(portalapp.Options{Env: env, TLS: true, OutboxDir: dir,
			AuditFile: filepath.Join(dir, "audit.jsonl"), Resolver: offline()})
		if err != nil {
			panic(err)
		}
		report, err := readiness.Run(context.Background(), p.Target)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s: blocked %v, AUTH010 %s\n", env, report.Blocked(), report.ByID("AUTH010")[0].Severity)
		_ = p.Close() // one writer per audit file
	}
	// Output:
	// development: blocked false, AUTH010 warning
	// production: blocked true, AUTH010 blocker
}
