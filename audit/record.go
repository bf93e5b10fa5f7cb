package audit

import (
	"context"
	"time"
)

// Record is one line of the audit trail.
type Record struct {
	// Time is when the request finished or the event was recorded (UTC).
	Time time.Time `json:"time"`
	// Kind is "request" for a mutating request recorded by the middleware,
	// "event" for an explicit event (Auditor.Event).
	Kind string `json:"kind"`
	// Action names an explicit event: "export", "login", "password_change".
	Action string `json:"action,omitempty"`
	// PrincipalID and Tenant say who acted; empty for anonymous requests.
	PrincipalID string `json:"principal,omitempty"`
	Tenant      string `json:"tenant,omitempty"`
	// Method and Route say what was called: "PATCH", "PATCH /api/tickets/{id}".
	Method string `json:"method,omitempty"`
	Route  string `json:"route,omitempty"`
	// Objects are the path wildcards of the route with their values:
	// {"id": "42"}. Wildcards whose name suggests a secret (token, key,
	// secret, password, code, signature) are recorded as "[redacted]".
	Objects map[string]string `json:"objects,omitempty"`
	// Status is the response status (requests) or 0 (events).
	Status int `json:"status,omitempty"`
	// Outcome is "success", "denied" (401/403), "rejected" (other 4xx, or
	// refused because the audit trail was unavailable), or "error" (5xx,
	// panic).
	Outcome string `json:"outcome"`
	// RequestID correlates the record with logs and error reports.
	RequestID string `json:"request_id,omitempty"`

	// Seq, Prev and Hash link the record into the sink's hash chain (see
	// Chain): its position from 1, the previous record's hash and its own.
	// Set by chained sinks (FileSink, the PostgreSQL sink); empty in
	// records that were not chained.
	Seq  uint64 `json:"seq,omitempty"`
	Prev string `json:"prev,omitempty"`
	Hash string `json:"hash,omitempty"`
	// ClientIP is the client's address (Config.ClientIP), so anonymous
	// events (failed logins, lockouts, refusals) say where they came from.
	ClientIP string `json:"client_ip,omitempty"`
}

// Outcomes.
const (
	OutcomeSuccess  = "success"
	OutcomeDenied   = "denied"
	OutcomeRejected = "rejected"
	OutcomeError    = "error"
)

// OutcomeOf classifies a response status.
func OutcomeOf(status int) string {
	switch {
	case status == 401 || status == 403:
		return OutcomeDenied
	case status >= 500:
		return OutcomeError
	case status >= 400:
		return OutcomeRejected
	}
	return OutcomeSuccess
}

// A Sink stores audit records. Write must be safe for concurrent use, must
// not keep rec after returning, and returns only when the record is stored
// as durably as the sink promises (FileSink: fsynced by default). An error
// means the record may not be stored.
type Sink interface {
	Write(ctx context.Context, rec Record) error
}
