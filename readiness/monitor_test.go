package readiness_test

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/audit"
	"github.com/launchready/launchready/monitor"
	"github.com/launchready/launchready/readiness"
)

type monPortal struct {
	publicDetail bool
	noLive       bool
	noReady      bool
	noRecovery   bool
	noCounters   bool
	noAudit      bool
	routeAudit   bool // audit only on "POST /api/clients/{id}/tickets"
	logSinkOnly  bool
}

func (p monPortal) target(t *testing.T) readiness.Target {
	t.Helper()
	health, err := monitor.NewHealth(monitor.HealthConfig{
		InsecurePublicDetail: p.publicDetail,
		Dependencies: []monitor.Dependency{{Name: "db", Timeout: time.Second,
			Ping: func(context.Context) error { return nil }}},
	})
	require.NoError(t, err)
	var sink audit.Sink = &audit.MemorySink{}
	if p.logSinkOnly {
		sink = audit.Tee{audit.LogSink{}, audit.LogSink{}}
	}
	auditor, err := audit.New(audit.Config{Sink: sink, ClientIP: clientIPForAudit})
	require.NoError(t, err)

	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	inv := newInventory()
	if !p.noLive {
		inv.Handle("GET /healthz", health.Liveness())
	}
	if !p.noReady {
		inv.Handle("GET /readyz", health.Readiness())
	}
	inv.Handle("GET /api/clients/{id}", ok)
	if p.routeAudit {
		inv.Handle("POST /api/clients/{id}/tickets", auditor.Handler(ok))
	} else {
		inv.Handle("POST /api/clients/{id}/tickets", ok)
	}
	inv.Handle("PATCH /api/tickets/{id}", ok)

	var h http.Handler = inv
	if !p.noAudit && !p.routeAudit {
		h = auditor.Handler(h)
	}
	if !p.noCounters {
		h = monitor.NewCounters().Handler(h)
	}
	if !p.noRecovery {
		h = monitor.Recover(trackerReporter{}).Handler(h)
	}
	return readiness.Target{Server: &http.Server{Handler: h}, Env: readiness.Production, Release: declaredRelease()}
}

func monIDs(t *testing.T, target readiness.Target) []string {
	t.Helper()
	rep, err := readiness.Run(context.Background(), target)
	require.NoError(t, err)
	var out []string
	for _, f := range rep.Findings {
		if strings.HasPrefix(f.ID, "MON") || strings.HasPrefix(f.ID, "AUDIT") {
			out = append(out, f.ID+" "+f.Severity.String()+" "+f.Route)
		}
	}
	sort.Strings(out)
	return out
}

func TestMonitorAndAuditChecks(t *testing.T) {
	tests := []struct {
		name   string
		portal monPortal
		want   []string
	}{
		{"good", monPortal{}, nil},
		{"audit per route", monPortal{noAudit: true, routeAudit: true}, []string{"AUDIT001 blocker PATCH /api/tickets/{id}"}},
		{"no liveness", monPortal{noLive: true}, []string{"MON001 blocker "}},
		{"no health at all", monPortal{noLive: true, noReady: true}, []string{"MON001 blocker ", "MON001 blocker "}},
		{"no recovery", monPortal{noRecovery: true}, []string{"MON002 blocker "}},
		{"no counters", monPortal{noCounters: true}, []string{"MON003 warning "}},
		{"public detail", monPortal{publicDetail: true}, []string{"MON004 warning GET /readyz"}},
		{"no audit", monPortal{noAudit: true}, []string{"AUDIT001 blocker PATCH /api/tickets/{id}", "AUDIT001 blocker POST /api/clients/{id}/tickets"}},
		{"log sink only", monPortal{logSinkOnly: true}, []string{"AUDIT002 warning "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, monIDs(t, tt.portal.target(t)))
		})
	}
}

// Without a route inventory AUTH001 blocks and nothing route-level can be
// verified: the MON and AUDIT checks stay silent instead of guessing. A
// plain ServeMux is listed for the assessment, so they judge its routes.
func TestMonitorChecksWithoutInventory(t *testing.T) {
	target := readiness.Target{Server: &http.Server{Handler: http.HandlerFunc(http.NotFound)}}
	assert.Nil(t, monIDs(t, target))
	plain := http.NewServeMux()
	plain.HandleFunc("POST /api/notes", http.NotFound)
	target = readiness.Target{Server: &http.Server{Handler: plain}}
	assert.Equal(t, []string{"AUDIT001 blocker POST /api/notes", "MON001 blocker ", "MON001 blocker ", "MON002 blocker ", "MON003 warning ", "MON005 blocker "}, monIDs(t, target))
}

func TestAuditSinkMixedIsDurable(t *testing.T) {
	a, err := audit.New(audit.Config{Sink: audit.Tee{audit.LogSink{}, &audit.MemorySink{}}, ClientIP: clientIPForAudit})
	require.NoError(t, err)
	p := monPortal{noAudit: true}
	target := p.target(t)
	target.Server.Handler = a.Handler(target.Server.Handler)
	assert.Nil(t, monIDs(t, target))
}

func TestRecoveryPerRoute(t *testing.T) {
	build := func(all bool) readiness.Target {
		p := monPortal{noRecovery: true}
		target := p.target(t)
		inv, found := readiness.Find[*inventory](readiness.Walk(target.Server.Handler))
		require.True(t, found)
		for pat := range inv.h {
			if all || pat == "GET /healthz" {
				inv.h[pat] = monitor.Recover(nil).Handler(inv.h[pat])
			}
		}
		return target
	}
	assert.Nil(t, monIDs(t, build(true)), "every route recovers on its own")
	ids := monIDs(t, build(false))
	assert.Equal(t, []string{"MON002 blocker "}, ids, "recovery covers one route only")
	rep, err := readiness.Run(context.Background(), build(false))
	require.NoError(t, err)
	assert.Contains(t, rep.ByID("MON002")[0].Seen, "covers only some routes")
}

// clientIPForAudit stands in for the app's trusted-proxy client address.
func clientIPForAudit(r *http.Request) string { return r.RemoteAddr }
