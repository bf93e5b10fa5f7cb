package email

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// dkimKey is a parsed DKIM key record (RFC 6376 section 3.6.1, RFC 8463).
type dkimKey struct {
	keyType  string   // "rsa" or "ed25519"
	hashes   []string // h=, nil when absent (all hashes allowed)
	flags    []string // t=
	services []string // s=
	revoked  bool     // empty p=
	key      crypto.PublicKey
	bits     int // RSA modulus size
}

// parseTagList parses a DKIM tag=value list (RFC 6376 section 3.2): tags
// separated by ";", whitespace around tags and values ignored, a tag name
// starting with a letter, no duplicates. It returns the tags in order.
func parseTagList(s string) ([][2]string, error) {
	var tags [][2]string
	seen := map[string]bool{}
	for _, spec := range strings.Split(s, ";") {
		if strings.TrimSpace(spec) == "" {
			continue // empty spec, or the optional trailing ";"
		}
		name, value, ok := strings.Cut(spec, "=")
		if !ok {
			return nil, fmt.Errorf("tag %q has no '='", strings.TrimSpace(spec))
		}
		name, value = strings.TrimSpace(name), trimFWS(value)
		if !validTagName(name) {
			return nil, fmt.Errorf("invalid tag name %q", name)
		}
		if seen[name] {
			return nil, fmt.Errorf("tag %q appears twice", name)
		}
		for _, r := range value {
			if r < 0x21 && r != ' ' && r != '\t' && r != '\r' && r != '\n' || r == 0x7f || r == ';' {
				return nil, fmt.Errorf("tag %q has a control character in its value", name)
			}
		}
		seen[name] = true
		tags = append(tags, [2]string{name, value})
	}
	return tags, nil
}

func trimFWS(s string) string { return strings.Trim(s, " \t\r\n") }

func validTagName(s string) bool {
	for i, r := range s {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if i == 0 && !letter || !letter && !(r >= '0' && r <= '9') && r != '_' {
			return false
		}
	}
	return s != ""
}

// splitColon splits a colon-separated list, trimming whitespace and dropping
// empty entries.
func splitColon(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ":") {
		if p = trimFWS(p); p != "" {
			out = append(out, strings.ToLower(p))
		}
	}
	return out
}

func removeFWS(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
}

// parseDKIMKey parses a DKIM public key record. A revoked key (empty p=)
// parses without error and has revoked set.
func parseDKIMKey(txt string) (*dkimKey, error) {
	tags, err := parseTagList(txt)
	if err != nil {
		return nil, err
	}
	k := &dkimKey{keyType: "rsa"}
	p, hasP := "", false
	for i, t := range tags {
		name, value := t[0], t[1]
		switch name {
		case "v":
			if i != 0 {
				return nil, errors.New("v= must be the first tag")
			}
			if value != "DKIM1" {
				return nil, fmt.Errorf("v=%s is not DKIM1", value)
			}
		case "k":
			k.keyType = strings.ToLower(value)
		case "h":
			k.hashes = splitColon(value)
		case "t":
			k.flags = splitColon(value)
		case "s":
			k.services = splitColon(value)
		case "p":
			p, hasP = removeFWS(value), true
		}
	}
	if !hasP {
		return nil, errors.New("no p= tag (public key)")
	}
	if k.keyType != "rsa" && k.keyType != "ed25519" {
		return nil, fmt.Errorf("k=%s is not rsa or ed25519", k.keyType)
	}
	if p == "" {
		k.revoked = true
		return k, nil
	}
	der, err := base64.StdEncoding.DecodeString(p)
	if err != nil {
		return nil, fmt.Errorf("p= is not valid base64: %v", err)
	}
	switch k.keyType {
	case "rsa":
		var pub *rsa.PublicKey
		if key, err := x509.ParsePKIXPublicKey(der); err == nil {
			r, ok := key.(*rsa.PublicKey)
			if !ok {
				return nil, fmt.Errorf("k=rsa but p= holds a %T key", key)
			}
			pub = r
		} else if r, err2 := x509.ParsePKCS1PublicKey(der); err2 == nil {
			pub = r
		} else {
			return nil, fmt.Errorf("p= is neither a PKIX nor a PKCS#1 RSA public key (%v)", err)
		}
		k.key, k.bits = pub, pub.N.BitLen()
	case "ed25519":
		if len(der) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("k=ed25519 needs a %d-byte key in p=, got %d bytes", ed25519.PublicKeySize, len(der))
		}
		k.key = ed25519.PublicKey(der)
	}
	return k, nil
}

// testing reports the t=y flag: receivers may treat failures as unsigned.
func (k *dkimKey) testing() bool { return slices.Contains(k.flags, "y") }

// allowsSHA256 reports whether h= (absent means all) allows sha256.
func (k *dkimKey) allowsSHA256() bool { return k.hashes == nil || slices.Contains(k.hashes, "sha256") }

// allowsEmail reports whether s= (absent means all) allows email.
func (k *dkimKey) allowsEmail() bool {
	return k.services == nil || slices.Contains(k.services, "*") || slices.Contains(k.services, "email")
}
