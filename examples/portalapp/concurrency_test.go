package portalapp_test

import (
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/launchready/launchready/examples/portalapp"
)

// TestConcurrentUsers runs the support flows of four users at once under
// -race: sessions, limits, audit trail and store are shared, and no user
// ever sees another tenant's data.
func TestConcurrentUsers(t *testing.T) {
	for _, router := range routers {
		t.Run(router, func(t *testing.T) { testConcurrentUsers(t, startPortal(t, router)) })
	}
}

func testConcurrentUsers(t *testing.T, h *harness) {
	users := map[string]string{
		"alice@client-a.test": "client-a",
		"bob@client-b.test":   "client-b",
		"agent@acme.test":     "",
		"admin@acme.test":     "",
	}
	var wg sync.WaitGroup
	for email, tenant := range users {
		c := h.signedIn(email)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 15 {
				client := tenant
				if client == "" {
					client = []string{"client-a", "client-b"}[i%2]
				}
				res, body := c.do("GET", "/api/clients/"+client+"/tickets", nil)
				if !assert.Equal(t, http.StatusOK, res.StatusCode, "%s: %s", email, body) {
					return
				}
				var tickets []portalapp.Ticket
				if !assert.NoError(t, json.Unmarshal(body, &tickets)) { // no require: not the test goroutine
					return
				}
				for _, tk := range tickets {
					assert.Equal(t, client, tk.ClientID)
				}
				res, _ = c.do("POST", "/api/clients/"+client+"/tickets", map[string]string{"subject": "concurrent ticket"})
				assert.Equal(t, http.StatusCreated, res.StatusCode, email)
				if tenant != "" {
					other := map[string]string{"client-a": "client-b", "client-b": "client-a"}[tenant]
					res, _ = c.do("GET", "/api/clients/"+other+"/tickets", nil)
					assert.Equal(t, http.StatusNotFound, res.StatusCode, email)
				}
			}
		}()
	}
	wg.Wait()
	recs, err := h.portal.AuditFile.ReadAll()
	assert.NoError(t, err)
	created := 0
	for _, r := range recs {
		if r.Route == "POST /api/clients/{id}/tickets" && r.Outcome == "success" {
			created++
		}
	}
	assert.Equal(t, 4*15, created, "every ticket creation is in the audit trail")
}
