package flows

import (
	"fmt"
	"regexp"
	"strings"
)

// A reference in a flow string: ${ENV_NAME}, ${ENV_NAME:-default} or
// {{capture}}.
type reference struct {
	name       string
	def        string
	hasDefault bool
	capture    bool
	start, end int
}

var envName = regexp.MustCompile(`^[A-Z_][A-Z0-9_]{0,127}$`)

// references finds the references in s, refusing unterminated or
// malformed ones.
func references(s string) ([]reference, error) {
	var out []reference
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("unterminated ${ reference in %q", s)
			}
			body := s[i+2 : i+end]
			name, def, hasDef := strings.Cut(body, ":-")
			if !envName.MatchString(name) {
				return nil, fmt.Errorf("${%s}: an environment variable name is upper case, digits and underscores", body)
			}
			out = append(out, reference{name: name, def: def, hasDefault: hasDef, start: i, end: i + end + 1})
			i += end + 1
		case strings.HasPrefix(s[i:], "{{"):
			end := strings.Index(s[i:], "}}")
			if end < 0 {
				return nil, fmt.Errorf("unterminated {{ reference in %q", s)
			}
			name := strings.TrimSpace(s[i+2 : i+end])
			if !captureName.MatchString(name) {
				return nil, fmt.Errorf("{{%s}}: a capture name is lower case, digits and underscores", name)
			}
			out = append(out, reference{name: name, capture: true, start: i, end: i + end + 2})
			i += end + 2
		default:
			i++
		}
	}
	return out, nil
}

// wholeEnvRef reports whether v is exactly one environment reference.
func wholeEnvRef(v string) bool {
	refs, err := references(v)
	return err == nil && len(refs) == 1 && !refs[0].capture && refs[0].start == 0 && refs[0].end == len(v)
}

// expander resolves references for one run and remembers which resolved
// values are secret (masked in every message).
type expander struct {
	lookup   func(string) (string, bool)
	captures map[string]string
	secrets  map[string]bool
}

// expand resolves the references of s. secret marks the result as a value
// to mask (a sensitive key, or any capture).
func (e *expander) expand(s string, secret bool) (string, error) {
	refs, err := references(s)
	if err != nil {
		return "", err
	}
	if len(refs) == 0 {
		return s, nil
	}
	var b strings.Builder
	last := 0
	for _, r := range refs {
		b.WriteString(s[last:r.start])
		var v string
		if r.capture {
			c, ok := e.captures[r.name]
			if !ok {
				return "", fmt.Errorf("{{%s}} was not captured", r.name)
			}
			v = c
		} else {
			env, ok := e.lookup(r.name)
			switch {
			case ok && env != "":
				v = env
			case r.hasDefault:
				v = r.def
			default:
				return "", fmt.Errorf("environment variable %s is not set", r.name)
			}
			if secret && v != "" {
				e.secrets[v] = true
			}
		}
		b.WriteString(v)
		last = r.end
	}
	b.WriteString(s[last:])
	return b.String(), nil
}

// expandJSON resolves references in every string of a decoded value.
func (e *expander) expandJSON(v any, key string) (any, error) {
	switch x := v.(type) {
	case string:
		return e.expand(x, sensitive(key))
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, el := range x {
			n, err := e.expandJSON(el, k)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, el := range x {
			n, err := e.expandJSON(el, key)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	}
	return v, nil
}
