package redact

import (
	"sort"
	"strings"
)

// The prefilter: one pass over the text looks up every three-byte window
// (lowercased) in a small exact table of keyword prefixes, counts digits and
// notes '@'. Only detectors whose keywords (or digit/'@' conditions) are
// present run their pattern.

var lower [256]byte

type triEntry struct {
	key uint32 // lowercase trigram | 1<<31; zero = empty slot
	kws []keyword
}

type keyword struct {
	rest string // lowercase keyword after its first three bytes
	bit  uint64
}

const triSize = 1024 // power of two, well above the number of keyword prefixes

var (
	triTable  [triSize]triEntry
	byteClass [256]uint8           // what the prefilter notes about a byte
	bigrams   [1 << 16 / 64]uint64 // first two bytes of each keyword, in every case
	digitMask uint64               // detectors gated on digit counts
	atMask    uint64
	// digitGates are the digit-gated detectors (card and phone numbers),
	// so that a digit-heavy text does not walk the whole detector list.
	digitGates []digitGate
)

type digitGate struct {
	bit     uint64
	digits  int
	needSep bool
}

// The byte classes: most bytes of ordinary text are none of these and cost
// the prefilter one table load.
const (
	classDigit = 1 << iota
	classAt
	classSep   // '+', '(', '-', ' ': phone number separators
	classFirst // the first byte of a keyword, either case
)

