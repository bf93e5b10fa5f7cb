// Package audit defends against the red flag "no audit trail": when a
// client's data changes, nobody can say who changed what, when, and whether
// it worked. It records every mutating request (and explicit events such as
// exports, logins and password changes) as one JSON line: principal and
// tenant, method, route pattern, object identifiers from the path, time,
// outcome, request ID and client address (Config.ClientIP) — never bodies,
// query strings, headers or secrets. It serves scorecard item 10,
// Monitoring coverage (readiness checks AUDIT001–AUDIT006).
//
// Put the auditor outside the layers that refuse requests (CORS, rate
// limits): then a refused cross-origin request (403) or a lockout (429) is
// recorded with where it came from, and the trail answers "who tried what,
// from where" for anonymous clients too.
//
// Use it in three lines:
//
//	sink, _ := audit.OpenFile("/var/lib/portal/audit.jsonl", nil)
//	auditor, _ := audit.New(audit.Config{Sink: sink, RequestID: reqID})
//	srv.Handler = auditor.Handler(mux)
//
// # Who
//
// Outside the route inventory the middleware cannot see the principal (it is
// authenticated inside). Its response writer implements SetRoute(pattern)
// and SetPrincipal(id, tenant); the inventory (authz.Mux) walks the writer
// chain through Unwrap() http.ResponseWriter and calls them. When the
// middleware sits inside a route, Config.Principal can read the principal
// from the request context instead. The annotation wins when both exist.
//
// # The file sink and crashes
//
// FileSink appends each record as one line with a single write(2) on a file
// opened O_APPEND, in chain order, and (SyncEach, the default) returns from
// Write only after an fsync that started after that line was written has
// succeeded, so a record the middleware reported written survives a power
// loss. The fsyncs are group commits, as a database commits its log: while
// one fsync runs, the records of other requests are appended behind it and
// wait; when it returns, one of them fsyncs all of them at once and wakes
// each. A record waits for at most two fsyncs however many arrive together,
// and the file is no longer limited to one record per fsync
// (FileSink.Stats reports records per fsync). When an fsync fails, every
// record it covered gets the error (each of their requests is answered 503,
// as below) and none is reported written; their lines stay in the file and
// the next record chains after them, but after a failed fsync the kernel
// may have dropped those pages, so a later crash can lose them (`launchready
// audit verify` then names the gap). Close waits for the records already
// appended to be fsynced.
//
// A crash in the middle of a write can leave at most the last line
// incomplete: earlier lines are never rewritten. OpenFile notices a last
// line without a newline and starts the next record on a fresh line; the
// Reader reports the fragment as a *LineError wrapping ErrTruncated and
// still returns every record before (and after) it. SyncNone leaves
// flushing to the operating system: faster, and a power loss may drop the
// records of the last few seconds.
//
// # The hash chain
//
// FileSink (and the PostgreSQL sink in audit/postgres) chain their records:
// each carries its sequence number, the previous record's hash and its own
// SHA-256 over a canonical encoding (Chain, Canonical). Verify, VerifyFile
// and `launchready audit verify` detect an edited, deleted, inserted or
// reordered record and name the first bad one (*ChainError). A chain cannot
// show that its newest records were cut off, nor that it was rewritten from
// the start with fresh hashes: keep the last Link (FileSink.Last, the
// verify command prints it) somewhere the server cannot write, and pass it
// as the anchor next time. Readiness verifies the trail at boot (AUDIT004).
//
// # When the sink fails
//
// A full or read-only disk makes Write return an error wrapping ErrDiskFull
// or ErrReadOnly that names the file and the fix (the PostgreSQL sink's
// errors wrap its own ErrUnavailable). The middleware holds a mutating
// request's response (status, headers and up to 64 KiB of body) until its
// record is stored, so no change is answered 2xx without its record: when
// the write fails, the client gets a problem+json 503 saying the change may
// have been applied, instead of the handler's answer, with the headers the
// response had before the handler ran (none the handler set). The held
// response is dropped for good: a write through the handler's writer after
// that (or after the handler panicked) sends nothing and returns an error.
// (A handler that flushes, or writes more than 64 KiB, gives up that hold;
// its record is still written when it returns.) The failure is logged (Config.Logger)
// and counted (Auditor.Failures). From then on the audit trail is marked
// broken, and — unless Config.InsecureFailOpen is set, which also drops
// the hold — mutating requests are refused with a problem+json 503 before
// they reach the handler, until a write succeeds again (each refused
// request still tries to record itself, which is how the trail notices the
// store is back). Reads keep working. Auditor.Event returns the sink's
// error, so a handler can refuse an export it cannot record.
package audit
