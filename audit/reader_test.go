package audit_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/audit"
)

func TestReader(t *testing.T) {
	good := `{"time":"2026-11-28T15:00:00Z","kind":"request","method":"POST","outcome":"success"}`
	tests := []struct {
		name      string
		in        string
		records   int
		lineErrs  []int
		truncated bool
	}{
		{"empty", "", 0, nil, false},
		{"two", good + "\n" + good + "\n", 2, nil, false},
		{"truncated last", good + "\n" + good[:30], 1, []int{2}, true},
		{"blank lines skipped", good + "\n\n" + good + "\n", 2, nil, false},
		{"garbage middle", good + "\nnot json\n" + good + "\n", 2, []int{2}, false},
		{"unknown field", `{"time":"2026-11-28T15:00:00Z","kind":"event","body":"x","outcome":"success"}` + "\n", 0, []int{1}, false},
		{"two values", good + good + "\n", 0, []int{1}, false},
		{"no kind", `{"time":"2026-11-28T15:00:00Z"}` + "\n", 0, []int{1}, false},
		{"too long", `{"x":"` + strings.Repeat("a", audit.MaxLineBytes) + "\"}\n" + good + "\n", 1, []int{1}, false},
		{"crlf", good + "\r\n", 1, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := audit.ReadAll(strings.NewReader(tt.in))
			assert.Len(t, recs, tt.records)
			var lines []int
			if err != nil {
				for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
					var le *audit.LineError
					require.True(t, errors.As(e, &le))
					lines = append(lines, le.Line)
				}
			}
			assert.Equal(t, tt.lineErrs, lines)
			assert.Equal(t, tt.truncated, errors.Is(err, audit.ErrTruncated))
		})
	}
}

type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		f.n++
		return copy(p, `{"time":"2026-11-28T15:00:00Z","kind":"event","outcome":"success"}`+"\n"), nil
	}
	return 0, io.ErrUnexpectedEOF
}

func TestReaderPassesReadErrors(t *testing.T) {
	recs, err := audit.ReadAll(&failingReader{})
	assert.Len(t, recs, 1)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

func FuzzReader(f *testing.F) {
	f.Add([]byte(`{"time":"2026-11-28T15:00:00Z","kind":"request","method":"POST","outcome":"success"}` + "\n"))
	f.Add([]byte(`{"time":"2026-11-28T15:00:00Z","kind":"ev`))
	f.Add([]byte("\n\n{}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rd := audit.NewReader(strings.NewReader(string(data)))
		good := 0
		for i := 0; i <= len(data)+1; i++ {
			rec, err := rd.Next()
			if err == io.EOF {
				break
			}
			var le *audit.LineError
			if err != nil {
				if !errors.As(err, &le) {
					t.Fatalf("unexpected error type %T: %v", err, err)
				}
				if errors.Is(err, audit.ErrTruncated) && strings.HasSuffix(string(data), "\n") {
					t.Fatalf("truncation reported for input ending in a newline")
				}
				continue
			}
			if rec.Kind != "request" && rec.Kind != "event" {
				t.Fatalf("record with kind %q accepted", rec.Kind)
			}
			good++
		}
		if good > strings.Count(string(data), "\n")+1 {
			t.Fatalf("%d records from %d lines", good, strings.Count(string(data), "\n")+1)
		}
		recs, _ := audit.ReadAll(strings.NewReader(string(data)))
		if len(recs) != good {
			t.Fatalf("ReadAll found %d records, Next %d", len(recs), good)
		}
	})
}
