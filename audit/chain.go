package audit

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"time"
)

// The hash chain. Every record a chained sink stores carries its position
// (Seq, from 1), the hash of the record before it (Prev, empty for the
// first) and its own hash (Hash): SHA-256 over the record's canonical
// encoding, Prev included. Editing a record changes its hash; deleting,
// inserting or reordering one breaks the Seq run or the Prev link of the
// record after it. Verify names the first record where that happens.
//
// What a chain does not prove on its own: that nothing was cut off the
// end. Someone who can delete rows can delete the newest ones and leave a
// shorter, valid chain. Keep a copy of the tail hash outside the store
// (VerifyFrom with an Anchor: a daily note in the ops log, a backup) and
// give the app's role no DELETE (readiness AUDIT003 for PostgreSQL).

// chainVersion starts every canonical encoding, so a later format cannot
// be confused with this one.
const chainVersion = "launchready-audit-chain-v1"

// ChainTime is the precision of a chained record's time: microseconds, what
// PostgreSQL's timestamptz keeps, so a record hashes the same after a round
// trip through any sink.
const ChainTime = time.Microsecond

// Link is a position in a chain: a record's sequence number and hash. The
// zero Link is the position before the first record.
type Link struct {
	Seq  uint64
	Hash string // lowercase hex SHA-256
}

// Canonical returns rec's canonical encoding, the bytes its Hash is the
// SHA-256 of: every field but Hash, each as a name and a length-prefixed
// value in a fixed order, objects sorted by key, the time in UTC RFC 3339
// with nanoseconds. Two records encode alike only if every field is equal.
func Canonical(rec Record) []byte {
	b := make([]byte, 0, 256)
	field := func(name, v string) {
		b = append(b, name...)
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	field("v", chainVersion)
	field("seq", strconv.FormatUint(rec.Seq, 10))
	field("prev", rec.Prev)
	field("time", rec.Time.UTC().Format(time.RFC3339Nano))
	field("kind", rec.Kind)
	field("action", rec.Action)
	field("principal", rec.PrincipalID)
	field("tenant", rec.Tenant)
	field("method", rec.Method)
	field("route", rec.Route)
	keys := make([]string, 0, len(rec.Objects))
	for k := range rec.Objects {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, "objects"...)
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		field("k", k)
		field("o", rec.Objects[k])
	}
	field("status", strconv.Itoa(rec.Status))
	field("outcome", rec.Outcome)
	field("request_id", rec.RequestID)
	field("client_ip", rec.ClientIP)
	return b
}

// HashOf returns the hex SHA-256 of rec's canonical encoding.
func HashOf(rec Record) string {
	sum := sha256.Sum256(Canonical(rec))
	return hex.EncodeToString(sum[:])
}

// Chain links rec after prev: it sets Seq, Prev and Hash (and rounds Time
// to ChainTime) and returns the record and its Link. Sinks call it with
// the writes serialised; apps need not.
func Chain(prev Link, rec Record) (Record, Link) {
	rec.Time = rec.Time.UTC().Truncate(ChainTime)
	rec.Seq = prev.Seq + 1
	rec.Prev = prev.Hash
	rec.Hash = HashOf(rec)
	return rec, Link{Seq: rec.Seq, Hash: rec.Hash}
}

// ErrChainBroken is wrapped by every *ChainError.
var ErrChainBroken = errors.New("audit: the hash chain is broken")

// ChainError names the first record that fails verification.
type ChainError struct {
	// Index is the record's position in what was verified (0-based; for
	// a file, the order of intact lines).
	Index int
	// Seq is the sequence number the record carries.
	Seq uint64
	// Reason says what is wrong: "edited" (its hash does not match its
	// contents), "missing before it" (the sequence jumps: deleted), "out
	// of order" (the sequence goes back: reordered or inserted), "wrong
	// link" (its Prev is not the hash of the record before: inserted or
	// replaced), "not chained" (no hash after chained records), "tail
	// missing" (fewer records than the anchor says), "rewritten" (the
	// record at an anchor's seq has another hash).
	Reason string
	// Detail is a human explanation with the numbers.
	Detail string
}

func (e *ChainError) Error() string {
	return fmt.Sprintf("audit: record %d (seq %d) fails verification: %s: %s", e.Index+1, e.Seq, e.Reason, e.Detail)
}

func (e *ChainError) Unwrap() error { return ErrChainBroken }

// Verifier checks records one at a time, in order, so a trail of any
// length is verified in constant memory. The zero Verifier expects a chain
// from its first record (Seq 1).
type Verifier struct {
	last    Link
	n       int
	started bool
	legacy  int
}

// NewVerifier returns a Verifier that expects the record after from: a
// Link read from a trusted copy (an anchor), or the zero Link for a whole
// chain.
func NewVerifier(from Link) *Verifier {
	return &Verifier{last: from, started: from.Seq > 0}
}

// Next checks the next record and returns a *ChainError if it is the first
// bad one. Records without a hash before the first chained one (written by
// a version without the chain) are counted as Unchained and not checked.
func (v *Verifier) Next(rec Record) error {
	i := v.n
	v.n++
	if rec.Hash == "" {
		if !v.started {
			v.legacy++
			return nil
		}
		return &ChainError{Index: i, Seq: rec.Seq, Reason: "not chained",
			Detail: fmt.Sprintf("a record without a hash follows chained record seq %d", v.last.Seq)}
	}
	if got := HashOf(rec); got != rec.Hash {
		return &ChainError{Index: i, Seq: rec.Seq, Reason: "edited",
			Detail: "its hash does not match its contents: a field was changed after it was written"}
	}
	want := v.last.Seq + 1
	switch {
	case rec.Seq > want:
		return &ChainError{Index: i, Seq: rec.Seq, Reason: "missing before it",
			Detail: fmt.Sprintf("expected seq %d: %d record(s) before it were deleted", want, rec.Seq-want)}
	case rec.Seq < want:
		return &ChainError{Index: i, Seq: rec.Seq, Reason: "out of order",
			Detail: fmt.Sprintf("expected seq %d after seq %d: a record was moved or inserted", want, v.last.Seq)}
	case rec.Prev != v.last.Hash:
		return &ChainError{Index: i, Seq: rec.Seq, Reason: "wrong link",
			Detail: fmt.Sprintf("its prev hash is not the hash of seq %d: a record was inserted or replaced", v.last.Seq)}
	}
	v.last = Link{Seq: rec.Seq, Hash: rec.Hash}
	v.started = true
	return nil
}

