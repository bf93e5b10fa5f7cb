package flows

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/launchready/launchready/redact"
)

// File is a flow file: the flows of one app.
type File struct {
	// Flows run independently, each with its own cookie jar.
	Flows []Flow `json:"flows" yaml:"flows"`
}

// Cover tags say what part of the app a flow exercises. readiness (MON005)
// wants at least one flow covering both CoverLogin and CoverWorkflow.
const (
	CoverLogin    = "login"    // the flow signs in through the real login route
	CoverWorkflow = "workflow" // the flow runs a core workflow of the app
)

// Flow is one synthetic user journey.
type Flow struct {
	// Name identifies the flow in results, metrics and alerts. Required,
	// unique in a file.
	Name string `json:"name" yaml:"name"`
	// Covers lists what the flow exercises: "login", "workflow".
	Covers []string `json:"covers,omitempty" yaml:"covers,omitempty"`
	// Steps run in order; the first failure ends the flow, except that
	// steps marked Always (sign out) still run.
	Steps []Step `json:"steps" yaml:"steps"`
}

// Covering reports whether the flow declares the cover tag c.
func (f Flow) Covering(c string) bool {
	for _, x := range f.Covers {
		if x == c {
			return true
		}
	}
	return false
}

// Step is one request and what its answer must be.
type Step struct {
	// Name identifies the step in results ("login", "create ticket").
	// Required, unique in its flow.
	Name string `json:"name" yaml:"name"`
	// Request is "METHOD /path": an upper-case method and a path relative
	// to the base URL. The path may use {{capture}} values. Required.
	Request string `json:"request" yaml:"request"`
	// Headers are extra request headers. Values may use ${ENV} and
	// {{capture}} references.
	Headers map[string]string `json:"headers,omitempty" yaml:"headers,omitempty"`
	// JSON is the request body, sent as application/json. Strings in it may
	// use ${ENV} and {{capture}} references.
	JSON any `json:"json,omitempty" yaml:"json,omitempty"`
	// Status is the expected status code. Zero means any 2xx.
	Status int `json:"status,omitempty" yaml:"status,omitempty"`
	// Timeout bounds the step (request and body). Zero means the runner's
	// default (10s).
	Timeout Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
	// Assert maps a JSON path ($.id, $[0].name) to a regular expression
	// its value (a string, or a number/bool/null in JSON notation) must
	// match. The key "body" matches the whole body instead.
	Assert map[string]string `json:"assert,omitempty" yaml:"assert,omitempty"`
	// Capture maps a name to a JSON path; later steps use the value as
	// {{name}}. Captured values are masked in messages.
	Capture map[string]string `json:"capture,omitempty" yaml:"capture,omitempty"`
	// Always runs the step even after an earlier step failed (sign out).
	Always bool `json:"always,omitempty" yaml:"always,omitempty"`
}

// Duration is a time.Duration written as "5s" in flow files.
type Duration time.Duration

// UnmarshalText parses a Go duration ("5s", "1m30s").
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("flows: timeout %q: want a Go duration such as 5s", b)
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the duration as "5s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// ErrInvalid is wrapped by every validation error of Parse and Validate.
var ErrInvalid = errors.New("flows: invalid flow")

// Maximum sizes of a flow file: a monitor runs these every few minutes.
const (
	maxFlows   = 64
	maxSteps   = 64
	maxTimeout = 5 * time.Minute
)

// Validate checks a flow file: names present and unique, requests
// well-formed and relative, statuses real, assertions and captures
// parseable, captures defined before use, no literal secrets. Every
// problem is named with its flow and step.
func (f *File) Validate() error {
	if len(f.Flows) == 0 {
		return fmt.Errorf("%w: the file declares no flows (want a top-level flows: list)", ErrInvalid)
	}
	if len(f.Flows) > maxFlows {
		return fmt.Errorf("%w: %d flows; at most %d", ErrInvalid, len(f.Flows), maxFlows)
	}
	var errs []error
	names := map[string]bool{}
	for i, fl := range f.Flows {
		where := fmt.Sprintf("flow %d", i+1)
		if fl.Name != "" {
			where = fmt.Sprintf("flow %q", fl.Name)
		}
		if err := fl.validate(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
		}
		if names[fl.Name] && fl.Name != "" {
			errs = append(errs, fmt.Errorf("%s: the name is used twice; give each flow its own name", where))
		}
		names[fl.Name] = true
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %w", ErrInvalid, errors.Join(errs...))
	}
	return nil
}

