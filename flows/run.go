package flows

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/launchready/launchready/redact"
)

// DefaultStepTimeout bounds a step whose Timeout is zero.
const DefaultStepTimeout = 10 * time.Second

// maxBody is how much of a response a step reads.
const maxBody = 1 << 20

// Runner runs flows against one base URL. Its zero value is not usable:
// BaseURL is required. A Runner is safe for concurrent use; each Run has
// its own cookie jar and captures.
type Runner struct {
	// BaseURL is the app's URL ("https://portal.example" or
	// "http://127.0.0.1:8080"); step paths are appended to it.
	BaseURL string
	// Transport sends the requests. Nil means a clone of
	// http.DefaultTransport. Each run wraps it in its own client with a
	// cookie jar; redirects to another host are refused.
	Transport http.RoundTripper
	// LookupEnv resolves ${NAME} references. Nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// Redactor masks detected secrets and personal data in every message.
	// Nil means redact.NewRedactor(nil).
	Redactor *redact.Redactor
	// DefaultTimeout bounds steps without their own Timeout. Zero means
	// DefaultStepTimeout.
	DefaultTimeout time.Duration
	// Header is added to every request (e.g. a User-Agent naming the
	// monitor). Values are not expanded.
	Header http.Header
	// Now is the clock for durations. Nil means time.Now.
	Now func() time.Time
}

// Result is the outcome of one flow run. Its messages are redacted.
type Result struct {
	Flow     string
	Steps    []StepResult
	Duration time.Duration
	// Err is nil when every step passed; otherwise a *StepError naming the
	// first failing step.
	Err error
}

// OK reports whether every step passed.
func (r Result) OK() bool { return r.Err == nil }

// String is a one-line summary: "flow X: ok (4 steps, 120ms)" or the error.
func (r Result) String() string {
	if r.Err != nil {
		return r.Err.Error()
	}
	return fmt.Sprintf("flow %q: ok (%d steps, %s)", r.Flow, len(r.Steps), r.Duration.Round(time.Millisecond))
}

// FailedStep returns the name of the first failing step, or "".
func (r Result) FailedStep() string {
	var se *StepError
	if errors.As(r.Err, &se) {
		return se.Step
	}
	return ""
}

// StepResult is the outcome of one step.
type StepResult struct {
	Name     string
	Status   int // 0 when no response arrived
	Duration time.Duration
	// Err is nil when the step passed; redacted.
	Err error
	// Skipped is true when an earlier step failed and this one was not
	// marked Always.
	Skipped bool
}

// OK reports whether the step ran and passed.
func (s StepResult) OK() bool { return s.Err == nil && !s.Skipped }

// StepError is a failed step: its flow, its name and what went wrong (an
// unexpected status, a failed assertion, a timeout, a network error).
type StepError struct {
	Flow, Step string
	// Status is the response status, 0 when no response arrived.
	Status int
	Err    error
}

func (e *StepError) Error() string {
	return fmt.Sprintf("flow %q failed at step %q: %v", e.Flow, e.Step, e.Err)
}

func (e *StepError) Unwrap() error { return e.Err }

// ErrStatus is wrapped when a step's answer had an unexpected status.
var ErrStatus = errors.New("unexpected status")

// ErrAssertion is wrapped when a step's assertion did not hold.
var ErrAssertion = errors.New("assertion failed")

