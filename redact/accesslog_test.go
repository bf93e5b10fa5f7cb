package redact_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/redact"
	"github.com/launchready/launchready/redact/redacttest"
)

// annotate mimics authz.Mux: it walks the writer chain and annotates.
func annotate(w http.ResponseWriter, pattern, id, tenant string) {
	for w != nil {
		if s, ok := w.(interface{ SetRoute(string) }); ok {
			s.SetRoute(pattern)
		}
		if s, ok := w.(interface{ SetPrincipal(string, string) }); ok {
			s.SetPrincipal(id, tenant)
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return
		}
		w = u.Unwrap()
	}
}

func TestAccessLog(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(redact.NewHandler(slog.NewJSONHandler(&buf, nil), nil))
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { now = now.Add(5 * time.Millisecond); return now }
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		annotate(w, "GET /api/clients/{id}", "user-7", "client-a")
		w.WriteHeader(http.StatusTeapot)
		_, _ = w.Write([]byte("hello"))
	})
	al := redact.NewAccessLog(app, redact.AccessLogConfig{
		Logger: logger, Now: clock,
		ClientIP:  func(*http.Request) string { return "203.0.113.9" },
		RequestID: func(r *http.Request) string { return "req-1" },
	})
	req := httptest.NewRequest("GET", "/api/clients/42?token=reset-Abc123Def456Ghi789&q=x", nil)
	req.Header.Set("Authorization", "Bearer abc.def.ghi")
	req.Header.Set("Cookie", "session=Zm9vYmFyYmF6cXV4cXV1eGNvcmdl")
	rec := httptest.NewRecorder()
	al.ServeHTTP(rec, req)
	require.Equal(t, http.StatusTeapot, rec.Code)
	out := buf.String()
	for _, want := range []string{`"method":"GET"`, `"route":"GET /api/clients/{id}"`, `"status":418`, `"bytes":5`,
		`"client_ip":"203.0.113.9"`, `"principal":"user-7"`, `"tenant":"client-a"`, `"request_id":"req-1"`, `"duration":5000000`} {
		assert.Contains(t, out, want)
	}
	for _, never := range []string{"token", "reset-Abc", "Bearer", "session=", "/api/clients/42", "q=x"} {
		assert.NotContains(t, out, never, "access log must not record %q", never)
	}
	assert.NotNil(t, al.Unwrap())
	assert.False(t, al.LogsQuery())
	assert.False(t, al.LogsHeaders())
	assert.Contains(t, al.Fields(), "request_id")
}

func TestAccessLogUnmatchedAndPeerIP(t *testing.T) {
	var buf bytes.Buffer
	al := redact.NewAccessLog(http.NotFoundHandler(), redact.AccessLogConfig{Logger: slog.New(slog.NewTextHandler(&buf, nil))})
	req := httptest.NewRequest("GET", "/nope", nil)
	req.RemoteAddr = "[2001:db8::1]:4242"
	req.Header.Set("X-Forwarded-For", "198.51.100.1") // spoofable: never used without ClientIP
	al.ServeHTTP(httptest.NewRecorder(), req)
	assert.Contains(t, buf.String(), "route=(unmatched)")
	assert.Contains(t, buf.String(), "client_ip=2001:db8::1")
	assert.NotContains(t, buf.String(), "198.51.100.1")
}

func TestAccessLogConcurrent(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	al := redact.NewAccessLog(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		annotate(w, "GET /x", "u", "t")
	}), redact.AccessLogConfig{Logger: slog.New(slog.NewTextHandler(&lockedWriter{&mu, &buf}, nil))})
	srv := httptest.NewServer(al)
	defer srv.Close()
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(srv.URL + "/x")
			if err == nil {
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, 20, strings.Count(buf.String(), "route=\"GET /x\""))
}

// request is what a test request carries into the access log: the values
// the app and the route inventory hand it.
type request struct {
	method, route, principal, tenant, requestID, clientIP string
}

