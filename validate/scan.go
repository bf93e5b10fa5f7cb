package validate

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// scanner is a single-pass JSON syntax check run before encoding/json sees
// the body. encoding/json silently accepts what we refuse: duplicate keys
// (the last one wins, so {"role":"user","role":"admin"} smuggles a value
// past a proxy or logger that read the first), keys that differ only in case
// (encoding/json matches field names case-insensitively), invalid UTF-8
// (replaced by U+FFFD), and nesting up to 10,000 levels.
type scanner struct {
	data     []byte
	i        int
	maxDepth int
	keys     []keySpan // keys of the objects currently open, innermost last
}

type keySpan struct {
	start, end int // the key's bytes, without quotes
	esc        bool
}

// scanError is a reason a body is malformed. Its text is ours, never input.
type scanError string

func (e scanError) Error() string { return string(e) }

const (
	errEmpty     scanError = "the body is empty; send one JSON value"
	errSyntax    scanError = "the body is not valid JSON"
	errTrailing  scanError = "the body has data after the JSON value; send exactly one value"
	errDepth     scanError = "the body nests objects or arrays too deeply"
	errDuplicate scanError = "the body repeats a key in one object (keys are compared case-insensitively)"
	errUTF8      scanError = "the body is not valid UTF-8"
)

// smallObject is how many keys an object holds before duplicate detection
// switches from pairwise comparison to a map.
const smallObject = 16

func scan(data []byte, maxDepth int, keys []keySpan) ([]keySpan, error) {
	s := scanner{data: data, maxDepth: maxDepth, keys: keys[:0]}
	s.ws()
	if s.i == len(s.data) {
		return s.keys, errEmpty
	}
	if err := s.value(1); err != nil {
		return s.keys, err
	}
	s.ws()
	if s.i != len(s.data) {
		return s.keys, errTrailing
	}
	return s.keys, nil
}

