package edge

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"
)

// SecurityTxt is the part of an RFC 9116 security.txt the check reads.
type SecurityTxt struct {
	Contact []string
	Expires time.Time
}

// ParseSecurityTxt reads the fields of a security.txt. It requires at
// least one Contact and exactly one Expires in RFC 3339 form, as RFC 9116
// does; a PGP-signed file is read between its armour lines. Unknown
// fields and comments are ignored.
func ParseSecurityTxt(b []byte) (SecurityTxt, error) {
	var st SecurityTxt
	expires := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "-----") {
			continue
		}
		name, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		val = strings.TrimSpace(val)
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "contact":
			if val == "" {
				return st, errors.New("an empty Contact field")
			}
			st.Contact = append(st.Contact, val)
		case "expires":
			expires++
			t, err := time.Parse(time.RFC3339, val)
			if err != nil {
				return st, fmt.Errorf("Expires %q is not an RFC 3339 date-time", truncate(val, 40))
			}
			st.Expires = t
		}
	}
	if err := sc.Err(); err != nil {
		return st, fmt.Errorf("reading: %w", err)
	}
	switch {
	case len(st.Contact) == 0:
		return st, errors.New("no Contact field")
	case expires == 0:
		return st, errors.New("no Expires field")
	case expires > 1:
		return st, errors.New("more than one Expires field")
	}
	return st, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
