package validate

import (
	"fmt"
	"net/http"
	"regexp"
	"sort"
)

// Rule checks one path wildcard or query parameter value.
type Rule struct {
	// Name describes the rule in errors and reports: "uuid", "int", "slug".
	Name string
	// Example is a value the rule accepts; readiness probes use it to reach
	// the body checks behind the path checks.
	Example string
	// Match reports whether a value is acceptable.
	Match func(string) bool
}

// The built-in rules are hand-written byte loops: they run on every request
// of every route they guard, where a regexp match costs more than the rest
// of the rule's middleware. TestBuiltinRulesMatchTheirRegexp holds them to
// the regular expressions their docs give.

// matchUUID is ^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$.
func matchUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if s[i] != '-' {
				return false
			}
		} else if !isHex(s[i]) {
			return false
		}
	}
	return true
}

// matchSlug is ^[a-z0-9]+(?:-[a-z0-9]+)*$.
func matchSlug(s string) bool {
	if s == "" || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '-' && s[i-1] != '-':
		default:
			return false
		}
	}
	return true
}

// The common identifier rules.
var (
	// UUID accepts an RFC 9562 UUID in its 36-character text form.
	UUID = Rule{Name: "uuid", Example: "00000000-0000-4000-8000-000000000001", Match: matchUUID}
	// Int accepts a positive decimal integer of up to 18 digits, no sign, no
	// leading zeros.
	Int = Rule{Name: "int", Example: "1", Match: func(s string) bool {
		if s == "" || len(s) > 18 || s[0] == '0' {
			return false
		}
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		}
		return true
	}}
	// Slug accepts lowercase letters and digits in dash-separated words, up
	// to 64 characters: "client-a".
	Slug = Rule{Name: "slug", Example: "example", Match: func(s string) bool {
		return len(s) <= 64 && matchSlug(s)
	}}
)

// Pattern returns a rule matching the regular expression, which must be
// anchored (^…$) so it constrains the whole value. It panics on an invalid
// or unanchored expression (a programming error).
func Pattern(name, expr, example string) Rule {
	re := regexp.MustCompile(expr)
	if len(expr) < 2 || expr[0] != '^' || expr[len(expr)-1] != '$' {
		panic(fmt.Sprintf("validate: Pattern %q is not anchored; write ^…$", expr))
	}
	if !re.MatchString(example) {
		panic(fmt.Sprintf("validate: Pattern %q does not match its example %q", expr, example))
	}
	return Rule{Name: name, Example: example, Match: func(s string) bool { return len(s) <= 256 && re.MatchString(s) }}
}

// Rules maps a path wildcard or query parameter name to its rule.
type Rules map[string]Rule

func (rs Rules) check(what string) {
	for name, r := range rs {
		if r.Match == nil || r.Name == "" {
			panic(fmt.Sprintf("validate: %s rule for %q has no Name or Match; use validate.UUID, Int, Slug or Pattern", what, name))
		}
	}
}

func (rs Rules) names() map[string]string {
	out := make(map[string]string, len(rs))
	for k, r := range rs {
		out[k] = r.Name
	}
	return out
}

func sortedKeys(rs Rules) []string {
	keys := make([]string, 0, len(rs))
	for k := range rs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// PathHandler validates path wildcards before calling the next handler.
// Build it with Path.
type PathHandler struct {
	rules Rules
	keys  []string
	next  http.Handler
	ew    ErrorWriter
}

// Path returns a handler that checks each named wildcard of the matched
// pattern (r.PathValue) against its rule and answers 400 when one fails,
// naming the parameter and the rule, never the value. Declare it next to the
// route: mux.Handle("GET /api/clients/{id}", validate.Path(validate.Rules{"id": validate.UUID}, h)).
func Path(rules Rules, next http.Handler) *PathHandler {
	rules.check("path")
	return &PathHandler{rules: rules, keys: sortedKeys(rules), next: next, ew: WriteProblem}
}

// WithErrorWriter returns a copy of h that writes rejections with ew.
func (h *PathHandler) WithErrorWriter(ew ErrorWriter) *PathHandler {
	c := *h
	c.ew = ew
	return &c
}

func (h *PathHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var fields []FieldError
	for _, k := range h.keys {
		if !h.rules[k].Match(r.PathValue(k)) {
			fields = append(fields, FieldError{Field: k, Rule: h.rules[k].Name})
		}
	}
	if fields != nil {
		e := newError(ErrMalformed, "a path parameter is malformed; see errors")
		e.Fields = fields
		h.ew(w, r, e)
		return
	}
	h.next.ServeHTTP(w, r)
}

// Unwrap returns the wrapped handler.
func (h *PathHandler) Unwrap() http.Handler { return h.next }

// PathRules maps each validated wildcard to its rule's name.
func (h *PathHandler) PathRules() map[string]string { return h.rules.names() }

// PathExample returns a value that passes the wildcard's rule, and whether
// the wildcard has one.
func (h *PathHandler) PathExample(name string) (string, bool) {
	r, ok := h.rules[name]
	return r.Example, ok
}

// QueryHandler validates query parameters before calling the next handler.
// Build it with Query.
type QueryHandler struct {
	rules    Rules
	keys     []string
	required map[string]bool
	next     http.Handler
	ew       ErrorWriter
}

// Query returns a handler that checks each named query parameter, when
// present, against its rule; a parameter given more than once is refused
// (parameter pollution). Use Required to make parameters mandatory.
func Query(rules Rules, next http.Handler) *QueryHandler {
	rules.check("query")
	return &QueryHandler{rules: rules, keys: sortedKeys(rules), next: next, ew: WriteProblem}
}

// Required returns a copy of h in which the named parameters must be present.
func (h *QueryHandler) Required(names ...string) *QueryHandler {
	c := *h
	c.required = map[string]bool{}
	for k, v := range h.required {
		c.required[k] = v
	}
	for _, n := range names {
		if _, ok := h.rules[n]; !ok {
			panic(fmt.Sprintf("validate: Required names %q, which has no rule", n))
		}
		c.required[n] = true
	}
	return &c
}

func (h *QueryHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var fields []FieldError
	for _, k := range h.keys {
		vs, ok := q[k]
		switch {
		case !ok:
			if h.required[k] {
				fields = append(fields, FieldError{Field: k, Rule: "required"})
			}
		case len(vs) > 1:
			fields = append(fields, FieldError{Field: k, Rule: "single"})
		case !h.rules[k].Match(vs[0]):
			fields = append(fields, FieldError{Field: k, Rule: h.rules[k].Name})
		}
	}
	if fields != nil {
		e := newError(ErrMalformed, "a query parameter is malformed; see errors")
		e.Fields = fields
		h.ew(w, r, e)
		return
	}
	h.next.ServeHTTP(w, r)
}

// Unwrap returns the wrapped handler.
func (h *QueryHandler) Unwrap() http.Handler { return h.next }

// QueryRules maps each validated parameter to its rule's name.
func (h *QueryHandler) QueryRules() map[string]string { return h.rules.names() }