func (s *scanner) ws() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) value(depth int) error {
	if s.i >= len(s.data) {
		return errSyntax
	}
	switch c := s.data[s.i]; {
	case c == '{':
		return s.object(depth)
	case c == '[':
		return s.array(depth)
	case c == '"':
		_, err := s.str()
		return err
	case c == 't':
		return s.lit("true")
	case c == 'f':
		return s.lit("false")
	case c == 'n':
		return s.lit("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	}
	return errSyntax
}

func (s *scanner) lit(word string) error {
	if !bytes.HasPrefix(s.data[s.i:], []byte(word)) {
		return errSyntax
	}
	s.i += len(word)
	return nil
}

func (s *scanner) digits() int {
	n := 0
	for s.i < len(s.data) && s.data[s.i] >= '0' && s.data[s.i] <= '9' {
		s.i++
		n++
	}
	return n
}

func (s *scanner) number() error {
	if s.data[s.i] == '-' {
		s.i++
	}
	if s.i >= len(s.data) {
		return errSyntax
	}
	if s.data[s.i] == '0' {
		s.i++
	} else if s.digits() == 0 {
		return errSyntax
	}
	if s.i < len(s.data) && s.data[s.i] == '.' {
		s.i++
		if s.digits() == 0 {
			return errSyntax
		}
	}
	if s.i < len(s.data) && (s.data[s.i] == 'e' || s.data[s.i] == 'E') {
		s.i++
		if s.i < len(s.data) && (s.data[s.i] == '+' || s.data[s.i] == '-') {
			s.i++
		}
		if s.digits() == 0 {
			return errSyntax
		}
	}
	return nil
}

// hex4 decodes the four hex digits at data[i:].
func (s *scanner) hex4(i int) (rune, bool) {
	if i+4 > len(s.data) {
		return 0, false
	}
	var r rune
	for _, c := range s.data[i : i+4] {
		if !isHex(c) {
			return 0, false
		}
		switch {
		case c <= '9':
			c -= '0'
		case c >= 'a':
			c -= 'a' - 10
		default:
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// str scans a string starting at its opening quote.
func (s *scanner) str() (keySpan, error) {
	s.i++ // opening quote
	k := keySpan{start: s.i}
	for s.i < len(s.data) {
		c := s.data[s.i]
		switch {
		case c == '"':
			k.end = s.i
			s.i++
			return k, nil
		case c == '\\':
			k.esc = true
			s.i++
			if s.i >= len(s.data) {
				return k, errSyntax
			}
			switch s.data[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				r, ok := s.hex4(s.i + 1)
				if !ok {
					return k, errSyntax
				}
				s.i += 5
				// A surrogate must come as a high-low pair; encoding/json
				// would turn a lone one into U+FFFD.
				if r >= 0xD800 && r < 0xE000 {
					if r >= 0xDC00 || s.i+1 >= len(s.data) || s.data[s.i] != '\\' || s.data[s.i+1] != 'u' {
						return k, errUTF8
					}
					lo, ok := s.hex4(s.i + 2)
					if !ok || lo < 0xDC00 || lo >= 0xE000 {
						return k, errUTF8
					}
					s.i += 6
				}
			default:
				return k, errSyntax
			}
		case c < 0x20:
			return k, errSyntax
		case c < utf8.RuneSelf:
			s.i++
		default:
			r, size := utf8.DecodeRune(s.data[s.i:])
			if r == utf8.RuneError && size <= 1 {
				return k, errUTF8
			}
			s.i += size
		}
	}
	return k, errSyntax
}

func (s *scanner) array(depth int) error {
	if depth > s.maxDepth {
		return errDepth
	}
	s.i++
	s.ws()
	if s.i < len(s.data) && s.data[s.i] == ']' {
		s.i++
		return nil
	}
	for {
		s.ws()
		if err := s.value(depth + 1); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.data) {
			return errSyntax
		}
		switch s.data[s.i] {
		case ',':
			s.i++
		case ']':
			s.i++
			return nil
		default:
			return errSyntax
		}
	}
}

func (s *scanner) object(depth int) error {
	if depth > s.maxDepth {
		return errDepth
	}
	s.i++
	base := len(s.keys)
	var set map[string]struct{}
	s.ws()
	if s.i < len(s.data) && s.data[s.i] == '}' {
		s.i++
		return nil
	}
	for {
		s.ws()
		if s.i >= len(s.data) || s.data[s.i] != '"' {
			return errSyntax
		}
		k, err := s.str()
		if err != nil {
			return err
		}
		if set != nil {
			f := foldKey(s.keyString(k))
			if _, dup := set[f]; dup {
				return errDuplicate
			}
			set[f] = struct{}{}
		} else {
			for _, o := range s.keys[base:] {
				if s.sameKey(o, k) {
					return errDuplicate
				}
			}
			s.keys = append(s.keys, k)
			if len(s.keys)-base > smallObject {
				set = make(map[string]struct{}, 2*smallObject)
				for _, o := range s.keys[base:] {
					set[foldKey(s.keyString(o))] = struct{}{}
				}
			}
		}
		s.ws()
		if s.i >= len(s.data) || s.data[s.i] != ':' {
			return errSyntax
		}
		s.i++
		s.ws()
		if err := s.value(depth + 1); err != nil {
			return err
		}
		s.ws()
		if s.i >= len(s.data) {
			return errSyntax
		}
		switch s.data[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			s.keys = s.keys[:base]
			return nil
		default:
			return errSyntax
		}
	}
}

// keyString returns the key's decoded text.
func (s *scanner) keyString(k keySpan) string {
	if !k.esc {
		return string(s.data[k.start:k.end])
	}
	var out string
	if err := json.Unmarshal(s.data[k.start-1:k.end+1], &out); err != nil {
		return string(s.data[k.start:k.end]) // unreachable: the scanner checked the escapes
	}
	return out
}

func (s *scanner) sameKey(a, b keySpan) bool {
	if !a.esc && !b.esc {
		return bytes.EqualFold(s.data[a.start:a.end], s.data[b.start:b.end])
	}
	return strings.EqualFold(s.keyString(a), s.keyString(b))
}

// foldKey maps keys that strings.EqualFold treats as equal to one string.
func foldKey(k string) string { return strings.ToUpper(strings.ToLower(k)) }
