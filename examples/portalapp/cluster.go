package portalapp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/launchready/launchready/readiness"
	"github.com/launchready/launchready/session"
)

// ClusterOptions configures StartCluster.
type ClusterOptions struct {
	// Replicas is how many portal instances to run. Default 3.
	Replicas int
	// RedisURL, PostgresURL and PostgresMigrateURL are passed to every
	// replica (the migration runs once, on the first).
	RedisURL, PostgresURL, PostgresMigrateURL string
	// ProxyAddr is where the round-robin proxy listens. Default
	// 127.0.0.1:0 (a free port).
	ProxyAddr string
	// ProxySource is the loopback address the proxy connects to the
	// replicas from, the one they trust for X-Forwarded-For. Default
	// 127.0.0.2, so that clients on 127.0.0.1 are not the trusted proxy.
	ProxySource string
	// Env is the replicas' environment. The zero value is Production
	// (which refuses the demo accounts); use Development for the demo.
	Env readiness.Env
	// Log receives every replica's log. Nil discards.
	Log io.Writer
	// OutboxDir is the shared development outbox.
	OutboxDir string
}

// Cluster is several portal replicas on real loopback listeners behind a
// round-robin reverse proxy, in one process. The replicas share only what
// a real deployment shares: Redis (sessions, limits), PostgreSQL (audit)
// and the app's data (one MemoryStore and one reset-token store here,
// standing in for the app's own database); each has its own session manager, limiter,
// auditor, connection pools and HTTP server.
type Cluster struct {
	// URL is the proxy's base URL: the portal's public URL.
	URL string
	// Portals are the replicas.
	Portals []*Portal
	// Served counts the requests the proxy sent to each replica.
	Served []atomic.Int64
	// Reports are the replicas' readiness reports, from before they
	// served (readiness must not walk a server while it serves).
	Reports []*readiness.Report

	proxy   *http.Server
	servers []*http.Server
	done    []chan error
}

// StartCluster builds the replicas, checks each with the readiness gate
// (refusing blockers such as in-memory sessions with several replicas),
// and serves them and the proxy until Close.
func StartCluster(o ClusterOptions) (_ *Cluster, err error) {
	if o.Replicas == 0 {
		o.Replicas = 3
	}
	if o.Replicas < 1 {
		return nil, fmt.Errorf("portal: ClusterOptions.Replicas is %d; use 1 or more", o.Replicas)
	}
	if o.ProxyAddr == "" {
		o.ProxyAddr = "127.0.0.1:0"
	}
	if o.ProxySource == "" {
		o.ProxySource = "127.0.0.2"
	}
	src, err := net.ResolveTCPAddr("tcp", net.JoinHostPort(o.ProxySource, "0"))
	if err != nil {
		return nil, fmt.Errorf("portal: ClusterOptions.ProxySource %q: %w", o.ProxySource, err)
	}
	proxyLn, err := net.Listen("tcp", o.ProxyAddr)
	if err != nil {
		return nil, err
	}
	c := &Cluster{URL: "http://" + proxyLn.Addr().String(), Served: make([]atomic.Int64, o.Replicas)}
	defer func() {
		if err != nil {
			proxyLn.Close()
			c.Close()
		}
	}()
	data := NewMemoryStore()
	if err := Seed(data, time.Now()); err != nil {
		return nil, err
	}
	// The app's own database in a real deployment: shared by the replicas.
	resets := session.NewMemoryResetStore()
	var targets []*url.URL
	for i := range o.Replicas {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		migrate := ""
		if i == 0 {
			migrate = o.PostgresMigrateURL
		}
		p, err := Build(Options{Env: o.Env, Addr: ln.Addr().String(), PublicURL: c.URL, Store: data,
			Log: o.Log, OutboxDir: o.OutboxDir, RedisURL: o.RedisURL, PostgresURL: o.PostgresURL,
			PostgresMigrateURL: migrate, Replicas: o.Replicas, TrustedProxies: []string{o.ProxySource}, ResetStore: resets})
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("portal: replica %d: %w", i+1, err)
		}
		c.Portals = append(c.Portals, p)
		report, err := readiness.Run(context.Background(), p.Target)
		if err == nil && report.Blocked() {
			var b []string
			for _, f := range report.Blockers() {
				b = append(b, f.ID)
			}
			err = fmt.Errorf("readiness blockers: %s", strings.Join(b, ", "))
		}
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("portal: replica %d refuses to boot: %w", i+1, err)
		}
		c.Reports = append(c.Reports, report)
		p.Health.SetBoot(nil)
		done := make(chan error, 1)
		go func() { done <- p.Server.Serve(ln) }()
		c.servers, c.done = append(c.servers, p.Server), append(c.done, done)
		targets = append(targets, &url.URL{Scheme: "http", Host: ln.Addr().String()})
	}
	var next atomic.Uint64
	transport := &http.Transport{
		DialContext:         (&net.Dialer{LocalAddr: src, Timeout: 2 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
	}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			i := int((next.Add(1) - 1) % uint64(len(targets)))
			c.Served[i].Add(1)
			r.SetURL(targets[i])
			r.Out.Host = r.In.Host // the public host, which the replicas allow
			r.SetXForwarded()
		},
		Transport: transport,
		ErrorLog:  slog.NewLogLogger(slog.DiscardHandler, slog.LevelError),
	}
	c.proxy = &http.Server{Handler: rp, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 120 * time.Second}
	done := make(chan error, 1)
	go func() { done <- c.proxy.Serve(proxyLn) }()
	c.done = append(c.done, done)
	return c, nil
}

// Close shuts the proxy and the replicas down and closes their engines.
func (c *Cluster) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	if c.proxy != nil {
		errs = append(errs, c.proxy.Shutdown(ctx))
	}
	for _, s := range c.servers {
		errs = append(errs, s.Shutdown(ctx))
	}
	for _, d := range c.done {
		if err := <-d; !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	for _, p := range c.Portals {
		errs = append(errs, p.Close())
	}
	return errors.Join(errs...)
}
