package portalapp_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/audit"
	auditpg "github.com/launchready/launchready/audit/postgres"
	"github.com/launchready/launchready/examples/portalapp"
	"github.com/launchready/launchready/internal/enginetest"
	"github.com/launchready/launchready/readiness"
)

// lockedBuffer collects the replicas' logs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// browser is one client of the cluster, connecting from its own loopback
// address (the proxy, on 127.0.0.2, is the only trusted one).
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
	log  *statusLog
}

// statusLog records every response the clients got.
type statusLog struct {
	mu        sync.Mutex
	all       []int
	mutations int // 2xx answers to mutating requests
}

func (l *statusLog) add(method string, status int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all = append(l.all, status)
	if audit.Mutating(method) && status >= 200 && status < 300 {
		l.mutations++
	}
}

func newBrowser(t *testing.T, base, ip string, log *statusLog) *browser {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 2 * time.Second}
	return &browser{t: t, base: base, log: log, c: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		Transport: &http.Transport{DialContext: d.DialContext}}}
}

func (b *browser) do(method, path, body string) (int, string) {
	b.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, b.base+path, r)
	require.NoError(b.t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := b.c.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	b.log.add(method, resp.StatusCode)
	if resp.StatusCode == http.StatusServiceUnavailable {
		assert.Equal(b.t, "application/problem+json", resp.Header.Get("Content-Type"), "%s %s", method, path)
	}
	return resp.StatusCode, string(out)
}

func (b *browser) login(email, password string) int {
	code, _ := b.do(http.MethodPost, "/api/login", fmt.Sprintf(`{"email":%q,"password":%q}`, email, password))
	return code
}

// cookie returns the browser's session cookie, to replay it elsewhere.
func (b *browser) cookies() []*http.Cookie {
	u, _ := http.NewRequest(http.MethodGet, b.base, nil)
	return b.c.Jar.Cookies(u.URL)
}

