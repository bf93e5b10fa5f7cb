// Package redact keeps secrets and personal data out of logs and finds
// secrets in code, history and build output (scorecard items 7, Logging
// hygiene, and 3, Secrets management).
//
// It defends against the leaks other redaction tools miss: tokens inside
// error strings, http.Header values, *url.URL query strings, fmt.Sprint-ed
// structs and nested groups; database URLs with passwords and password=
// assignments that file scanners skip; secrets a generated corpus of real
// formats shows other scanners miss (*_KEY= assignments, command-line and XML
// passwords, scheme-less DSNs); and the false alarms that teach people to
// ignore a scanner (placeholders, field references, error messages). One
// detector set (vendor formats with checksums where they exist, JWTs, PEM
// keys, URL and DSN passwords, the generic assignment rule, session cookies,
// card numbers, emails including internationalised ones, phone numbers)
// serves the log handler and the scanners, so what the scan calls a secret
// the logger masks; scans report secrets only, with line and column.
//
//	logger := slog.New(redact.NewHandler(slog.NewJSONHandler(os.Stdout, nil), nil))
//	srv.Handler, err = redact.NewAccessLogWriter(mux, os.Stdout, nil, redact.AccessLogConfig{})
//	findings, err := redact.ScanDir(".")             // or ScanGitHistory(ctx, ".") in the app's tests
//
// Detection runs a keyword prefilter over each line (one pass with a table
// of keyword prefixes), then only the candidate detectors' patterns, then
// validation: checksums (GitHub CRC32, Luhn), entropy, placeholder rejection.
//
// The access log can write through a BatchWriter, which takes the write off
// the request path: a bounded queue, one goroutine writing batches, every
// dropped line counted, and Shutdown draining the queue after the server
// stopped, so a graceful shutdown loses no line.
package redact
