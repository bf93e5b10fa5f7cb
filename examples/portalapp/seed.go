package portalapp

import (
	"context"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// DemoPassword is the published password of every demo account. Production
// refuses to boot while a demo account exists (AUTH010).
const DemoPassword = "demo-password-123"

// demoAdminID is the demo admin's user ID; in development its second
// factor is DemoTOTPSecret.
const demoAdminID = "u-admin"

// Seed fills the store with the demo data of the portal's contract: four
// demo accounts, clients client-a and client-b with tickets and invoices.
func Seed(s *MemoryStore, now time.Time) error {
	hash, err := bcrypt.GenerateFromPassword([]byte(DemoPassword), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	for _, u := range []User{
		{ID: demoAdminID, Email: "admin@acme.test", Name: "Ada Admin", Role: RoleAdmin},
		{ID: "u-agent", Email: "agent@acme.test", Name: "Sam Support", Role: RoleSupport},
		{ID: "u-alice", Email: "alice@client-a.test", Name: "Alice (Client A)", Role: RoleClient, Tenant: "client-a"},
		{ID: "u-bob", Email: "bob@client-b.test", Name: "Bob (Client B)", Role: RoleClient, Tenant: "client-b"},
	} {
		u.PasswordHash, u.Demo = hash, true
		s.AddUser(u)
	}
	s.AddClient(Client{ID: "client-a", Name: "Client A Retail", Contact: "alice@client-a.test"})
	s.AddClient(Client{ID: "client-b", Name: "Client B Logistics", Contact: "bob@client-b.test"})
	ctx := context.Background()
	for _, t := range []Ticket{
		{ClientID: "client-a", Subject: "Cannot download March invoice", Status: "open", Priority: "high", CreatedBy: "u-alice"},
		{ClientID: "client-a", Subject: "Add a second user for our finance team", Status: "pending", Priority: "normal", CreatedBy: "u-alice"},
		{ClientID: "client-b", Subject: "Shipment export shows wrong totals", Status: "open", Priority: "urgent", CreatedBy: "u-bob"},
		{ClientID: "client-b", Subject: "Password reset email never arrived", Status: "closed", Priority: "normal", CreatedBy: "u-bob"},
	} {
		t.CreatedAt, t.UpdatedAt = now, now
		if _, err := s.CreateTicket(ctx, t); err != nil {
			return err
		}
	}
	for _, inv := range []Invoice{
		{ID: "INV-A-2026-10", ClientID: "client-a", Period: "2026-10", Cents: 129000, Status: "paid"},
		{ID: "INV-A-2026-11", ClientID: "client-a", Period: "2026-11", Cents: 134500, Status: "open"},
		{ID: "INV-B-2026-10", ClientID: "client-b", Period: "2026-10", Cents: 88000, Status: "paid"},
		{ID: "INV-B-2026-11", ClientID: "client-b", Period: "2026-11", Cents: 91250, Status: "overdue"},
	} {
		s.AddInvoice(inv)
	}
	return nil
}
