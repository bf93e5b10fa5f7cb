package readiness

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"strings"
)

// The HTML scorecard is one self-contained page: no scripts, no external
// assets, one inline style sheet allowed by its hash, so it can be served
// under a strict Content-Security-Policy.
const htmlStyle = `
:root{--pass:#1a7f37;--warn:#9a6700;--fail:#cf222e;--ink:#1f2328;--muted:#59636e;--line:#d1d9e0}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);margin:0;background:#f6f8fa}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}
.verdict{font-size:18px;font-weight:600;margin:0 0 20px}
.verdict.ready{color:var(--pass)}.verdict.blocked{color:var(--fail)}
.board{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:10px;margin-bottom:28px}
.card{background:#fff;border:1px solid var(--line);border-left:6px solid var(--pass);border-radius:6px;padding:10px 12px}
.card.WARN{border-left-color:var(--warn)}.card.FAIL{border-left-color:var(--fail)}
.card .n{color:var(--muted);font-size:12px}.card .t{font-weight:600}
.card .s{font-weight:700;font-size:13px}.PASS .s{color:var(--pass)}.WARN .s{color:var(--warn)}.FAIL .s{color:var(--fail)}
.card .c{color:var(--muted);font-size:12px}
h2{font-size:17px;margin:22px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
.f{background:#fff;border:1px solid var(--line);border-radius:6px;padding:10px 12px;margin:8px 0}
.sev{display:inline-block;font-size:11px;font-weight:700;padding:1px 6px;border-radius:10px;color:#fff;background:var(--muted)}
.sev.blocker{background:var(--fail)}.sev.warning{background:var(--warn)}
.id{font-family:ui-monospace,Menlo,monospace;font-weight:600;margin:0 6px}
.where{font-family:ui-monospace,Menlo,monospace;color:var(--muted)}
.fix{margin-top:4px}.fix b{color:var(--pass)}
.acc{margin-top:4px;color:var(--warn)}
table.routes{width:100%;border-collapse:collapse;background:#fff;border:1px solid var(--line);font-size:13px}
.routes th,.routes td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);vertical-align:top}
.routes td.p{font-family:ui-monospace,Menlo,monospace}
.routes tr.open td.s{color:var(--fail);font-weight:600}
.routes a{color:var(--fail);font-family:ui-monospace,Menlo,monospace;margin-right:4px}
`