func (fl Flow) validate() error {
	var errs []error
	if strings.TrimSpace(fl.Name) == "" {
		errs = append(errs, errors.New("name is empty; every flow needs a name for results and alerts"))
	}
	for _, c := range fl.Covers {
		if c != CoverLogin && c != CoverWorkflow {
			errs = append(errs, fmt.Errorf("covers %q: use %q or %q", c, CoverLogin, CoverWorkflow))
		}
	}
	if len(fl.Steps) == 0 {
		errs = append(errs, errors.New("no steps"))
	}
	if len(fl.Steps) > maxSteps {
		errs = append(errs, fmt.Errorf("%d steps; at most %d", len(fl.Steps), maxSteps))
	}
	captured := map[string]bool{}
	steps := map[string]bool{}
	for i, s := range fl.Steps {
		where := fmt.Sprintf("step %d", i+1)
		if s.Name != "" {
			where = fmt.Sprintf("step %q", s.Name)
		}
		if steps[s.Name] && s.Name != "" {
			errs = append(errs, fmt.Errorf("%s: the name is used twice in this flow", where))
		}
		steps[s.Name] = true
		for _, err := range s.validate(captured) {
			errs = append(errs, fmt.Errorf("%s: %w", where, err))
		}
		for name := range s.Capture {
			captured[name] = true
		}
	}
	return errors.Join(errs...)
}

var captureName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

func (s Step) validate(captured map[string]bool) []error {
	var errs []error
	if strings.TrimSpace(s.Name) == "" {
		errs = append(errs, errors.New("name is empty; results and alerts name the failing step"))
	}
	if _, _, err := splitRequest(s.Request); err != nil {
		errs = append(errs, err)
	}
	if s.Status != 0 && (s.Status < 100 || s.Status > 599) {
		errs = append(errs, fmt.Errorf("status %d is not an HTTP status; use 100–599, or leave it out for any 2xx", s.Status))
	}
	if t := time.Duration(s.Timeout); t < 0 || t > maxTimeout {
		errs = append(errs, fmt.Errorf("timeout %s: use a duration between 0 (the default) and %s", t, maxTimeout))
	}
	for path, re := range s.Assert {
		if path != "body" {
			if _, err := parsePath(path); err != nil {
				errs = append(errs, fmt.Errorf("assert %q: %w", path, err))
			}
		}
		if _, err := regexp.Compile(re); err != nil {
			errs = append(errs, fmt.Errorf("assert %q: regular expression %q: %v", path, re, err))
		}
	}
	for name, path := range s.Capture {
		if !captureName.MatchString(name) {
			errs = append(errs, fmt.Errorf("capture %q: use a lower-case name ([a-z][a-z0-9_]*)", name))
		}
		if _, err := parsePath(path); err != nil {
			errs = append(errs, fmt.Errorf("capture %q: %w", name, err))
		}
	}
	check := func(what, key, v string) {
		refs, err := references(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
			return
		}
		for _, r := range refs {
			if r.capture && !captured[r.name] {
				errs = append(errs, fmt.Errorf("%s: {{%s}} is not captured by an earlier step", what, r.name))
			}
		}
		if key != "" && sensitive(key) && !wholeEnvRef(v) {
			errs = append(errs, fmt.Errorf("%s: a secret must be an environment reference such as ${LAUNCHREADY_FLOW_PASSWORD}, never a literal in the file", what))
		}
	}
	if _, p, err := splitRequest(s.Request); err == nil {
		check("request path", "", p)
		if strings.Contains(p, "${") {
			errs = append(errs, errors.New("request path: environment references are not allowed in paths (they would reach access logs); use a header or the body"))
		}
	}
	for k, v := range s.Headers {
		if http.CanonicalHeaderKey(k) == "Host" || http.CanonicalHeaderKey(k) == "Cookie" {
			errs = append(errs, fmt.Errorf("header %q: the runner owns Host and Cookie (the cookie jar)", k))
			continue
		}
		check(fmt.Sprintf("header %q", k), k, v)
	}
	walkStrings(s.JSON, "", func(key, v string) { check(fmt.Sprintf("json %q", key), key, v) })
	return errs
}

// keyRedactor decides by key name the way the log redactor does.
var keyRedactor = redact.NewRedactor(nil)

func sensitive(key string) bool { return keyRedactor.SensitiveKey(key) }

// walkStrings calls fn for every string in a decoded JSON/YAML value, with
// the nearest map key.
func walkStrings(v any, key string, fn func(key, v string)) {
	switch x := v.(type) {
	case string:
		fn(key, x)
	case map[string]any:
		for k, e := range x {
			walkStrings(e, k, fn)
		}
	case []any:
		for _, e := range x {
			walkStrings(e, key, fn)
		}
	}
}

// splitRequest splits "POST /api/login" and checks that the path is
// relative to the base URL.
func splitRequest(req string) (method, path string, err error) {
	method, path, ok := strings.Cut(strings.TrimSpace(req), " ")
	path = strings.TrimSpace(path)
	if !ok || method == "" || path == "" {
		return "", "", fmt.Errorf("request %q: write it as \"METHOD /path\", e.g. \"POST /api/login\"", req)
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
	default:
		return "", "", fmt.Errorf("request %q: method %q is not one of GET HEAD POST PUT PATCH DELETE OPTIONS (upper case)", req, method)
	}
	if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") || strings.ContainsAny(path, " \t\r\n\\#") {
		return "", "", fmt.Errorf("request %q: the path must start with a single \"/\" and hold no spaces, backslashes or fragment: flows only reach the URL they run against", req)
	}
	return method, path, nil
}