// Last returns the last verified position: the anchor to keep for the next
// verification.
func (v *Verifier) Last() Link { return v.last }

// Checked returns how many chained records were verified.
func (v *Verifier) Checked() int { return v.n - v.legacy }

// Unchained returns how many leading records carried no hash.
func (v *Verifier) Unchained() int { return v.legacy }

// Expect reports a *ChainError ("tail missing") when the chain ends before
// anchor: records were cut off its end.
func (v *Verifier) Expect(anchor Link) error {
	if anchor.Seq > v.last.Seq {
		return &ChainError{Index: v.n, Seq: v.last.Seq, Reason: "tail missing",
			Detail: fmt.Sprintf("the anchor names seq %d but the chain ends at seq %d: records were deleted from its end", anchor.Seq, v.last.Seq)}
	}
	return nil
}

// Verify checks that recs form one hash chain from its first record and
// returns the first bad record as a *ChainError (errors.Is(err,
// ErrChainBroken)), or the last Link. It detects an edited, deleted,
// inserted or reordered record; not records cut off the end (see
// Verifier.Expect).
func Verify(recs []Record) (Link, error) {
	var v Verifier
	for _, r := range recs {
		if err := v.Next(r); err != nil {
			return v.Last(), err
		}
	}
	return v.Last(), nil
}

// A TailVerifier is a sink that can verify the newest records of its
// chain: readiness calls it at boot (AUDIT004) and blocks when it fails.
// n bounds the work; n <= 0 means the sink's default. An error that
// wraps ErrChainBroken is a broken chain; any other error means the
// check could not run.
type TailVerifier interface {
	VerifyTail(ctx context.Context, n int) error
}

// A PrivilegeReporter is a sink that can say whether the identity it
// writes with could rewrite history: readiness warns when it can (AUDIT003).
type PrivilegeReporter interface {
	// CanRewrite reports the privileges beyond INSERT and SELECT the
	// writer holds on the trail ("UPDATE", "DELETE", "TRUNCATE"), empty
	// when it has none.
	CanRewrite(ctx context.Context) ([]string, error)
}

// FileReport is what VerifyReader found.
type FileReport struct {
	// Last is the chain's last record: keep it as the anchor.
	Last Link
	// Checked counts the chained records verified.
	Checked int
	// Unchained counts leading records without a hash (older versions).
	Unchained int
	// Truncated is set when the file ends in an incomplete line (a crash
	// mid-write; that record was never reported written).
	Truncated bool
	// Fragments counts earlier incomplete lines the chain continues
	// around (a crash mid-write, then a restart).
	Fragments int
}

// VerifyReader verifies the JSON-lines trail read from r, in constant
// memory, after anchor (the zero Link: from the first record). A complete
// line that is not a record counts as an edit; an incomplete last line (a
// crash mid-write) does not. When anchor names a later record than the
// trail's end, records were cut off: "tail missing".
func VerifyReader(r io.Reader, anchor Link) (FileReport, error) {
	rd := NewReader(r)
	v := NewVerifier(Link{})
	var rep FileReport
	// A complete line that is not a record is either a crash fragment
	// (the writer crashed mid-line and the next record, written after a
	// restart, starts on a new line and links to the record before the
	// fragment) or a damaged record (then what follows does not link).
	var damaged *ChainError
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		var le *LineError
		if errors.As(err, &le) {
			if errors.Is(err, ErrTruncated) {
				rep.Truncated = true
				continue
			}
			if damaged == nil {
				damaged = &ChainError{Index: v.n, Seq: v.last.Seq + 1, Reason: "edited",
					Detail: fmt.Sprintf("line %d is not an intact record (%v)", le.Line, le.Err)}
			}
			continue
		}
		if err != nil {
			return rep, fmt.Errorf("audit: read: %w", err)
		}
		if err := v.Next(rec); err != nil {
			if damaged != nil {
				return rep, damaged
			}
			return rep, err
		}
		if damaged != nil {
			rep.Fragments++
			damaged = nil
		}
		if anchor.Seq > 0 && rec.Seq == anchor.Seq && anchor.Hash != "" && rec.Hash != anchor.Hash {
			return rep, &ChainError{Index: v.n - 1, Seq: rec.Seq, Reason: "rewritten",
				Detail: "its hash differs from the anchor kept for it: the trail up to here was rewritten"}
		}
	}
	if damaged != nil {
		return rep, damaged
	}
	rep.Last, rep.Checked, rep.Unchained = v.Last(), v.Checked(), v.Unchained()
	if anchor.Seq > 0 {
		if err := v.Expect(anchor); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// VerifyFile verifies the audit file at path (see VerifyReader).
func VerifyFile(path string, anchor Link) (FileReport, error) {
	f, err := os.Open(path)
	if err != nil {
		return FileReport{}, fmt.Errorf("audit: open %s for verification: %w", path, err)
	}
	defer f.Close()
	return VerifyReader(f, anchor)
}
