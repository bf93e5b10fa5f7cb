package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// MaxLineBytes bounds one line of an audit file. Longer lines are reported
// as damaged and skipped, so a corrupt file cannot exhaust memory.
const MaxLineBytes = 64 << 10

// ErrTruncated is wrapped by the *LineError for an incomplete last line: the
// writer crashed in the middle of a record.
var ErrTruncated = errors.New("audit: incomplete last line (writer stopped mid-record)")

// LineError reports a damaged line. Reading can continue after it.
type LineError struct {
	Line int   // 1-based line number
	Err  error // ErrTruncated, or why the line is not a record
}

func (e *LineError) Error() string { return fmt.Sprintf("audit: line %d: %v", e.Line, e.Err) }

func (e *LineError) Unwrap() error { return e.Err }

// Reader reads records from a JSON-lines audit file.
type Reader struct {
	br   *bufio.Reader
	line int
}

// NewReader returns a Reader reading from r.
func NewReader(r io.Reader) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, 4096)}
}

// Next returns the next record. It returns io.EOF at the end, and a
// *LineError for a damaged line; after a *LineError the next call reads the
// following line. Blank lines (left where a crashed write was cut off) are
// skipped.
func (rd *Reader) Next() (Record, error) {
	for {
		line, complete, tooLong, err := rd.readLine()
		if err != nil && len(line) == 0 && !tooLong {
			return Record{}, err
		}
		rd.line++
		if tooLong {
			return Record{}, &LineError{Line: rd.line, Err: fmt.Errorf("longer than %d bytes", MaxLineBytes)}
		}
		if !complete {
			return Record{}, &LineError{Line: rd.line, Err: ErrTruncated}
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		rec, perr := parseRecord(line)
		if perr != nil {
			return Record{}, &LineError{Line: rd.line, Err: perr}
		}
		return rec, nil
	}
}

// readLine returns one line including its newline (complete) or the bytes
// before EOF (not complete). A line over MaxLineBytes is consumed and
// reported tooLong.
func (rd *Reader) readLine() (line []byte, complete, tooLong bool, err error) {
	var buf []byte
	for {
		chunk, err := rd.br.ReadSlice('\n')
		if !tooLong {
			if len(buf)+len(chunk) > MaxLineBytes+1 {
				tooLong, buf = true, nil
			} else {
				buf = append(buf, chunk...)
			}
		}
		switch {
		case err == nil:
			return buf, true, tooLong, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			if tooLong {
				return nil, false, true, err
			}
			return buf, false, false, err
		}
	}
}

func parseRecord(line []byte) (Record, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var rec Record
	if err := dec.Decode(&rec); err != nil {
		return Record{}, errors.New("not a JSON audit record")
	}
	if dec.More() {
		return Record{}, errors.New("more than one JSON value")
	}
	if rec.Kind != "request" && rec.Kind != "event" {
		return Record{}, errors.New(`kind is not "request" or "event"`)
	}
	if rec.Time.IsZero() {
		return Record{}, errors.New("record has no time")
	}
	return rec, nil
}

// ReadAll reads every record from r. It returns the intact records and,
// when some lines are damaged, an error joining their *LineErrors (so
// errors.Is(err, ErrTruncated) tells a crash mid-write from other damage).
// A read error from r ends reading and is returned joined with them.
func ReadAll(r io.Reader) ([]Record, error) {
	rd := NewReader(r)
	var recs []Record
	var errs []error
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		var le *LineError
		if errors.As(err, &le) {
			errs = append(errs, err)
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("audit: read: %w", err))
			break
		}
		recs = append(recs, rec)
	}
	return recs, errors.Join(errs...)
}