var htmlTemplate = template.Must(template.New("scorecard").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>Launch readiness — {{.Verdict}}</title>
<style>{{.Style}}</style></head>
<body><main>
<h1>Launch readiness scorecard</h1>
<p class="verdict {{if .Ready}}ready{{else}}blocked{{end}}">{{.Summary}}</p>
<section class="board" aria-label="scorecard">
{{range .Items}}<div class="card {{.Status}}"><div class="n">{{.Item | printf "%d"}}</div><div class="t">{{.Title}}</div><div class="s">{{.Status}}</div><div class="c">{{.Blockers}} blockers · {{.Warnings}} warnings · {{.Accepted}} accepted</div></div>
{{end}}</section>
{{if .Routes}}<h2 id="routes">Routes</h2>
<table class="routes"><thead><tr><th>route</th><th>policy</th><th>object check</th><th>limits</th><th>body schema</th><th>CSRF</th><th>audit</th><th>findings</th></tr></thead><tbody>
{{range .Routes}}<tr id="{{.Anchor}}"{{if not .Protected}} class="open"{{end}}><td class="p">{{.Pattern}}</td><td class="s">{{.Policy}}</td><td>{{.Object}}</td><td>{{range $i, $l := .Limits}}{{if $i}}, {{end}}{{$l}}{{end}}</td><td>{{.Body}}</td><td>{{if .CrossOrigin}}yes{{else}}—{{end}}</td><td>{{if .Audited}}yes{{else}}—{{end}}</td><td>{{range .Links}}<a href="#{{.Anchor}}">{{.ID}}</a>{{end}}</td></tr>
{{end}}</tbody></table>
{{end}}{{range .Groups}}<h2>{{.Item | printf "%d"}}. {{.Title}}</h2>
{{range .Findings}}<div class="f" id="{{.Anchor}}"><span class="sev {{.Severity}}">{{.Severity}}</span><span class="id">{{.ID}}</span>{{if .Route}}{{if .RouteAnchor}}<a class="where" href="#{{.RouteAnchor}}">{{.Route}}</a>{{else}}<span class="where">{{.Route}}</span>{{end}}{{end}}{{if .File}}<span class="where">{{.File}}{{if .Line}}:{{.Line}}{{end}}</span>{{end}}
<div>{{.Seen}}</div>{{if .Fix}}<div class="fix"><b>Fix:</b> {{.Fix}}</div>{{end}}{{if .Downgraded}}<div class="c">A blocker in production; a warning in development.</div>{{end}}{{if .Accepted}}<div class="acc"><b>Accepted:</b> {{.AcceptedReason}}</div>{{end}}</div>
{{end}}{{end}}
</main></body></html>
`))

// HTMLContentSecurityPolicy is the policy under which the HTML scorecard
// renders: nothing but its own inline style sheet, allowed by hash.
var HTMLContentSecurityPolicy = func() string {
	sum := sha256.Sum256([]byte(strings.TrimSpace(htmlStyle)))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}()

type htmlGroup struct {
	Item     Item
	Title    string
	Findings []htmlFinding
}

// htmlFinding is a finding with its anchor, and its route's row.
type htmlFinding struct {
	Finding
	Anchor, RouteAnchor string
}

// htmlRoute is a row of the route table with links to its findings.
type htmlRoute struct {
	RouteInfo
	Anchor string
	Links  []htmlLink
}

type htmlLink struct{ ID, Anchor string }

// WriteHTML writes the scorecard as a self-contained HTML page: the ten items
// as a pass/warn/fail board, the route table (each route with its policy,
// object check, limits, body schema, CSRF and audit coverage, linked to its
// findings), then the findings with their fixes, each linked to its route. Serve it
// with Content-Security-Policy: HTMLContentSecurityPolicy. All text is
// escaped by html/template.
func (r *Report) WriteHTML(w io.Writer) error {
	rowOf := map[string]int{}
	routes := make([]htmlRoute, len(r.Routes))
	for i, rt := range r.Routes {
		routes[i] = htmlRoute{RouteInfo: rt, Anchor: fmt.Sprintf("route-%d", i+1)}
		rowOf[rt.Pattern] = i
	}
	var groups []htmlGroup
	for i, f := range r.Findings {
		if len(groups) == 0 || groups[len(groups)-1].Item != f.Item {
			groups = append(groups, htmlGroup{Item: f.Item, Title: f.Item.String()})
		}
		g := &groups[len(groups)-1]
		hf := htmlFinding{Finding: f, Anchor: fmt.Sprintf("finding-%d", i+1)}
		if row, ok := rowOf[f.Route]; ok && f.Route != "" {
			hf.RouteAnchor = routes[row].Anchor
			routes[row].Links = append(routes[row].Links, htmlLink{ID: f.ID, Anchor: hf.Anchor})
		}
		g.Findings = append(g.Findings, hf)
	}
	verdict := "READY"
	if r.Blocked() {
		verdict = "BLOCKED"
	}
	return htmlTemplate.Execute(w, map[string]any{
		"Verdict": verdict,
		"Ready":   !r.Blocked(),
		"Summary": r.Summary(),
		"Items":   r.Scorecard(),
		"Groups":  groups,
		"Routes":  routes,
		// The style is a trusted constant; CSS type keeps the template from
		// replacing it with ZgotmplZ.
		"Style": template.CSS(strings.TrimSpace(htmlStyle)),
	})
}
