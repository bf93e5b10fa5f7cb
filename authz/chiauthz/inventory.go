package chiauthz

import (
	"net/http"
	"strings"

	"github.com/launchready/launchready/authz"
)

// InventoryPattern turns a chi method and path into the ServeMux-style
// pattern readiness lists: "GET /api/clients/{id}". A regexp parameter
// {id:[0-9]+} becomes {id}, a trailing "*" becomes {rest...}, and a path
// ending in "/" (which chi matches exactly) ends in {$}.
func InventoryPattern(method, path string) string {
	var b strings.Builder
	if method != "" {
		b.WriteString(method)
		b.WriteByte(' ')
	}
	for i := 0; i < len(path); i++ {
		c := path[i]
		switch {
		case c == '{':
			depth, j := 0, i
			for ; j < len(path); j++ {
				if path[j] == '{' {
					depth++
				} else if path[j] == '}' {
					depth--
					if depth == 0 {
						break
					}
				}
			}
			param := path[i+1 : min(j, len(path))]
			if k := strings.IndexByte(param, ':'); k >= 0 {
				param = param[:k]
			}
			b.WriteString("{" + param + "}")
			i = j
		case c == '*' && i == len(path)-1:
			b.WriteString("{rest...}")
		default:
			b.WriteByte(c)
		}
	}
	if strings.HasSuffix(path, "/") {
		b.WriteString("{$}")
	}
	return b.String()
}

// Routes returns every route in registration order, with its full inventory
// pattern and its handler wrapped in the Use and With middleware in effect
// when it was registered. A subrouter that is not mounted has none.
func (rr *Router) Routes() []authz.Route {
	if rr.root == nil {
		return nil
	}
	list := rr.root.routes.Load().list
	out := make([]authz.Route, len(list))
	for i, rt := range list {
		method, rest, _ := strings.Cut(rt.pattern, " ")
		if !strings.HasPrefix(rt.pattern, method+" /") {
			method, rest = "", rt.pattern
		}
		host, path := "", rest
		out[i] = authz.Route{Pattern: rt.pattern, Method: method, Host: host, Path: path,
			Policy: rt.policy, Handler: rt.handler}
	}
	return out
}

// EachRoute calls fn for every route in registration order with its
// inventory pattern and handler. It makes *Router a readiness.Inventory.
func (rr *Router) EachRoute(fn func(pattern string, h http.Handler)) {
	for _, r := range rr.Routes() {
		fn(r.Pattern, r.Handler)
	}
}

// Policy returns the policy of the route with the inventory pattern
// pattern. It makes *Router a readiness.Policies.
func (rr *Router) Policy(pattern string) (authz.Policy, bool) {
	if rr.root == nil {
		return authz.Policy{}, false
	}
	rt, ok := rr.root.routes.Load().byPattern[pattern]
	if !ok {
		return authz.Policy{}, false
	}
	return rt.policy, true
}

// ChiPattern returns the chi pattern a route was registered with
// ("/api/clients/{id:[a-z0-9-]+}") for its inventory pattern.
func (rr *Router) ChiPattern(pattern string) (string, bool) {
	if rr.root == nil {
		return "", false
	}
	rt, ok := rr.root.routes.Load().byPattern[pattern]
	if !ok {
		return "", false
	}
	return rt.chiPath, true
}

// RouterKind names the router in readiness' migration steps.
func (rr *Router) RouterKind() string { return "chiauthz.Router" }