// serve sends one request with rq's values through an access log built by
// build, the app annotating route and principal as authz.Mux does.
func serve(t testing.TB, rq request, build func(http.Handler, redact.AccessLogConfig) http.Handler) {
	t.Helper()
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rq.route != "" || rq.principal != "" {
			annotate(w, rq.route, rq.principal, rq.tenant)
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte("created"))
	})
	now := time.Date(2026, 3, 14, 9, 26, 53, 589_793_238, time.UTC)
	clock := func() time.Time { now = now.Add(1250 * time.Microsecond); return now }
	h := build(app, redact.AccessLogConfig{Now: clock,
		ClientIP:  func(*http.Request) string { return rq.clientIP },
		RequestID: func(*http.Request) string { return rq.requestID }})
	r := &http.Request{Method: rq.method, URL: &url.URL{Path: "/"}, Header: http.Header{}, RemoteAddr: "192.0.2.1:1234"}
	h.ServeHTTP(httptest.NewRecorder(), r)
}

// lines returns a builder of a line-writing access log (with red, nil for
// the defaults) and the buffer it writes to.
func lines(t testing.TB, red *redact.Redactor) (*bytes.Buffer, func(http.Handler, redact.AccessLogConfig) http.Handler) {
	var buf bytes.Buffer
	return &buf, func(next http.Handler, cfg redact.AccessLogConfig) http.Handler {
		al, err := redact.NewAccessLogWriter(next, &buf, red, cfg)
		require.NoError(t, err)
		return al
	}
}

// records returns a builder of an access log through a redacting slog JSON
// handler with opts, and the buffer it writes to.
func records(opts *redact.Options) (*bytes.Buffer, func(http.Handler, redact.AccessLogConfig) http.Handler) {
	var buf bytes.Buffer
	return &buf, func(next http.Handler, cfg redact.AccessLogConfig) http.Handler {
		cfg.Logger = slog.New(redact.NewHandler(slog.NewJSONHandler(&buf, nil), opts))
		return redact.NewAccessLog(next, cfg)
	}
}

// decodeLine checks that out is exactly one line holding one JSON object
// and returns the object.
func decodeLine(t testing.TB, out []byte) map[string]any {
	t.Helper()
	require.True(t, bytes.HasSuffix(out, []byte("\n")), "a line ends with a newline: %q", out)
	require.Equal(t, 1, bytes.Count(out, []byte("\n")), "exactly one line: %q", out)
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	var m map[string]any
	require.NoError(t, dec.Decode(&m), "%q", out)
	require.False(t, dec.More(), "one object per line: %q", out)
	return m
}

