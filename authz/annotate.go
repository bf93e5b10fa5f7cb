package authz

import "net/http"

// maxWriterDepth bounds the walk down a response-writer chain.
const maxWriterDepth = 32

type routeSetter interface{ SetRoute(pattern string) }

type principalSetter interface{ SetPrincipal(id, tenant string) }

type decisionSetter interface {
	SetDecision(pattern string, d Decision)
}

type writerUnwrapper interface{ Unwrap() http.ResponseWriter }

// annotateRoute tells every writer of the chain that wants to know (access
// log, metrics, audit) which route pattern matched.
func annotateRoute(w http.ResponseWriter, pattern string) {
	for i := 0; w != nil && i < maxWriterDepth; i++ {
		if s, ok := w.(routeSetter); ok {
			s.SetRoute(pattern)
		}
		u, ok := w.(writerUnwrapper)
		if !ok {
			return
		}
		w = u.Unwrap()
	}
}

// annotatePrincipal tells every writer of the chain that wants to know who
// the request is for.
func annotatePrincipal(w http.ResponseWriter, id, tenant string) {
	for i := 0; w != nil && i < maxWriterDepth; i++ {
		if s, ok := w.(principalSetter); ok {
			s.SetPrincipal(id, tenant)
		}
		u, ok := w.(writerUnwrapper)
		if !ok {
			return
		}
		w = u.Unwrap()
	}
}

// annotateDecision tells every writer of the chain that wants to know (the
// readiness probes) how the route's policy decided: Allow means the request
// goes on to the route's handler, anything else is the denial's status.
func annotateDecision(w http.ResponseWriter, pattern string, d Decision) {
	for i := 0; w != nil && i < maxWriterDepth; i++ {
		if s, ok := w.(decisionSetter); ok {
			s.SetDecision(pattern, d)
		}
		u, ok := w.(writerUnwrapper)
		if !ok {
			return
		}
		w = u.Unwrap()
	}
}