// Run runs one flow. It never panics on a bad answer and always returns a
// Result; a failed step ends the flow except for steps marked Always.
func (rn *Runner) Run(ctx context.Context, f Flow) Result {
	now := rn.Now
	if now == nil {
		now = time.Now
	}
	start := now()
	res := Result{Flow: f.Name}
	base, err := url.Parse(strings.TrimRight(rn.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		res.Err = &StepError{Flow: f.Name, Step: "(setup)", Err: fmt.Errorf("base URL %q: want http(s)://host[:port]", rn.BaseURL)}
		return res
	}
	lookupEnv := rn.LookupEnv
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	ex := &expander{lookup: lookupEnv, captures: map[string]string{}, secrets: map[string]bool{}}
	client := rn.client(base)
	for _, s := range f.Steps {
		if res.Err != nil && !s.Always {
			res.Steps = append(res.Steps, StepResult{Name: s.Name, Skipped: true})
			continue
		}
		sr := rn.step(ctx, client, base, ex, s, now)
		sr.Err = rn.redactErr(ex, sr.Err)
		res.Steps = append(res.Steps, sr)
		if sr.Err != nil && res.Err == nil {
			res.Err = &StepError{Flow: f.Name, Step: s.Name, Status: sr.Status, Err: sr.Err}
		}
	}
	res.Duration = now().Sub(start)
	return res
}

func (rn *Runner) client(base *url.URL) *http.Client {
	jar, _ := cookiejar.New(nil) // error only with a PublicSuffixList
	tr := rn.Transport
	if tr == nil {
		tr = http.DefaultTransport.(*http.Transport).Clone()
	}
	return &http.Client{
		Transport: tr,
		Jar:       jar,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Host != base.Host || len(via) >= 5 {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
}

func (rn *Runner) step(ctx context.Context, client *http.Client, base *url.URL, ex *expander, s Step, now func() time.Time) (sr StepResult) {
	sr.Name = s.Name
	start := now()
	defer func() { sr.Duration = now().Sub(start) }()
	timeout := time.Duration(s.Timeout)
	if timeout <= 0 {
		timeout = rn.DefaultTimeout
	}
	if timeout <= 0 {
		timeout = DefaultStepTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	method, rawPath, err := splitRequest(s.Request)
	if err != nil {
		sr.Err = err
		return sr
	}
	p, err := ex.expand(rawPath, false)
	if err != nil {
		sr.Err = err
		return sr
	}
	ref, err := url.Parse(p)
	if err != nil || ref.Scheme != "" || ref.Host != "" {
		sr.Err = fmt.Errorf("request path %q does not stay on the base URL", p)
		return sr
	}
	u := *base
	u.Path = strings.TrimRight(base.Path, "/") + ref.Path
	u.RawPath = ""
	u.RawQuery = ref.RawQuery

	var body io.Reader
	if s.JSON != nil {
		v, err := ex.expandJSON(s.JSON, "")
		if err != nil {
			sr.Err = err
			return sr
		}
		b, err := json.Marshal(v)
		if err != nil {
			sr.Err = fmt.Errorf("json body: %w", err)
			return sr
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		sr.Err = err
		return sr
	}
	for k, vs := range rn.Header {
		req.Header[k] = append([]string(nil), vs...)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	for k, v := range s.Headers {
		ev, err := ex.expand(v, sensitive(k))
		if err != nil {
			sr.Err = fmt.Errorf("header %s: %w", k, err)
			return sr
		}
		req.Header.Set(k, ev)
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			sr.Err = fmt.Errorf("no answer within %s: %w", timeout, context.DeadlineExceeded)
		} else {
			sr.Err = fmt.Errorf("request failed: %w", err)
		}
		return sr
	}
	defer resp.Body.Close()
	sr.Status = resp.StatusCode
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		sr.Err = fmt.Errorf("reading the answer (status %d): %w", resp.StatusCode, err)
		return sr
	}
	if s.Status != 0 && resp.StatusCode != s.Status || s.Status == 0 && (resp.StatusCode < 200 || resp.StatusCode > 299) {
		want := "2xx"
		if s.Status != 0 {
			want = fmt.Sprint(s.Status)
		}
		sr.Err = fmt.Errorf("%w: got %d, want %s", ErrStatus, resp.StatusCode, want)
		return sr
	}
	var doc any
	parsed := false
	parse := func() error {
		if parsed {
			return nil
		}
		parsed = true
		if err := json.Unmarshal(data, &doc); err != nil {
			return fmt.Errorf("the answer is not JSON: %v", err)
		}
		return nil
	}
	for _, key := range sortedKeys(s.Assert) {
		re, err := regexp.Compile(s.Assert[key])
		if err != nil {
			sr.Err = err
			return sr
		}
		if key == "body" {
			if !re.Match(data) {
				sr.Err = fmt.Errorf("%w: the body does not match %q", ErrAssertion, s.Assert[key])
				return sr
			}
			continue
		}
		if err := parse(); err != nil {
			sr.Err = fmt.Errorf("%w: %s: %v", ErrAssertion, key, err)
			return sr
		}
		v, err := lookup(doc, key)
		if err != nil {
			sr.Err = fmt.Errorf("%w: %v", ErrAssertion, err)
			return sr
		}
		if !re.MatchString(v) {
			sr.Err = fmt.Errorf("%w: %s is %q, which does not match %q", ErrAssertion, key, v, s.Assert[key])
			return sr
		}
	}
	for _, name := range sortedKeys(s.Capture) {
		if err := parse(); err != nil {
			sr.Err = fmt.Errorf("capture %s: %v", name, err)
			return sr
		}
		v, err := lookup(doc, s.Capture[name])
		if err != nil {
			sr.Err = fmt.Errorf("capture %s: %v", name, err)
			return sr
		}
		ex.captures[name] = v
	}
	return sr
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// redactErr masks the run's secret values and every detection in err's
// message, keeping the sentinel errors for errors.Is.
func (rn *Runner) redactErr(ex *expander, err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	secrets := make([]string, 0, len(ex.secrets)+len(ex.captures))
	for s := range ex.secrets {
		secrets = append(secrets, s)
	}
	for _, c := range ex.captures {
		if len(c) >= 4 { // short ids ("7") would mask digits everywhere
			secrets = append(secrets, c)
		}
	}
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) })
	for _, s := range secrets {
		msg = strings.ReplaceAll(msg, s, "[REDACTED]")
	}
	r := rn.Redactor
	if r == nil {
		r = keyRedactor
	}
	msg = r.String(msg)
	return &redactedError{msg: msg, err: err}
}

// redactedError carries a redacted message and keeps the original chain
// for errors.Is (ErrStatus, ErrAssertion, context.DeadlineExceeded).
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }

func (e *redactedError) Is(target error) bool { return errors.Is(e.err, target) }
