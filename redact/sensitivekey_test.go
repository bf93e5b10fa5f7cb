package redact_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/launchready/launchready/redact"
)

// SensitiveKey answers the same from its cache, past the cache's bound (a
// request can bring any number of header, query and form names), and under
// concurrent use.
func TestSensitiveKeyCacheBoundedAndConsistent(t *testing.T) {
	r := redact.NewRedactor(nil)
	_, limit := redact.KnownKeys(r)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2 * limit {
				// Every fourth name holds a sensitive stem.
				plain := fmt.Sprintf("x-field-%d", i)
				secret := fmt.Sprintf("x-api-token-%d", i)
				for range 2 { // the second answer may come from the cache
					assert.False(t, r.SensitiveKey(plain), "goroutine %d: %s", g, plain)
					assert.True(t, r.SensitiveKey(secret), "goroutine %d: %s", g, secret)
				}
			}
		}()
	}
	wg.Wait()
	n, limit := redact.KnownKeys(r)
	assert.Equal(t, limit, n, "the cache filled up to its bound and no further")
	assert.True(t, r.SensitiveKey("Authorization"))
	assert.True(t, r.SensitiveKey("session_id"))
	assert.False(t, r.SensitiveKey("company"), `"pan" only as a whole key`)
	assert.True(t, r.SensitiveKey("PAN"))
}
