package validate

import (
	"math/rand/v2"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The built-in rules are byte loops; they must accept exactly what the
// regular expressions in their docs accept.
func TestBuiltinRulesMatchTheirRegexp(t *testing.T) {
	uuidRE := regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	slugRE := regexp.MustCompile(`^[a-z0-9]+(?:-[a-z0-9]+)*$`)
	cases := []string{"", "-", "a", "a-", "-a", "a--b", "a-b", "client-a", "Client-a", "a_b", "a b", "é",
		"00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-00000000000g", "00000000-0000-4000-8000-0000000000011",
		"00000000_0000-4000-8000-000000000001", "ABCDEFab-0000-4000-8000-000000000001", "00000000-0000-4000-8000-00000000000\n"}
	// Random strings over the alphabet that matters, shaped like both rules.
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "abcfgzAFG09-_ \xff"
	for range 200_000 {
		n := rng.IntN(40)
		if rng.IntN(4) == 0 {
			n = 36
		}
		b := make([]byte, n)
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
			if n == 36 && (i == 8 || i == 13 || i == 18 || i == 23) && rng.IntN(8) != 0 {
				b[i] = '-'
			}
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		if !assert.Equal(t, uuidRE.MatchString(s), matchUUID(s), "uuid %q", s) ||
			!assert.Equal(t, slugRE.MatchString(s), matchSlug(s), "slug %q", s) {
			return
		}
	}
}
