package readiness

import (
	"context"
	"fmt"
	"net/http"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/launchready/launchready/readiness/egress"
)

// Deployment safety (scorecard item 9): build provenance, server timeouts,
// graceful shutdown, TLS floor, outbound clients.

func init() {
	registerBuiltin("deploy/provenance", checkProvenance)
	registerBuiltin("deploy/server", checkServer)
	registerBuiltin("deploy/clients", checkClients)
}

func buildSetting(bi *debug.BuildInfo, key string) (string, bool) {
	for _, s := range bi.Settings {
		if s.Key == key {
			return s.Value, true
		}
	}
	return "", false
}

func checkProvenance(_ context.Context, in *Inspection) []Finding {
	bi := in.Target.Build
	if bi == nil {
		var ok bool
		if bi, ok = debug.ReadBuildInfo(); !ok {
			bi = &debug.BuildInfo{}
		}
		// go test never stamps VCS information into test binaries; the
		// provenance of the real binary is checked when it boots (Gate).
		if strings.HasSuffix(bi.Path, ".test") {
			return []Finding{{
				ID: "DEPLOY001", Severity: Info,
				Seen: "running inside a test binary, which go test does not stamp with VCS information; provenance is checked by the gate at boot",
				Fix:  "nothing to do in tests; set Target.Build to test this check",
			}}
		}
	}
	var out []Finding
	rev, hasRev := buildSetting(bi, "vcs.revision")
	version := bi.Main.Version
	if !hasRev || rev == "" {
		seen := "the binary carries no VCS revision"
		if version == "" || version == "(devel)" {
			seen += " and no module version"
		} else {
			seen += fmt.Sprintf(" (module version %s)", version)
		}
		out = append(out, Finding{
			ID: "DEPLOY001", Severity: Blocker, ProductionOnly: true,
			Seen: seen + ", so nobody can say which commit is running or what to roll back to",
			Fix:  "build with `go build` from a git checkout (not with -buildvcs=false, and not from a copy without .git); check with `go version -m <binary>` that vcs.revision is set",
		})
	}
	if modified, _ := buildSetting(bi, "vcs.modified"); modified == "true" {
		out = append(out, Finding{
			ID: "DEPLOY002", Severity: Blocker, ProductionOnly: true,
			Seen: fmt.Sprintf("the binary was built from a working tree with uncommitted changes (revision %s)", short(rev)),
			Fix:  "commit, then build from the clean tree in CI so the revision names exactly what runs",
		})
	}
	return out
}

func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	if rev == "" {
		return "unknown"
	}
	return rev
}

func checkServer(_ context.Context, in *Inspection) []Finding {
	srv := in.Target.Server
	var out []Finding
	timeout := func(field string, sev Severity, why, fix string) {
		out = append(out, Finding{
			ID: "DEPLOY003", Severity: sev,
			Seen: fmt.Sprintf("http.Server.%s is not set: %s", field, why),
			Fix:  fix,
		})
	}
	if srv.ReadHeaderTimeout <= 0 && srv.ReadTimeout <= 0 {
		timeout("ReadHeaderTimeout", Blocker, "a slow client can hold a connection open forever by trickling headers (slowloris)",
			"set ReadHeaderTimeout, e.g. 5 * time.Second")
	}
	if srv.ReadTimeout <= 0 {
		timeout("ReadTimeout", Blocker, "a client can upload a body as slowly as it likes",
			"set ReadTimeout, e.g. 30 * time.Second (longer than your largest upload needs)")
	}
	if srv.WriteTimeout <= 0 {
		timeout("WriteTimeout", Blocker, "a client that stops reading holds the handler and its memory forever",
			"set WriteTimeout, e.g. 60 * time.Second (longer than your slowest export needs)")
	}
	if srv.IdleTimeout <= 0 {
		timeout("IdleTimeout", Warning, "idle keep-alive connections fall back to ReadTimeout or stay open",
			"set IdleTimeout, e.g. 120 * time.Second")
	}
	if srv.MaxHeaderBytes <= 0 {
		timeout("MaxHeaderBytes", Warning, "the header limit is Go's default of 1 MiB, far more than a portal needs",
			"set MaxHeaderBytes, e.g. 64 << 10")
	}
	if in.Target.ShutdownTimeout <= 0 {
		out = append(out, Finding{
			ID: "DEPLOY004", Severity: Warning,
			Seen: "no graceful shutdown is declared: a deploy or scale-down cuts in-flight requests (logins, uploads, exports)",
			Fix:  "serve with readiness.Launch or readiness.Serve, or drain with http.Server.Shutdown on SIGTERM and set Target.ShutdownTimeout",
		})
	}
	if problems := tlsConfigProblems(srv.TLSConfig); len(problems) > 0 {
		out = append(out, Finding{
			ID: "DEPLOY005", Severity: Blocker,
			Seen: "the server's TLS configuration " + strings.Join(problems, "; and it "),
			Fix:  "set TLSConfig.MinVersion to tls.VersionTLS12 (or leave it zero) and TLSConfig.CipherSuites to readiness.SecureCipherSuites() (ECDHE with AES-GCM or ChaCha20-Poly1305, Mozilla's intermediate profile), or MinVersion to tls.VersionTLS13",
		})
	}
	if len(in.Target.AllowedHosts) == 0 {
		if _, ok := Find[interface{ AllowedHosts() []string }](in.Chain); !ok {
			out = append(out, Finding{
				ID: "DEPLOY007", Severity: Warning,
				Seen: "no Host allowlist: the server answers any Host header, which helps DNS rebinding and poisons absolute links such as password-reset URLs",
				Fix:  "reject unknown hosts in front of the app (load balancer or middleware) and list them in Target.AllowedHosts; build reset links from configuration, never from r.Host",
			})
		}
	}
	return out
}

func checkClients(_ context.Context, in *Inspection) []Finding {
	names := make([]string, 0, len(in.Target.Clients))
	for name := range in.Target.Clients {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []Finding
	for _, name := range names {
		c := in.Target.Clients[name]
		switch {
		case c == nil:
			out = append(out, Finding{ID: "DEPLOY006", Severity: Blocker,
				Seen: fmt.Sprintf("outbound client %q is nil, so calls fall back to http.DefaultClient, which has no timeout", name),
				Fix:  "build the client with egress.NewClient (timeouts and an SSRF guard)"})
			continue
		case c == http.DefaultClient:
			out = append(out, Finding{ID: "DEPLOY006", Severity: Blocker,
				Seen: fmt.Sprintf("outbound client %q is http.DefaultClient, which has no timeout: a hung provider hangs the portal", name),
				Fix:  "build the client with egress.NewClient (timeouts and an SSRF guard)"})
			continue
		case c.Timeout <= 0:
			out = append(out, Finding{ID: "DEPLOY006", Severity: Blocker,
				Seen: fmt.Sprintf("outbound client %q has no Timeout: a hung provider hangs the portal's handlers", name),
				Fix:  "set http.Client.Timeout (e.g. 10 * time.Second), or build it with egress.NewClient"})
		}
		if _, guarded := c.Transport.(interface{ Guard() *egress.Guard }); !guarded {
			out = append(out, Finding{ID: "DEPLOY007", Severity: Warning,
				Seen: fmt.Sprintf("outbound client %q has no SSRF guard: a URL from user input or a redirect can reach loopback, private or cloud-metadata addresses", name),
				Fix:  "build it with egress.NewClient; list trusted internal hosts in egress.Config.Allow"})
		}
	}
	return out
}
