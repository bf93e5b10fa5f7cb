package readiness

import (
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"unsafe"
)

// AUTH012: a route on a subtree pattern ("/api/v1/", "/files/{rest...}")
// whose handler dispatches further — a third-party router (chi, gorilla,
// httprouter), http.StripPrefix, an http.FileServer — receives a whole
// tree of paths under one policy. The routes of that tree are not in the
// inventory: they get no object-level check, no AUTH002–AUTH004 review and
// no probe. AUTH001 covers a plain http.ServeMux in a route's chain.
//
// A router (a type with a Handle(pattern string, …) method) and an
// http.FileServer whose directory holds dotfiles are blockers.
// http.StripPrefix is a warning: what it hands the path to is invisible,
// and static files behind it are common and fine.

func init() { registerBuiltin("auth/subtree", checkAuthSubtrees) }

// subtreePattern reports whether a route path matches a tree of paths: it
// ends in "/" (other than the root's exact "{$}") or in a {name...} wildcard.
func subtreePattern(p string) bool {
	if strings.HasSuffix(p, "/{$}") {
		return false
	}
	if strings.HasSuffix(p, "/") {
		return true
	}
	i := strings.LastIndexByte(p, '/')
	last := p[i+1:]
	return strings.HasPrefix(last, "{") && strings.HasSuffix(last, "...}")
}

// stripPrefixFunc matches the name of the closure http.StripPrefix
// returns: "net/http.StripPrefix.func1", or "app.main.StripPrefix.func2"
// or "app.f.func2.StripPrefix.1" where the call was inlined.
var stripPrefixFunc = regexp.MustCompile(`(^|\.)StripPrefix\.(func)?[0-9]+$`)

func isStripPrefix(v reflect.Value) bool {
	if v.Kind() != reflect.Func || v.IsNil() {
		return false
	}
	f := runtime.FuncForPC(v.Pointer())
	return f != nil && stripPrefixFunc.MatchString(f.Name())
}

// fileServerType is the type http.FileServer returns.
var fileServerType = reflect.TypeOf(http.FileServer(http.Dir(".")))

// dispatcher describes h when it dispatches requests further: a router (a
// Handle(pattern string, …) method), StripPrefix, or a FileServer.
func dispatcher(h http.Handler) (kind string, ok bool) {
	if h == nil {
		return "", false
	}
	if _, isInventory := h.(Inventory); isInventory {
		return "", false // a kit inventory: walked and checked on its own
	}
	if _, isMux := h.(*http.ServeMux); isMux {
		return "", false // AUTH001
	}
	v := reflect.ValueOf(h)
	if isStripPrefix(v) {
		return "http.StripPrefix (it hands the rest of the path to a handler readiness cannot see)", true
	}
	if v.Type() == fileServerType {
		return "http.FileServer", true
	}
	if m, found := v.Type().MethodByName("Handle"); found {
		t := m.Type // receiver first
		if t.NumIn() >= 3 && t.In(1).Kind() == reflect.String {
			return fmt.Sprintf("a router (%T)", h), true
		}
	}
	return "", false
}

func checkAuthSubtrees(_ context.Context, in *Inspection) []Finding {
	var out []Finding
	for _, rt := range in.Routes {
		if !subtreePattern(rt.Path) {
			continue
		}
		for _, h := range rt.Chain {
			kind, ok := dispatcher(h)
			if !ok {
				continue
			}
			tree := rt.Path
			if strings.HasSuffix(tree, "...}") {
				tree = tree[:strings.LastIndexByte(tree, '/')+1]
			}
			if kind == "http.FileServer" {
				if f, ok := fileServerFinding(rt, h, tree); ok {
					out = append(out, f)
				}
				break
			}
			sev := Blocker
			if strings.HasPrefix(kind, "http.StripPrefix") {
				// Opaque: static files behind StripPrefix are common and
				// fine, a router behind it is not; readiness cannot tell.
				sev = Warning
			}
			out = append(out, Finding{
				ID: "AUTH012", Severity: sev, Item: ItemAuth, Route: rt.Pattern,
				Seen: fmt.Sprintf("the subtree %s* is handed to %s: every path under it is served under this one route's policy (%s), and its own routes are outside the inventory — no object checks, no route review, no probe",
					tree, kind, policyOf(in, rt)),
				Fix: "register each route of the subtree on the authz.Mux with its own policy (or use the kit's adapter for that router), or accept AUTH012 for this route with the reason",
			})
			break
		}
	}
	return out
}

func policyOf(in *Inspection, rt Route) string {
	if m, ok := authMux(in); ok {
		if p, ok := m.Policy(rt.Pattern); ok {
			return p.String()
		}
	}
	return "unknown"
}

// maxFileServerEntries bounds the walk of a FileServer's directory.
const maxFileServerEntries = 10000

// fileServerFinding reports a FileServer whose file system holds dotfiles
// (.env, .git): it serves them to anyone the route's policy lets in.
func fileServerFinding(rt Route, h http.Handler, tree string) (Finding, bool) {
	root, ok := fileServerRoot(h)
	if !ok {
		return Finding{}, false
	}
	dot := findDotfile(root)
	if dot == "" {
		return Finding{}, false
	}
	return Finding{
		ID: "AUTH012", Severity: Blocker, Item: ItemAuth, Route: rt.Pattern,
		Seen: fmt.Sprintf("the subtree %s* is an http.FileServer whose directory holds %s: dotfiles (.env, .git) are served like any other file", tree, dot),
		Fix:  "serve only a build output directory without dotfiles (or an embed.FS of the assets), or wrap the file system to refuse names starting with \".\"",
	}, true
}

// fileServerRoot reads the http.FileSystem an http.FileServer serves. The
// field is unexported; it is read, never written.
func fileServerRoot(h http.Handler) (http.FileSystem, bool) {
	v := reflect.ValueOf(h)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return nil, false
	}
	f := v.Elem().FieldByName("root")
	if !f.IsValid() || !f.CanAddr() || f.Type() != reflect.TypeFor[http.FileSystem]() {
		return nil, false
	}
	fsys, ok := reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Interface().(http.FileSystem)
	return fsys, ok && fsys != nil
}

// findDotfile returns the first name starting with "." under fsys, or "".
func findDotfile(fsys http.FileSystem) string {
	queue, seen := []string{"/"}, 0
	for len(queue) > 0 && seen < maxFileServerEntries {
		dir := queue[0]
		queue = queue[1:]
		f, err := fsys.Open(dir)
		if err != nil {
			continue
		}
		entries, err := f.Readdir(-1)
		_ = f.Close()
		if err != nil {
			continue
		}
		for _, e := range entries {
			seen++
			name := path.Join(dir, e.Name())
			if strings.HasPrefix(e.Name(), ".") {
				return name
			}
			if e.IsDir() && e.Mode()&fs.ModeSymlink == 0 {
				queue = append(queue, name)
			}
		}
	}
	return ""
}