func TestAccessLogWriterLine(t *testing.T) {
	buf, build := lines(t, nil)
	serve(t, request{method: "GET", route: "GET /api/clients/{id}", principal: "u-7", tenant: "client-a",
		requestID: "req-1", clientIP: "203.0.113.9"}, build)
	assert.Equal(t, `{"time":"2026-03-14T09:26:53.592Z","level":"INFO","msg":"http request","method":"GET",`+
		`"route":"GET /api/clients/{id}","status":201,"duration":1250000,"bytes":7,"client_ip":"203.0.113.9",`+
		`"principal":"u-7","tenant":"client-a","request_id":"req-1"}`+"\n", buf.String())
	m := decodeLine(t, buf.Bytes())
	assert.Equal(t, map[string]any{
		"time": "2026-03-14T09:26:53.592Z", "level": "INFO", "msg": "http request",
		"method": "GET", "route": "GET /api/clients/{id}", "status": json.Number("201"),
		"duration": json.Number("1250000"), "bytes": json.Number("7"), "client_ip": "203.0.113.9",
		"principal": "u-7", "tenant": "client-a", "request_id": "req-1",
	}, m)

	t.Run("unmatched, anonymous, no request ID, peer address", func(t *testing.T) {
		var buf bytes.Buffer
		al, err := redact.NewAccessLogWriter(http.NotFoundHandler(), &buf, nil, redact.AccessLogConfig{Message: "req"})
		require.NoError(t, err)
		r := httptest.NewRequest("GET", "/nope?token=x", nil)
		r.RemoteAddr = "[2001:db8::1]:4242"
		r.Header.Set("X-Forwarded-For", "198.51.100.1")
		al.ServeHTTP(httptest.NewRecorder(), r)
		m := decodeLine(t, buf.Bytes())
		assert.ElementsMatch(t, []string{"time", "level", "msg", "method", "route", "status", "duration", "bytes", "client_ip"}, keys(m))
		assert.Equal(t, "req", m["msg"])
		assert.Equal(t, "(unmatched)", m["route"])
		assert.Equal(t, json.Number("404"), m["status"])
		assert.Equal(t, "2001:db8::1", m["client_ip"])
		assert.NotContains(t, buf.String(), "198.51.100.1")
		assert.NotContains(t, buf.String(), "nope")
	})
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestAccessLogWriterMatchesRecords: the line writer and the slog path
// through redact.Handler log the same values — ordinary ones, secrets
// (masked alike), personal data, escapes — with the default and with custom
// redaction options.
func TestAccessLogWriterMatchesRecords(t *testing.T) {
	g := redacttest.New(21)
	tok, card := g.GitHubToken(), g.Card("4", 16)
	reqs := []request{
		{method: "GET", route: "GET /api/clients/{id}", principal: "u-7", tenant: "client-a", requestID: "req-1", clientIP: "203.0.113.9"},
		{method: "POST", route: "POST /api/login", principal: "alice.smith@client-a.test", tenant: "acme", requestID: tok, clientIP: "2001:db8::7"},
		{method: "GET", requestID: "card " + card, clientIP: "tel +49 30 1234567"},
		{method: "PROPFIND", route: "PROPFIND /dav/{path...}", principal: "u-1"},
		{method: "get", route: "GET /api/users/" + tok},
		{method: "PATCH", route: "PATCH /x/{id}", principal: "u-<8>&\"q\"", tenant: "a\nb\x1b[31m\u2028\xff", requestID: "", clientIP: ""},
	}
	for _, s := range g.Secrets(1) {
		reqs = append(reqs, request{method: "GET", route: "GET /s", principal: s.Text, tenant: "t", requestID: s.Text, clientIP: "198.51.100.2"})
	}
	optss := map[string]*redact.Options{
		"defaults": nil,
		"hashed, principal, status and duration sensitive": {HashKey: []byte("k3y-for-tests-only-0123456789abcdef"), Keys: []string{"principal", "status", "duration"}},
	}
	for name, opts := range optss {
		t.Run(name, func(t *testing.T) {
			for _, rq := range reqs {
				lbuf, lbuild := lines(t, redact.NewRedactor(opts))
				rbuf, rbuild := records(opts)
				serve(t, rq, lbuild)
				serve(t, rq, rbuild)
				line, record := decodeLine(t, lbuf.Bytes()), decodeLine(t, rbuf.Bytes())
				delete(line, "time")
				delete(record, "time")
				assert.Equal(t, record, line, "%+v", rq)
			}
		})
	}
}

func TestAccessLogWriterRedacts(t *testing.T) {
	g := redacttest.New(22)
	tok := g.GitHubToken()
	jwt := g.JWT()
	buf, build := lines(t, nil)
	serve(t, request{method: "GET", route: "GET /api/me", principal: "svc " + jwt, tenant: "alice.smith@client-a.test",
		requestID: "trace " + tok, clientIP: "203.0.113.9"}, build)
	m := decodeLine(t, buf.Bytes())
	assert.Equal(t, "trace [REDACTED:github-token]", m["request_id"])
	assert.Equal(t, "svc [REDACTED:jwt]", m["principal"])
	assert.Equal(t, "***@client-a.test", m["tenant"])
	assert.Equal(t, "203.0.113.9", m["client_ip"])
	assert.NotContains(t, buf.String(), tok)
	assert.NotContains(t, buf.String(), jwt)
	assert.NotContains(t, buf.String(), "alice.smith")

	t.Run("sensitive key and hash", func(t *testing.T) {
		key := []byte("k3y-for-tests-only-0123456789abcdef")
		buf, build := lines(t, redact.NewRedactor(&redact.Options{HashKey: key, Keys: []string{"request-id"}}))
		serve(t, request{method: "GET", principal: "u-1", tenant: "t", requestID: "req-42"}, build)
		m := decodeLine(t, buf.Bytes())
		assert.Regexp(t, `^\[REDACTED:hmac:[0-9a-f]{12}\]$`, m["request_id"])
		assert.NotContains(t, buf.String(), "req-42")
	})

	t.Run("message", func(t *testing.T) {
		var buf bytes.Buffer
		al, err := redact.NewAccessLogWriter(http.NotFoundHandler(), &buf, nil,
			redact.AccessLogConfig{Message: "request by " + "ops@acme.test"})
		require.NoError(t, err)
		al.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		assert.Equal(t, "request by ***@acme.test", decodeLine(t, buf.Bytes())["msg"])
	})
}

func TestAccessLogWriterEscapes(t *testing.T) {
	values := []string{
		"\n{\"level\":\"ERROR\",\"msg\":\"FAKE\"}",
		"\r\x00\x01\x1b[2J\x7f\t\b\f",
		`quote " backslash \ slash /`,
		"<script>&amp;</script>",
		"\u2028\u2029",
		"bad \xff\xfe utf-8 \xe2\x82",
		"ünïcödé ✓ 🎉",
	}
	for _, v := range values {
		buf, build := lines(t, nil)
		serve(t, request{method: v, route: v, principal: v, tenant: v, requestID: v, clientIP: v}, build)
		out := buf.Bytes()
		m := decodeLine(t, out)
		want := string([]rune(v)) // invalid bytes become U+FFFD
		for _, k := range []string{"method", "route", "principal", "tenant", "request_id", "client_ip"} {
			assert.Equal(t, want, m[k], "%s of %q", k, v)
		}
		for _, c := range out[:len(out)-1] {
			assert.GreaterOrEqual(t, c, byte(0x20), "raw control byte in %q", out)
		}
		assert.True(t, utf8.Valid(out), "%q", out)
		for _, raw := range []string{"<", ">", "&", "\u2028", "\u2029"} {
			assert.NotContains(t, string(out), raw)
		}
	}
}

// TestAccessLogWriterTime: the time is the request's end in UTC to the
// millisecond, across seconds, days and years, with a clock that goes
// back, in another zone, and outside four-digit years.
func TestAccessLogWriterTime(t *testing.T) {
	end := time.Date(2026, 12, 31, 23, 59, 59, 998_000_000, time.UTC)
	times := []time.Time{end, end.Add(999_999), end.Add(time.Millisecond), end.Add(2 * time.Millisecond),
		end.Add(1500 * time.Millisecond), end.Add(2 * time.Millisecond), end.Add(-time.Hour),
		time.Date(2026, 3, 29, 2, 30, 0, 123_456_789, time.FixedZone("IST", 5*3600+1800)),
		time.Date(1969, 12, 31, 23, 59, 59, 999_000_000, time.UTC), time.Unix(0, 0),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)}
	calls := 0
	var buf bytes.Buffer
	al, err := redact.NewAccessLogWriter(http.NotFoundHandler(), &buf, nil, redact.AccessLogConfig{
		Now: func() time.Time { calls++; return times[(calls-1)/2] }, // start and end
	})
	require.NoError(t, err)
	for _, want := range times {
		buf.Reset()
		al.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		m := decodeLine(t, buf.Bytes())
		assert.Equal(t, want.UTC().Format("2006-01-02T15:04:05.000Z07:00"), m["time"], "%v", want)
		assert.Equal(t, json.Number("0"), m["duration"])
	}
}

