package authz

import (
	"encoding/json"
	"net/http"
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
// includes the error, the path or anything else the client sent.
func DefaultDeny(w http.ResponseWriter, _ *http.Request, d Denial) {
	title, ok := titles[d.Status]
	if !ok {
		title = http.StatusText(d.Status)
	}
	body, _ := json.Marshal(struct {
		Type   string `json:"type"`
		Title  string `json:"title"`
		Status int    `json:"status"`
		Detail string `json:"detail,omitempty"`
	}{"about:blank", title, d.Status, details[d.Status]})
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	if d.Status == http.StatusMethodNotAllowed {
		h.Set("Allow", "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS")
	}
	w.WriteHeader(d.Status)
	_, _ = w.Write(append(body, '\n'))
}
