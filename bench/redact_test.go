package bench

// Benchmarks for the redact package, side by side with peers in one run:
//
//	go test -run=^$ -bench='Redact' -benchmem -count=5 -benchtime=200ms .
//	go test -tags gore2regex -run=^$ -bench='RedactScan' -benchmem -count=5 -benchtime=200ms .
//	go test -run='TestRedactScanRecall' -v .   (recall of both on the generated corpus)

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/zricethezav/gitleaks/v8/detect"
	glregexp "github.com/zricethezav/gitleaks/v8/regexp"

	"github.com/launchready/launchready/redact"
	"github.com/launchready/launchready/redact/redacttest"
)

func tenAttrs() []slog.Attr {
	return []slog.Attr{
		slog.String("method", "GET"),
		slog.String("route", "GET /api/clients/{id}/tickets"),
		slog.Int("status", 200),
		slog.Duration("duration", 1250*time.Microsecond),
		slog.Int64("bytes", 5321),
		slog.String("client_ip", "203.0.113.42"),
		slog.String("principal", "user-1842"),
		slog.String("tenant", "client-a"),
		slog.String("request_id", "req-7f3a9c21"),
		slog.Bool("cache_hit", false),
	}
}

// BenchmarkRedactLogRecord: one record with 10 ordinary attributes through
// plain slog.JSONHandler and through redact.Handler wrapping it. Target
// (issue 8): impl=launchready at most 1.5× impl=slog-json.
func BenchmarkRedactLogRecord(b *testing.B) {
	attrs := tenAttrs()
	ctx := context.Background()
	for _, c := range []struct {
		name string
		h    slog.Handler
	}{
		{"launchready", redact.NewHandler(slog.NewJSONHandler(io.Discard, nil), nil)},
		{"slog-json", slog.NewJSONHandler(io.Discard, nil)},
	} {
		b.Run("impl="+c.name, func(b *testing.B) {
			l := slog.New(c.h)
			b.ReportAllocs()
			for b.Loop() {
				l.LogAttrs(ctx, slog.LevelInfo, "http request", attrs...)
			}
		})
	}
}

func scanCorpus() (string, []redacttest.Sample) {
	s := redacttest.New(2026).Corpus(60)
	return redacttest.Text(s), s
}