// TestAccessLogWriterRoutes: a route is logged the same from the cache; a
// route with something to redact is redacted every time.
func TestAccessLogWriterRoutes(t *testing.T) {
	tok := redacttest.New(23).GitHubToken()
	buf, build := lines(t, nil)
	for range 3 {
		for _, route := range []string{"GET /api/clients/{id}", "GET /reset/" + tok, "GET /api/clients/{id}/tickets", "GET <&>"} {
			buf.Reset()
			serve(t, request{method: "GET", route: route}, build)
			got := decodeLine(t, buf.Bytes())["route"]
			if strings.Contains(route, tok) {
				assert.Equal(t, "GET /reset/[REDACTED:github-token]", got)
			} else {
				assert.Equal(t, route, got)
			}
		}
	}
	t.Run("many routes", func(t *testing.T) {
		buf, build := lines(t, nil)
		for i := range 1500 { // past the cache's bound
			route := fmt.Sprintf("GET /r%d/{id}", i%700)
			buf.Reset()
			serve(t, request{method: "GET", route: route}, build)
			require.Equal(t, route, decodeLine(t, buf.Bytes())["route"])
		}
	})
}

func TestAccessLogWriterPanic(t *testing.T) {
	for _, wrote := range []bool{false, true} {
		buf, build := lines(t, nil)
		h := build(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			annotate(w, "GET /boom", "", "")
			if wrote {
				w.WriteHeader(http.StatusAccepted)
			}
			panic("boom")
		}), redact.AccessLogConfig{})
		assert.PanicsWithValue(t, "boom", func() {
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/boom", nil))
		}, "the panic goes on to the recovery middleware")
		m := decodeLine(t, buf.Bytes())
		want := json.Number("500")
		if wrote {
			want = json.Number("202") // what the client got
		}
		assert.Equal(t, want, m["status"])
		assert.Equal(t, "GET /boom", m["route"])
	}
}

