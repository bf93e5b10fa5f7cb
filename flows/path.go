package flows

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// A JSON path is the small subset flows need: $ then .name or [index]
// segments ($.id, $[0].id, $.notes[2].body). A name is letters, digits, _
// and -.
type segment struct {
	key   string
	index int // -1 for a key
}

const maxPathSegments = 32

func parsePath(p string) ([]segment, error) {
	if !strings.HasPrefix(p, "$") {
		return nil, fmt.Errorf("JSON path %q must start with $ (e.g. $.id or $[0].id)", p)
	}
	var segs []segment
	rest := p[1:]
	for rest != "" {
		if len(segs) == maxPathSegments {
			return nil, fmt.Errorf("JSON path %q: more than %d segments", p, maxPathSegments)
		}
		switch rest[0] {
		case '.':
			n := 1
			for n < len(rest) && isNameByte(rest[n]) {
				n++
			}
			if n == 1 {
				return nil, fmt.Errorf("JSON path %q: empty name after '.'", p)
			}
			segs = append(segs, segment{key: rest[1:n], index: -1})
			rest = rest[n:]
		case '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return nil, fmt.Errorf("JSON path %q: unterminated '['", p)
			}
			i, err := strconv.Atoi(rest[1:end])
			if err != nil || i < 0 || i > 1<<20 || rest[1] == '+' {
				return nil, fmt.Errorf("JSON path %q: [%s] is not an array index", p, rest[1:end])
			}
			segs = append(segs, segment{index: i})
			rest = rest[end+1:]
		default:
			return nil, fmt.Errorf("JSON path %q: unexpected %q; use .name or [index]", p, rest[0])
		}
	}
	return segs, nil
}

func isNameByte(c byte) bool {
	return c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

var errNoValue = errors.New("no such value")

// lookup follows the path in a decoded JSON document and returns the value
// as a string: strings as they are, everything else in JSON notation.
func lookup(doc any, p string) (string, error) {
	segs, err := parsePath(p)
	if err != nil {
		return "", err
	}
	v := doc
	for _, s := range segs {
		switch x := v.(type) {
		case map[string]any:
			e, ok := x[s.key]
			if s.index >= 0 || !ok {
				return "", fmt.Errorf("%s: %w", p, errNoValue)
			}
			v = e
		case []any:
			if s.index < 0 || s.index >= len(x) {
				return "", fmt.Errorf("%s: %w", p, errNoValue)
			}
			v = x[s.index]
		default:
			return "", fmt.Errorf("%s: %w", p, errNoValue)
		}
	}
	if s, ok := v.(string); ok {
		return s, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}