func buildPrefilter(dets []*Detector) {
	for i := range lower {
		c := byte(i)
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	for _, d := range dets {
		for _, kw := range d.Keywords {
			if len(kw) < 3 {
				panic("redact: keyword shorter than 3 bytes: " + kw)
			}
			k := trigram(kw[0], kw[1], kw[2])
			for c := range 256 {
				if lower[c] == lower[kw[0]] {
					byteClass[c] |= classFirst
				}
			}
			for a := range 256 {
				for b := range 256 {
					if lower[a] == lower[kw[0]] && lower[b] == lower[kw[1]] {
						bg := a<<8 | b
						bigrams[bg/64] |= 1 << (bg % 64)
					}
				}
			}
			h := triHash(k)
			for triTable[h].key != 0 && triTable[h].key != k {
				h = (h + 1) & (triSize - 1)
			}
			triTable[h].key = k
			triTable[h].kws = append(triTable[h].kws, keyword{rest: strings.ToLower(kw[3:]), bit: d.bit})
		}
		if d.digits > 0 {
			digitMask |= d.bit
			digitGates = append(digitGates, digitGate{d.bit, d.digits, d.needSep})
		}
		if d.at {
			atMask |= d.bit
		}
	}
	for c := '0'; c <= '9'; c++ {
		byteClass[c] = classDigit // digits are counted, never a keyword's start
	}
	byteClass['@'] = classAt
	for _, c := range []byte("+(- ") {
		byteClass[c] |= classSep
	}
}

func trigram(a, b, c byte) uint32 {
	return 1<<31 | uint32(lower[a])<<16 | uint32(lower[b])<<8 | uint32(lower[c])
}

func triHash(k uint32) uint32 { return (k * 2654435761) >> 22 & (triSize - 1) }

// candidates returns the bit set of detectors worth running on s.
func candidates(s string) uint64 {
	var mask uint64
	digits := 0
	at, sep := false, false
	n := len(s)
	for i := 0; i < n; i++ {
		c := s[i]
		class := byteClass[c]
		if class == 0 {
			continue
		}
		if class&classDigit != 0 {
			digits++
			continue
		}
		if class&classAt != 0 {
			at = true
			continue
		}
		if class&classSep != 0 {
			sep = true
		}
		if class&classFirst == 0 || i+2 >= n {
			continue
		}
		// The first two bytes must begin some keyword before the trigram
		// table is probed: few windows of ordinary text pass.
		if bg := uint32(c)<<8 | uint32(s[i+1]); bigrams[bg/64]&(1<<(bg%64)) == 0 {
			continue
		}
		k := trigram(c, s[i+1], s[i+2])
		h := triHash(k)
		for triTable[h].key != 0 {
			if triTable[h].key == k {
				for _, kw := range triTable[h].kws {
					if mask&kw.bit == 0 && hasFoldPrefix(s[i+3:], kw.rest) {
						mask |= kw.bit
					}
				}
				break
			}
			h = (h + 1) & (triSize - 1)
		}
	}
	if at {
		mask |= atMask
	}
	if digits >= 8 {
		for _, g := range digitGates {
			if digits >= g.digits && (sep || !g.needSep) {
				mask |= g.bit
			}
		}
	}
	return mask
}

// hasFoldPrefix reports whether s starts with the lowercase prefix p,
// ASCII case-insensitively.
func hasFoldPrefix(s, p string) bool {
	if len(s) < len(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		if lower[s[i]] != p[i] {
			return false
		}
	}
	return true
}

// pick returns the span of a submatch index: the detector's own choice,
// or the first capture group, or the whole match.
func (d *Detector) pick(s string, m []int) (int, int, bool) {
	if d.span != nil {
		return d.span(s, m)
	}
	if len(m) >= 4 && m[2] >= 0 {
		return m[2], m[3], true
	}
	return m[0], m[1], true
}

// A span is one masked range of a text.
type span struct {
	start, end int
	det        *Detector
}

// find returns the validated spans of the detectors in mask, sorted by start.
func find(s string, mask uint64) []span {
	if mask == 0 {
		return nil
	}
	var out []span
	for _, d := range defaultDetectors {
		if mask&d.bit == 0 {
			continue
		}
		if d.need != "" && !strings.Contains(s, d.need) {
			continue
		}
		if d.assignments {
			out = d.findAssignments(s, out)
			continue
		}
		for _, m := range d.Pattern.FindAllStringSubmatchIndex(s, -1) {
			st, en, ok := d.pick(s, m)
			if !ok || st == en || !d.validSpan(s[st:en]) {
				continue
			}
			if d.at && st > 0 && (s[st-1] == ':' || s[st-1] == '/') {
				continue // userinfo of a URL, not an address
			}
			if d.at && m[1]+1 < len(s) && s[m[1]] == ':' && s[m[1]+1] != ' ' {
				continue // an scp-style remote (git@github.com:org/repo), not an address
			}
			out = append(out, span{st, en, d})
		}
	}
	if len(out) > 1 {
		sort.Slice(out, func(i, j int) bool { return out[i].start < out[j].start })
		out = dropGenericOverlaps(out)
	}
	return out
}

// dropGenericOverlaps removes spans of generic detectors (assignments,
// cookies) that overlap a span of a specific one: "token=ghp_…" is one
// GitHub token, not also a password; and log-only spans that overlap any
// other.
func dropGenericOverlaps(spans []span) []span {
	keep := spans[:0:0]
	for i, s := range spans {
		drop := false
		if s.det.generic {
			for j, o := range spans {
				if j != i && (!o.det.generic || s.det.LogOnly && !o.det.LogOnly) && o.start < s.end && s.start < o.end {
					drop = true
					break
				}
			}
		}
		if !drop {
			keep = append(keep, s)
		}
	}
	return keep
}

// A Match is one detection in a text.
type Match struct {
	// Detector is the name of the detector that matched.
	Detector string
	// Kind is Secret or PII.
	Kind Kind
	// Start and End are byte offsets of the matched span in the text.
	Start, End int
	// Masked is a masked form of the span, safe to show.
	Masked string
}

// Find returns every secret and personal-data match in s, in order.
func Find(s string) []Match {
	spans := find(s, candidates(s))
	out := make([]Match, 0, len(spans))
	for _, sp := range spans {
		out = append(out, Match{Detector: sp.det.Name, Kind: sp.det.Kind, Start: sp.start, End: sp.end, Masked: Mask(s[sp.start:sp.end])})
	}
	return out
}

// Mask returns a form of a secret that is safe to show: at most its first
// four characters for long values (vendor prefixes such as "ghp_" stay
// readable), then asterisks, never the remainder.
func Mask(secret string) string {
	keep := 0
	switch {
	case len(secret) >= 20:
		keep = 4
	case len(secret) >= 12:
		keep = 2
	}
	for i := 0; i < keep; i++ { // never keep a partial multi-byte character
		if secret[i] >= 0x80 {
			keep = i
			break
		}
	}
	return secret[:keep] + "****"
}
