package authz

import (
	"encoding/json"
	"io"
	"net/http"
	"time"
)

// A Denial describes a refused request for the Deny function.
type Denial struct {
	// Status is the HTTP status to answer: 400 (path firewall), 401, 403,
	// 404 (object denial or missing object), 405 (CONNECT, TRACE) or 500
	// (a loader failed).
	Status int
	// Route is the matched pattern, empty for firewall rejections.
	Route string
	// Err is the firewall error or the loader error, for logging only:
	// never show it to the client.
	Err error
	// StepUp is set on a 401 for a signed-in principal who must verify a
	// (second) factor first: the policy's RequireMFA or Fresh.
	StepUp StepUp
	// MaxAge is the policy's Fresh age, 0 without one.
	MaxAge time.Duration
}

// StepUpProblemType is the problem type of a step-up denial.
const StepUpProblemType = "urn:launchready:problem:step-up"

var stepUpDetails = map[StepUp]string{
	StepUpMFA:            "Verify your second factor (the code of your authenticator app) to use this resource.",
	StepUpReauthenticate: "Verify your identity again to use this resource: your last verification is too old.",
}

var titles = map[int]string{
	http.StatusBadRequest:          "Bad Request",
	http.StatusUnauthorized:        "Unauthorized",
	http.StatusForbidden:           "Forbidden",
	http.StatusNotFound:            "Not Found",
	http.StatusMethodNotAllowed:    "Method Not Allowed",
	http.StatusInternalServerError: "Internal Server Error",
}

var details = map[int]string{
	http.StatusBadRequest:          "The request path is not acceptable.",
	http.StatusUnauthorized:        "Sign in to use this resource.",
	http.StatusForbidden:           "You are not allowed to use this resource.",
	http.StatusNotFound:            "The resource does not exist.",
	http.StatusMethodNotAllowed:    "The request method is not allowed.",
	http.StatusInternalServerError: "The request could not be authorized.",
}

// DefaultDeny answers with a short RFC 9457 problem+json document. It never
// includes the error, the path or anything else the client sent. A step-up
// denial has the type StepUpProblemType and the members "step_up" ("mfa" or
// "reauthenticate") and, for Fresh policies, "max_age" in seconds.
func DefaultDeny(w http.ResponseWriter, _ *http.Request, d Denial) {
	body, ok := plainProblems[d.Status]
	if !ok || d.StepUp != StepUpNone {
		body = problemDocument(d)
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	if d.Status == http.StatusMethodNotAllowed {
		h.Set("Allow", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS")
	}
	w.WriteHeader(d.Status)
	// A string: writers that take one (net/http's) write it as is, others
	// get a copy, so no writer can change the shared documents.
	_, _ = io.WriteString(w, body)
}

// plainProblems are the documents of the denials without step-up, built
// once: most denials are one of these.
var plainProblems = func() map[int]string {
	m := make(map[int]string, len(titles))
	for status := range titles {
		m[status] = problemDocument(Denial{Status: status})
	}
	return m
}()

// problemDocument is the problem+json document of d, newline-terminated.
func problemDocument(d Denial) string {
	title, ok := titles[d.Status]
	if !ok {
		title = http.StatusText(d.Status)
	}
	typ, detail := "about:blank", details[d.Status]
	if sd, ok := stepUpDetails[d.StepUp]; ok {
		typ, title, detail = StepUpProblemType, "Step-up authentication required", sd
	}
	var maxAge int64
	if d.StepUp != StepUpNone {
		maxAge = int64(d.MaxAge / time.Second)
	}
	body, _ := json.Marshal(struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Status int    `json:"status"`
		Detail string `json:"detail,omitempty"`
		StepUp StepUp `json:"step_up,omitempty"`
		MaxAge int64  `json:"max_age,omitempty"`
	}{typ, title, d.Status, detail, d.StepUp, maxAge})
	return string(append(body, '\n'))
}