func gitleaksDetector(tb testing.TB) *detect.Detector {
	zerolog.SetGlobalLevel(zerolog.Disabled)
	d, err := detect.NewDetectorDefaultConfig()
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// codeCorpus is real Go source (net/http/server.go from GOROOT) with one
// generated secret every ~200 lines: the sparse case of a repository scan.
func codeCorpus(tb testing.TB) string {
	src, err := os.ReadFile(filepath.Join(runtime.GOROOT(), "src", "net", "http", "server.go"))
	if err != nil {
		tb.Skip("GOROOT source not available: ", err)
	}
	lines := strings.Split(string(src), "\n")
	secrets := redacttest.New(7).Secrets(2)
	var b strings.Builder
	for i, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
		if i%200 == 199 {
			b.WriteString(secrets[(i/200)%len(secrets)].Text)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// BenchmarkRedactScan: serial scan throughput over the same texts: "dense"
// is the generated corpus (a secret or look-alike on every other line),
// "code" real Go source with sparse secrets. The gitleaks sub-benchmarks are
// named after its regexp build (stdlib, or go-re2 with -tags gore2regex);
// both scanners get the whole text as one input. Target (issue 8): at least
// 2× the MB/s of impl=gitleaks-re2 (bench/run's pass with -tags gore2regex).
func BenchmarkRedactScan(b *testing.B) {
	dense, _ := scanCorpus()
	inputs := []struct{ name, text string }{{"dense", dense}, {"code", codeCorpus(b)}}
	gl := "gitleaks-stdlib"
	if glregexp.Version != "stdlib" {
		gl = "gitleaks-re2"
	}
	for _, in := range inputs {
		b.Run(in.name+"/impl=launchready", func(b *testing.B) {
			b.SetBytes(int64(len(in.text)))
			for b.Loop() {
				_ = redact.ScanBytes([]byte(in.text))
			}
		})
		b.Run(in.name+"/impl="+gl, func(b *testing.B) {
			d := gitleaksDetector(b)
			b.SetBytes(int64(len(in.text)))
			for b.Loop() {
				_ = d.DetectString(in.text)
			}
		})
	}
}

// TestRedactScanRecall logs the recall of both scanners on the secret
// samples of the generated corpus (the kinds both are meant to find) and
// their false positives on the look-alikes.
func TestRedactScanRecall(t *testing.T) {
	_, samples := scanCorpus()
	d := gitleaksDetector(t)
	secretDet := map[string]bool{}
	for _, det := range redact.Detectors() {
		if det.Kind == redact.Secret {
			secretDet[det.Name] = true
		}
	}
	var total, oursTP, glTP, benign, oursFP, glFP int
	missed := map[string]int{}
	for _, s := range samples {
		ours := len(redact.ScanBytes([]byte(s.Text))) > 0
		gl := len(d.DetectString(s.Text)) > 0
		switch {
		case s.Detector == "":
			benign++
			if ours {
				oursFP++
			}
			if gl {
				glFP++
			}
		case secretDet[s.Detector]:
			total++
			if ours {
				oursTP++
			}
			if gl {
				glTP++
			} else {
				missed[s.Detector]++
			}
		}
	}
	var m strings.Builder
	for k, v := range missed {
		m.WriteString(k + "=" + itoa(v) + " ")
	}
	t.Logf("scan recall on %d secret samples (%s): redact %.3f, gitleaks %.3f; false positives on %d look-alikes: redact %d, gitleaks %d; gitleaks misses by detector: %s",
		total, glregexp.Version, float64(oursTP)/float64(total), float64(glTP)/float64(total), benign, oursFP, glFP, m.String())
	if oursTP != total {
		t.Errorf("redact missed %d secrets", total-oursTP)
	}
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// BenchmarkAccessLog: the access-log middleware alone around a handler
// that annotates the route and principal as authz.Mux does, writing JSON
// lines to io.Discard: impl=launchready is the line writer
// (redact.NewAccessLogWriter, what the chain and the example portal run),
// impl=launchready-slog the slog path through redact.Handler and
// slog.JSONHandler, impl=bare the handler without an access log. It
// isolates the accesslog layer of BenchmarkChainLayers, whose overhead is
// the difference of two noisy ~10 µs medians. Target (issue 12): the line
// writer's overhead over impl=bare at most 1 µs and 1 alloc/op (the
// response-writer wrapper) (bench/targets.txt).
func BenchmarkAccessLog(b *testing.B) {
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for w != nil {
			if s, ok := w.(interface{ SetRoute(string) }); ok {
				s.SetRoute("GET /api/clients/{id}")
			}
			if s, ok := w.(interface{ SetPrincipal(string, string) }); ok {
				s.SetPrincipal("u-alice", "client-a")
			}
			u, ok := w.(interface{ Unwrap() http.ResponseWriter })
			if !ok {
				break
			}
			w = u.Unwrap()
		}
		_, _ = io.WriteString(w, `{"id":"client-a","name":"Client A"}`)
	})
	lines, err := redact.NewAccessLogWriter(app, io.Discard, nil, redact.AccessLogConfig{})
	if err != nil {
		b.Fatal(err)
	}
	records := redact.NewAccessLog(app, redact.AccessLogConfig{
		Logger: slog.New(redact.NewHandler(slog.NewJSONHandler(io.Discard, nil), nil))})
	for _, impl := range []struct {
		name string
		h    http.Handler
	}{{"launchready", lines}, {"launchready-slog", records}, {"bare", app}} {
		b.Run("impl="+impl.name, func(b *testing.B) {
			r := httptest.NewRequest(http.MethodGet, "https://portal.example.com/api/clients/client-a", nil)
			r.RemoteAddr = "203.0.113.9:4242"
			w := &chainWriter{benchWriter: benchWriter{h: http.Header{}}}
			b.ReportAllocs()
			for b.Loop() {
				w.reset()
				impl.h.ServeHTTP(w, r)
			}
		})
	}
}
