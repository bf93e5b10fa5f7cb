package authz

import "net/http"

// maxWriterDepth bounds the walk down a response-writer chain.
const maxWriterDepth = 32

type routeSetter interface{ SetRoute(pattern string) }

type principalSetter interface{ SetPrincipal(id, tenant string) }

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
