package redacttest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// A File is one generated file of a tree corpus.
type File struct {
	// Path is slash-separated, relative to the tree's root.
	Path    string
	Content string
	// Samples are the samples placed in the file, each with the 1-based
	// line its text starts on.
	Samples []Placed
}

// Placed is a sample at a line of a generated file.
type Placed struct {
	Sample
	Line int
}

// kind is one kind of file a portal's repository or log export holds: its
// name pattern and lines of benign filler in its syntax.
type kind struct {
	path   string // with %d for a file number
	filler func(g *Gen) string
}

func (g *Gen) digits(n int) string { return g.pick("0123456789", n) }

var kinds = []kind{
	{"config/%d/.env", func(g *Gen) string {
		return []string{"PORT=80" + g.digits(2), "LOG_LEVEL=info", "REGION=eu-west-1", "FEATURE_EXPORTS=true",
			"DB_PASSWORD=${DB_PASSWORD}", "SESSION_IDLE_TIMEOUT=30m", "# secrets come from the deployment's secret store",
			"PUBLIC_URL=https://portal.example.com", "MAX_UPLOAD_MB=" + g.digits(2)}[g.r.IntN(9)]
	}},
	{"deploy/%d/values.yaml", func(g *Gen) string {
		return []string{"  replicas: " + g.digits(1), "  image: ghcr.io/acme/portal:1.24." + g.digits(2), "    password: {{ .Values.db.password }}",
			"  resources:", "    limits:", "      memory: " + g.digits(3) + "Mi", "  secretRef:", "    name: portal-secrets",
			"  tokenTTL: 15m", "  # api_key: <set in the secret store>"}[g.r.IntN(10)]
	}},
	{"infra/%d/main.tf", func(g *Gen) string {
		return []string{`resource "aws_s3_bucket" "exports" {`, `  bucket = "acme-portal-exports-` + g.digits(4) + `"`, `}`,
			`  secret_key = var.aws_secret_key`, `  access_key = var.aws_access_key`, `  tags = { Team = "support" }`,
			`variable "db_password" { sensitive = true }`, `  instance_type = "t3.small"`}[g.r.IntN(8)]
	}},
	{"deploy/%d/docker-compose.yml", func(g *Gen) string {
		return []string{"services:", "  portal:", "    build: .", "    ports: [\"80" + g.digits(2) + ":8080\"]",
			"    environment:", "      - DATABASE_URL=postgres://portal:${POSTGRES_PASSWORD}@db/portal", "      - REDIS_URL=redis://cache:6379/0",
			"    depends_on: [db, cache]", "      - SESSION_SECRET_FILE=/run/secrets/session"}[g.r.IntN(9)]
	}},
	{"home/%d/.bash_history", func(g *Gen) string {
		return []string{"git status", "go test ./...", "kubectl -n portal get pods", "docker compose up -d",
			"psql \"$DATABASE_URL\" -c 'select count(*) from tickets'", "mysql -h db.internal -u root -p portal",
			"curl -s https://portal.example.com/healthz", "export AWS_PROFILE=staging", "git log --oneline | head"}[g.r.IntN(9)]
	}},
	{"logs/%d/app.log", func(g *Gen) string {
		u := g.hexs(32)
		return fmt.Sprintf(`2026-11-28T15:%s:%s.%sZ INFO http request method=GET route="GET /api/clients/{id}/tickets" status=200 duration=%sms client_ip=203.0.113.%s request_id=%s-%s user=u-%s`,
			g.digits(2), g.digits(2), g.digits(3), g.digits(2), g.digits(2), u[:8], u[8:12], g.digits(4))
	}},
	{"internal/%d/handler.go", func(g *Gen) string {
		return []string{"func (s *Server) login(w http.ResponseWriter, r *http.Request) {", "\ttoken := r.Header.Get(\"Authorization\")",
			"\tif err := s.sessions.Login(r.Context(), user.ID); err != nil {", "\t\treturn fmt.Errorf(\"session: %w\", err)",
			"\tpassword := req.Password", "\tkey := cacheKey(clientID, page)", "\t}", "\treturn nil",
			"\tlog.Info(\"login\", \"user\", user.ID, \"tenant\", user.Tenant)", "\tapiKey := cfg.APIKey"}[g.r.IntN(10)]
	}},
	{"web/%d/app.js", func(g *Gen) string {
		return []string{"export async function fetchTickets(clientId) {", "  const res = await fetch(`/api/clients/${clientId}/tickets`);",
			"  if (!res.ok) throw new Error(`tickets: ${res.status}`);", "  return res.json();", "}",
			"const token = localStorage.getItem('csrf');", "import { render } from './view.js';"}[g.r.IntN(7)]
	}},
	{"config/%d/settings.json", func(g *Gen) string {
		return []string{`  "port": 80` + g.digits(2) + `,`, `  "logLevel": "info",`, `  "apiKey": "${API_KEY}",`, `  "features": ["exports", "uploads"],`,
			`  "tokenLifetime": "15m",`, `  "sessionCookie": "__Host-session",`}[g.r.IntN(6)]
	}},
	{"src/main/resources/%d/application.properties", func(g *Gen) string {
		return []string{"server.port=80" + g.digits(2), "spring.datasource.url=jdbc:postgresql://db:5432/portal",
			"spring.datasource.password=${DB_PASSWORD}", "management.endpoints.web.exposure.include=health", "logging.level.root=INFO"}[g.r.IntN(5)]
	}},
	{"config/%d/settings.xml", func(g *Gen) string {
		return []string{"  <server>", "    <id>acme-releases</id>", "    <username>deploy</username>", "    <password>${env.MAVEN_PASSWORD}</password>", "  </server>"}[g.r.IntN(5)]
	}},
}

// Tree lays samples out as files of the kinds a portal's repository and
// log exports hold (.env, YAML, Terraform, docker-compose, shell history,
// logs, Go, JavaScript, JSON, properties, XML), one sample every few lines
// between filler lines in the file's syntax, and adds filler until the
// tree holds at least minBytes. The result is deterministic for a seed.
func (g *Gen) Tree(samples []Sample, minBytes int) []File {
	files := make([]File, len(kinds)*2)
	var b []strings.Builder = make([]strings.Builder, len(files))
	lines := make([]int, len(files))
	for i := range files {
		files[i].Path = fmt.Sprintf(kinds[i%len(kinds)].path, i/len(kinds))
	}
	total := 0
	write := func(i int, text string) {
		b[i].WriteString(text)
		b[i].WriteByte('\n')
		lines[i] += strings.Count(text, "\n") + 1
		total += len(text) + 1
	}
	for j, s := range samples {
		i := j % len(files)
		for range 1 + g.r.IntN(4) {
			write(i, kinds[i%len(kinds)].filler(g))
		}
		files[i].Samples = append(files[i].Samples, Placed{Sample: s, Line: lines[i] + 1})
		write(i, s.Text)
	}
	for i := 0; total < minBytes; i = (i + 1) % len(files) {
		for range 64 {
			write(i, kinds[i%len(kinds)].filler(g))
		}
	}
	for i := range files {
		files[i].Content = b[i].String()
	}
	return files
}

// WriteTree writes files under dir.
func WriteTree(dir string, files []File) error {
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(f.Content), 0o644); err != nil {
			return err
		}
	}
	return nil
}