func TestAccessLogWriterConcurrent(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	route := func(id string) string { return "GET /x/{id}/" + strconv.Itoa(len(id)%7) }
	al, err := redact.NewAccessLogWriter(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		annotate(w, route(r.PathValue("id")), "u-"+r.PathValue("id"), "t")
		_, _ = w.Write([]byte(strings.Repeat("x", len(r.URL.Path))))
	}), &lockedWriter{&mu, &buf}, nil, redact.AccessLogConfig{
		RequestID: func(r *http.Request) string { return r.URL.Path },
	})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("GET /x/{id}", al)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(fmt.Sprintf("%s/x/%d%s", srv.URL, i, strings.Repeat("p", i*50)))
			if assert.NoError(t, err) {
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	seen := map[string]bool{}
	for _, line := range strings.SplitAfter(buf.String(), "\n") {
		if line == "" {
			continue
		}
		m := decodeLine(t, []byte(line))
		id := m["request_id"].(string)
		assert.Equal(t, json.Number(strconv.Itoa(len(id))), m["bytes"], "the line's fields belong to one request")
		assert.Equal(t, route(strings.TrimPrefix(id, "/x/")), m["route"])
		seen[id] = true
	}
	assert.Len(t, seen, n, "every request logged once, whole")
}

func TestNewAccessLogWriterRefuses(t *testing.T) {
	_, err := redact.NewAccessLogWriter(http.NotFoundHandler(), nil, nil, redact.AccessLogConfig{})
	require.ErrorContains(t, err, "writer is nil")
	assert.ErrorContains(t, err, "io.Discard")
	_, err = redact.NewAccessLogWriter(http.NotFoundHandler(), io.Discard, nil,
		redact.AccessLogConfig{Logger: slog.Default()})
	require.ErrorContains(t, err, "AccessLogConfig.Logger is set")
	assert.ErrorContains(t, err, "NewAccessLog")
}

func TestAccessLogAccessors(t *testing.T) {
	red := redact.NewRedactor(nil)
	al, err := redact.NewAccessLogWriter(http.NotFoundHandler(), io.Discard, red, redact.AccessLogConfig{})
	require.NoError(t, err)
	assert.Nil(t, al.Logger())
	assert.Equal(t, io.Discard, al.Writer())
	assert.Same(t, red, al.Redactor())
	assert.False(t, al.LogsQuery())
	assert.False(t, al.LogsHeaders())
	assert.False(t, al.LogsRawPath())
	assert.NotContains(t, al.Fields(), "request_id")
	assert.NotNil(t, al.Unwrap())

	defaults, err := redact.NewAccessLogWriter(http.NotFoundHandler(), io.Discard, nil, redact.AccessLogConfig{})
	require.NoError(t, err)
	assert.NotNil(t, defaults.Redactor(), "nil is the default redactor")

	records := redact.NewAccessLog(http.NotFoundHandler(), redact.AccessLogConfig{})
	assert.NotNil(t, records.Logger())
	assert.Nil(t, records.Writer())
	assert.Nil(t, records.Redactor())
}

func ExampleNewAccessLogWriter() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/clients/{id}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"id":"client-a"}`))
	})
	now := time.Date(2026, 1, 1, 9, 30, 0, 0, time.UTC)
	al, err := redact.NewAccessLogWriter(mux, os.Stdout, nil, redact.AccessLogConfig{
		Now:       func() time.Time { now = now.Add(2 * time.Millisecond); return now },
		RequestID: func(r *http.Request) string { return r.Header.Get("X-Request-Id") },
	})
	if err != nil {
		panic(err)
	}
	r := httptest.NewRequest("GET", "/api/clients/client-a?page=2", nil) // the query is never logged
	r.Header.Set("X-Request-Id", "req from ops@acme.test")
	al.ServeHTTP(httptest.NewRecorder(), r)
	// Output:
	// {"time":"2026-01-01T09:30:00.004Z","level":"INFO","msg":"http request","method":"GET","route":"(unmatched)","status":200,"duration":2000000,"bytes":17,"client_ip":"192.0.2.1","request_id":"req from ***@acme.test"}
}
