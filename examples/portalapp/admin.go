package portalapp

import (
	"bytes"
	"embed"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/launchready/launchready/readiness"
)

//go:embed web
var webFS embed.FS

// pageHandler serves the browser page and its two assets.
func pageHandler() http.Handler {
	sub, _ := fs.Sub(webFS, "web")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		if name == "" {
			name = "index.html"
		}
		b, err := fs.ReadFile(sub, name)
		if err != nil {
			notFound(w)
			return
		}
		ct := mime.TypeByExtension(path.Ext(name))
		if ct == "" {
			ct = "application/octet-stream"
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(b)
	})
}

// serveReadiness answers GET /admin/readiness with the live scorecard: an
// HTML page, or JSON for Accept: application/json.
func (p *Portal) serveReadiness(w http.ResponseWriter, r *http.Request) {
	report, err := readiness.Run(r.Context(), p.Target)
	if err != nil {
		p.Logger.ErrorContext(r.Context(), "readiness run failed", "error", err)
		writeProblem(w, http.StatusInternalServerError, "Internal Server Error", "the readiness report could not be built")
		return
	}
	var b bytes.Buffer
	if wantsJSON(r) {
		err = report.WriteJSON(&b)
		w.Header().Set("Content-Type", "application/json")
	} else {
		err = report.WriteHTML(&b)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", readiness.HTMLContentSecurityPolicy)
	}
	if err != nil {
		w.Header().Del("Content-Security-Policy")
		writeProblem(w, http.StatusInternalServerError, "Internal Server Error", "the readiness report could not be written")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Add("Vary", "Accept")
	_, _ = w.Write(b.Bytes())
}

func wantsJSON(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err == nil && mt == "application/json" {
			return true
		}
	}
	return false
}