// TestThreeReplicas runs three portal replicas (in-process, each on its own
// loopback listener with its own session manager, limiter, auditor and
// connection pools) on one real redis-server and one real PostgreSQL,
// behind a round-robin reverse proxy trusted for X-Forwarded-For.
func TestThreeReplicas(t *testing.T) {
	rds := enginetest.StartRedis(t)
	pg := enginetest.StartPostgres(t)
	ctx := context.Background()
	owner, err := pgxpool.New(ctx, pg.URL("postgres", "postgres"))
	require.NoError(t, err)
	defer owner.Close()
	_, err = owner.Exec(ctx, "CREATE ROLE portal_app LOGIN")
	require.NoError(t, err)

	logs := &lockedBuffer{}
	outbox := t.TempDir()
	cl, err := portalapp.StartCluster(portalapp.ClusterOptions{
		Env: readiness.Development, Log: logs, OutboxDir: outbox,
		RedisURL: rds.URL(), PostgresURL: pg.URL("portal_app", "postgres"), PostgresMigrateURL: pg.URL("postgres", "postgres"),
	})
	require.NoError(t, err)
	defer func() { assert.NoError(t, cl.Close()) }()

	for i, report := range cl.Reports {
		for _, id := range []string{"SESS010", "RATE006", "AUDIT003", "AUDIT004"} {
			assert.Empty(t, report.ByID(id), "replica %d: %s", i+1, id)
		}
	}

	statuses := &statusLog{}
	served := func() []int64 {
		out := make([]int64, len(cl.Served))
		for i := range cl.Served {
			out[i] = cl.Served[i].Load()
		}
		return out
	}

	t.Run("a session made on one replica works on the others", func(t *testing.T) {
		agent := newBrowser(t, cl.URL, "127.0.0.3", statuses)
		require.Equal(t, http.StatusOK, agent.login("agent@acme.test", portalapp.DemoPassword))
		before := served()
		for range 3 {
			code, body := agent.do(http.MethodGet, "/api/me", "")
			require.Equal(t, http.StatusOK, code)
			assert.Contains(t, body, "agent@acme.test")
		}
		after := served()
		for i := range after {
			assert.Equal(t, before[i]+1, after[i], "replica %d served one of the three", i+1)
		}

		// Logout on one replica ends the session on all of them.
		stolen := newBrowser(t, cl.URL, "127.0.0.3", statuses)
		u, _ := http.NewRequest(http.MethodGet, cl.URL, nil)
		stolen.c.Jar.SetCookies(u.URL, agent.cookies())
		code, _ := agent.do(http.MethodPost, "/api/logout", "")
		require.True(t, code >= 200 && code < 300, "logout answered %d", code)
		for range 3 {
			code, _ := stolen.do(http.MethodGet, "/api/me", "")
			assert.Equal(t, http.StatusUnauthorized, code, "a copied token is dead on every replica after logout")
		}
	})

	t.Run("a password reset on one replica ends the user's sessions on all", func(t *testing.T) {
		var bobs []*browser
		for i := range 3 {
			b := newBrowser(t, cl.URL, fmt.Sprint("127.0.0.", 10+i), statuses)
			require.Equal(t, http.StatusOK, b.login("bob@client-b.test", portalapp.DemoPassword))
			bobs = append(bobs, b)
		}
		anon := newBrowser(t, cl.URL, "127.0.0.13", statuses)
		code, _ := anon.do(http.MethodPost, "/api/password-reset", `{"email":"bob@client-b.test"}`)
		require.Equal(t, http.StatusAccepted, code)
		for _, p := range cl.Portals {
			p.Mail.Wait() // mail goes out after the response
		}
		mails, err := filepath.Glob(filepath.Join(outbox, "*.eml"))
		require.NoError(t, err)
		require.Len(t, mails, 1)
		raw, err := os.ReadFile(mails[0])
		require.NoError(t, err)
		token := regexp.MustCompile(`#reset=([A-Z2-7]+)`).FindStringSubmatch(string(raw))
		require.Len(t, token, 2)
		code, _ = anon.do(http.MethodPost, "/api/password-reset/confirm", fmt.Sprintf(`{"token":%q,"password":"a-new-long-password"}`, token[1]))
		require.Equal(t, http.StatusNoContent, code)
		for _, b := range bobs {
			for range 3 {
				code, _ := b.do(http.MethodGet, "/api/me", "")
				assert.Equal(t, http.StatusUnauthorized, code, "every session of bob ended on every replica")
			}
		}
	})

	t.Run("failed logins across replicas meet one shared lockout", func(t *testing.T) {
		attacker := newBrowser(t, cl.URL, "127.0.0.4", statuses)
		var codes []int
		for range 8 {
			codes = append(codes, attacker.login("alice@client-a.test", "wrong-password-1"))
		}
		// Five failures per account, shared through Redis: with per-replica
		// limits the round robin would allow fifteen.
		assert.Equal(t, []int{401, 401, 401, 401, 401, 429, 429, 429}, codes)
		// Another address cannot unlock the account either, nor can a
		// spoofed X-Forwarded-For.
		other := newBrowser(t, cl.URL, "127.0.0.5", statuses)
		assert.Equal(t, http.StatusTooManyRequests, other.login("alice@client-a.test", portalapp.DemoPassword))
	})

	agent := newBrowser(t, cl.URL, "127.0.0.6", statuses)
	require.Equal(t, http.StatusOK, agent.login("agent@acme.test", portalapp.DemoPassword))
	ticket := `{"subject":"Replica ticket","priority":"low"}`

	t.Run("concurrent changes on every replica make one chain", func(t *testing.T) {
		var wg sync.WaitGroup
		for range 30 {
			wg.Go(func() {
				code, _ := agent.do(http.MethodPost, "/api/clients/client-b/tickets", ticket)
				assert.Equal(t, http.StatusCreated, code)
			})
		}
		wg.Wait()
		_, err := auditpg.Verify(ctx, owner, audit.Link{})
		require.NoError(t, err)
	})

	t.Run("Redis killed: auth routes 503, then recovery without a restart", func(t *testing.T) {
		rds.Kill()
		for range 3 {
			code, _ := agent.do(http.MethodGet, "/api/me", "")
			assert.Equal(t, http.StatusServiceUnavailable, code, "never anonymous, never 500")
			code, _ = agent.do(http.MethodGet, "/api/clients/client-a", "")
			assert.Equal(t, http.StatusServiceUnavailable, code)
		}
		fresh := newBrowser(t, cl.URL, "127.0.0.7", statuses)
		assert.Equal(t, http.StatusServiceUnavailable, fresh.login("agent@acme.test", portalapp.DemoPassword))
		code, _ := fresh.do(http.MethodGet, "/healthz", "")
		assert.Equal(t, http.StatusOK, code, "liveness does not depend on Redis")

		rds.Start() // without persistence: every session is gone
		code, _ = agent.do(http.MethodGet, "/api/me", "")
		assert.Equal(t, http.StatusUnauthorized, code, "the old session is gone: sign in again")
		require.Equal(t, http.StatusOK, agent.login("agent@acme.test", portalapp.DemoPassword))
		for range 3 {
			code, _ := agent.do(http.MethodGet, "/api/me", "")
			assert.Equal(t, http.StatusOK, code)
		}
	})

	t.Run("PostgreSQL stopped: changes refused, reads work; after restart every 2xx change has its record", func(t *testing.T) {
		pg.Stop()
		for range 6 {
			code, _ := agent.do(http.MethodPost, "/api/clients/client-b/tickets", ticket)
			assert.Equal(t, http.StatusServiceUnavailable, code, "no 2xx without a record")
			code, _ = agent.do(http.MethodGet, "/api/clients/client-a/tickets", "")
			assert.Equal(t, http.StatusOK, code, "reads keep working")
		}
		pg.Start()
		// Each replica heals with its first write (a refused request's
		// record); then changes are served again.
		deadline := time.Now().Add(20 * time.Second)
		ok := 0
		for ok < 6 && time.Now().Before(deadline) {
			code, _ := agent.do(http.MethodPost, "/api/clients/client-b/tickets", ticket)
			if code == http.StatusCreated {
				ok++
			} else {
				assert.Equal(t, http.StatusServiceUnavailable, code)
			}
		}
		require.Equal(t, 6, ok, "changes are served again after PostgreSQL is back")
	})

	// The whole trail, from all three replicas, verifies as one chain, and
	// every 2xx change the clients saw has exactly one record.
	verifier, err := pgxpool.New(ctx, pg.URL("portal_app", "postgres"))
	require.NoError(t, err)
	defer verifier.Close()
	rep, err := auditpg.Verify(ctx, verifier, audit.Link{})
	require.NoError(t, err)
	assert.Positive(t, rep.Checked)
	var recorded int
	require.NoError(t, verifier.QueryRow(ctx,
		"SELECT count(*) FROM audit_records WHERE kind = 'request' AND status BETWEEN 200 AND 299").Scan(&recorded))
	statuses.mu.Lock()
	assert.Equal(t, statuses.mutations, recorded, "every 2xx change has exactly one record")
	for _, s := range statuses.all {
		assert.NotEqual(t, http.StatusInternalServerError, s)
	}
	statuses.mu.Unlock()
	assert.NotContains(t, logs.String(), "panic recovered")
}
