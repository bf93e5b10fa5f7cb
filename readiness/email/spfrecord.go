package email

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// spfTerm is one mechanism or modifier of an SPF record (RFC 7208 section 4.6).
type spfTerm struct {
	raw       string
	qualifier byte   // '+', '-', '~' or '?' for mechanisms
	name      string // lower-case mechanism or modifier name
	domain    string // target domain-spec, empty when the mechanism has none
	modifier  bool
}

// macro reports whether the term's domain uses SPF macros, which depend on
// the message and cannot be followed statically.
func (t spfTerm) macro() bool { return strings.Contains(t.domain, "%") }

// isSPF reports whether a TXT record is an SPF version 1 record.
func isSPF(txt string) bool {
	return len(txt) >= 6 && strings.EqualFold(txt[:6], "v=spf1") && (len(txt) == 6 || txt[6] == ' ')
}

var errNotSPF = errors.New("does not start with v=spf1")

// parseSPF parses an SPF record into its terms and checks their syntax the
// way a receiver would: an error here is a permerror at every receiver.
func parseSPF(rec string) ([]spfTerm, error) {
	if !isSPF(rec) {
		return nil, errNotSPF
	}
	var terms []spfTerm
	seenMod := map[string]bool{}
	for _, raw := range strings.Fields(rec[6:]) {
		t, err := parseSPFTerm(raw)
		if err != nil {
			return nil, fmt.Errorf("term %q: %w", raw, err)
		}
		if t.modifier && (t.name == "redirect" || t.name == "exp") {
			if seenMod[t.name] {
				return nil, fmt.Errorf("term %q: %s= appears twice", raw, t.name)
			}
			seenMod[t.name] = true
		}
		terms = append(terms, t)
	}
	return terms, nil
}

func parseSPFTerm(raw string) (spfTerm, error) {
	t := spfTerm{raw: raw, qualifier: '+'}
	s := raw
	// A modifier is name "=" value, with a name of letters, digits, - _ .
	if i := strings.IndexByte(s, '='); i > 0 && isModifierName(s[:i]) {
		t.modifier = true
		t.name = strings.ToLower(s[:i])
		t.domain = s[i+1:]
		if (t.name == "redirect" || t.name == "exp") && validDomainSpec(t.domain) != nil {
			return t, fmt.Errorf("%s= needs a domain: %v", t.name, validDomainSpec(t.domain))
		}
		return t, nil
	}
	switch s[0] {
	case '+', '-', '~', '?':
		t.qualifier = s[0]
		s = s[1:]
	}
	name, arg, hasArg := s, "", false
	if i := strings.IndexAny(s, ":/"); i >= 0 {
		name, arg, hasArg = s[:i], s[i:], true
	}
	t.name = strings.ToLower(name)
	switch t.name {
	case "all":
		if hasArg {
			return t, errors.New("all takes no argument")
		}
	case "include", "exists":
		if !strings.HasPrefix(arg, ":") {
			return t, fmt.Errorf("%s needs :domain", t.name)
		}
		t.domain = arg[1:]
		if err := validDomainSpec(t.domain); err != nil {
			return t, err
		}
	case "a", "mx":
		dom, cidr := arg, ""
		if i := strings.IndexByte(arg, '/'); i >= 0 {
			dom, cidr = arg[:i], arg[i:]
		}
		if dom != "" {
			if !strings.HasPrefix(dom, ":") {
				return t, fmt.Errorf("%s: unexpected %q", t.name, dom)
			}
			t.domain = dom[1:]
			if err := validDomainSpec(t.domain); err != nil {
				return t, err
			}
		}
		if err := validDualCIDR(cidr); err != nil {
			return t, err
		}
	case "ptr":
		if hasArg {
			if !strings.HasPrefix(arg, ":") {
				return t, errors.New("ptr: unexpected argument")
			}
			t.domain = arg[1:]
			if err := validDomainSpec(t.domain); err != nil {
				return t, err
			}
		}
	case "ip4", "ip6":
		if !strings.HasPrefix(arg, ":") {
			return t, fmt.Errorf("%s needs :address", t.name)
		}
		if err := validIPArg(t.name, arg[1:]); err != nil {
			return t, err
		}
	default:
		return t, fmt.Errorf("unknown mechanism %q", name)
	}
	return t, nil
}

func isModifierName(s string) bool {
	for i, r := range s {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if i == 0 && !letter {
			return false
		}
		if !letter && !(r >= '0' && r <= '9') && r != '-' && r != '_' && r != '.' {
			return false
		}
	}
	return s != ""
}

// validDomainSpec accepts a domain name, or any string with macros (which
// only the receiver can expand).
func validDomainSpec(s string) error {
	if s == "" {
		return errors.New("empty domain")
	}
	if strings.Contains(s, "%") {
		return nil
	}
	return validDomain(strings.TrimSuffix(s, "."))
}

func validDualCIDR(s string) error {
	if s == "" {
		return nil
	}
	v4, v6, _ := strings.Cut(s[1:], "//")
	if strings.HasPrefix(s, "//") {
		v4, v6 = "", s[2:]
	}
	if v4 != "" {
		if n, err := strconv.Atoi(v4); err != nil || n < 0 || n > 32 || v4 != strconv.Itoa(n) {
			return fmt.Errorf("invalid ip4 prefix length %q", v4)
		}
	}
	if v6 != "" || strings.HasSuffix(s, "//") {
		if n, err := strconv.Atoi(v6); err != nil || n < 0 || n > 128 || v6 != strconv.Itoa(n) {
			return fmt.Errorf("invalid ip6 prefix length %q", v6)
		}
	}
	return nil
}

func validIPArg(kind, s string) error {
	addr, bits, hasBits := strings.Cut(s, "/")
	ip, err := netip.ParseAddr(addr)
	if err != nil || ip.Zone() != "" {
		return fmt.Errorf("%s: %q is not an address", kind, addr)
	}
	if kind == "ip4" && !ip.Is4() || kind == "ip6" && !(ip.Is6() && !ip.Is4In6()) {
		return fmt.Errorf("%s: %q is the wrong address family", kind, addr)
	}
	if hasBits {
		max := 32
		if kind == "ip6" {
			max = 128
		}
		if n, err := strconv.Atoi(bits); err != nil || n < 0 || n > max || bits != strconv.Itoa(n) {
			return fmt.Errorf("%s: invalid prefix length %q", kind, bits)
		}
	}
	return nil
}
