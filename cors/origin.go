package cors

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// origin is one validated entry of Config.AllowedOrigins.
type origin struct {
	value string // as written: "https://portal.example.com"
	// wildcard origins "https://*.example.com" match any subdomain; prefix is
	// "https://", suffix ".example.com".
	wildcard       bool
	prefix, suffix string
}

func (o origin) matches(s string) bool {
	if !o.wildcard {
		return s == o.value
	}
	if len(s) <= len(o.prefix)+len(o.suffix) || !strings.HasPrefix(s, o.prefix) || !strings.HasSuffix(s, o.suffix) {
		return false
	}
	label := s[len(o.prefix) : len(s)-len(o.suffix)]
	return validHostLabels(label) && !strings.ContainsAny(label, ":/")
}

// parseOrigin validates one configured origin. field names it in errors
// ("Config.AllowedOrigins[2]"). It accepts only the serialisation browsers
// send: lowercase scheme://host[:port], no path, no default port.
func parseOrigin(field, s string, allowHTTP, allowWildcardSubdomains bool) (origin, error) {
	q := strconv.Quote(s)
	switch {
	case s == "":
		return origin{}, fmt.Errorf("cors: %s is empty; write an origin like \"https://portal.example.com\"", field)
	case s == "*":
		return origin{}, fmt.Errorf("cors: %s is \"*\"; list the exact trusted origins (\"*\" is allowed only alone and without AllowCredentials)", field)
	case strings.EqualFold(s, "null"):
		return origin{}, fmt.Errorf("cors: %s is %s; remove it: sandboxed iframes and file: pages send Origin: null, so trusting it trusts any site", field, q)
	case s != strings.ToLower(s):
		return origin{}, fmt.Errorf("cors: %s is %s; write it in lowercase as browsers send it: %q", field, q, strings.ToLower(s))
	case strings.TrimSpace(s) != s:
		return origin{}, fmt.Errorf("cors: %s is %s; remove the surrounding spaces", field, q)
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		if strings.Contains(s, "*") {
			return origin{}, fmt.Errorf("cors: %s is %s, an over-broad pattern that matches any origin (rs/cors #197); list exact origins like \"https://portal.example.com\"", field, q)
		}
		return origin{}, fmt.Errorf("cors: %s is %s; write scheme://host[:port], like \"https://portal.example.com\"", field, q)
	}
	if scheme != "https" && scheme != "http" || strings.Contains(scheme, "*") {
		if strings.Contains(scheme, "*") {
			return origin{}, fmt.Errorf("cors: %s is %s, an over-broad pattern that matches any origin (rs/cors #197); list exact origins", field, q)
		}
		return origin{}, fmt.Errorf("cors: %s is %s; the scheme must be https", field, q)
	}
	if scheme == "http" && !allowHTTP {
		return origin{}, fmt.Errorf("cors: %s is %s, a plain-http origin whose pages anyone on the network can rewrite; use https, or set Config.InsecureAllowHTTP for local development only", field, q)
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		return origin{}, fmt.Errorf("cors: %s is %s; an origin has no path, query or trailing slash: write %q", field, q, scheme+"://"+rest[:i])
	}
	if strings.Contains(rest, "@") {
		return origin{}, fmt.Errorf("cors: %s is %s; an origin has no user info: remove the part before @", field, q)
	}
	host, port := rest, ""
	if h, p, err := net.SplitHostPort(rest); err == nil {
		host, port = h, p
	} else if strings.HasPrefix(rest, "[") || strings.Count(rest, ":") == 1 {
		return origin{}, fmt.Errorf("cors: %s is %s; the port is malformed: write scheme://host[:port]", field, q)
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
			return origin{}, fmt.Errorf("cors: %s is %s; the port must be a number from 1 to 65535", field, q)
		}
		if scheme == "https" && n == 443 || scheme == "http" && n == 80 {
			return origin{}, fmt.Errorf("cors: %s is %s; browsers omit the default port, so this never matches: write %q", field, q, scheme+"://"+host)
		}
	}
	o := origin{value: s}
	if strings.Contains(host, "*") {
		label, domain, _ := strings.Cut(host, ".")
		if label != "*" || strings.Contains(domain, "*") || strings.Count(domain, ".") < 1 || !validHostLabels(domain) {
			return origin{}, fmt.Errorf("cors: %s is %s, an over-broad pattern (rs/cors #197 lets such patterns match unrelated origins); list exact origins, or use \"%s://*.example.com\" for every subdomain of one registered domain", field, q, scheme)
		}
		if !allowWildcardSubdomains {
			return origin{}, fmt.Errorf("cors: %s is %s, a wildcard subdomain that trusts every current and future subdomain (and any one taken over); list the exact subdomains, or set Config.InsecureAllowWildcardSubdomains", field, q)
		}
		o.wildcard, o.prefix, o.suffix = true, scheme+"://", "."+domain
		if port != "" {
			o.suffix += ":" + port
		}
		return o, nil
	}
	if ip := net.ParseIP(strings.Trim(host, "[]")); ip == nil && !validHostLabels(host) {
		return origin{}, fmt.Errorf("cors: %s is %s; the host is not a valid DNS name or IP address", field, q)
	}
	return o, nil
}

// validHostLabels reports whether s is a dot-separated list of LDH labels.
func validHostLabels(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, l := range strings.Split(s, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// validToken reports whether s is an RFC 9110 token (method or header name).
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return true
}
