package portalapp

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/launchready/launchready/ratelimit"
)

// ErrNotFound is returned for a missing object. Handlers answer 404 for it,
// exactly as they answer for another tenant's object.
var ErrNotFound = errors.New("portal: not found")

// Roles of the portal.
const (
	RoleAdmin   = "admin"   // support leads: everything, including the audit log
	RoleSupport = "support" // support agents: every client, no admin pages
	RoleClient  = "client"  // a client's own user: only their tenant's data
)

// User is a person who can sign in.
type User struct {
	ID           string
	Email        string
	Name         string
	Role         string
	Tenant       string // the client a client user belongs to; empty for staff
	PasswordHash []byte
	Demo         bool // seeded demo account: production refuses to boot while one exists
}

// Client is a customer organisation; its ID is also its tenant.
type Client struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Contact string `json:"contact"`
}

// Ticket is a support request of one client.
type Ticket struct {
	ID        int64     `json:"id"`
	ClientID  string    `json:"client_id"`
	Subject   string    `json:"subject"`
	Status    string    `json:"status"`
	Priority  string    `json:"priority"`
	Notes     []Note    `json:"notes"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Note is an internal or client-visible remark on a ticket.
type Note struct {
	Author string    `json:"author"`
	Text   string    `json:"text"`
	At     time.Time `json:"at"`
}

// Invoice is a bill sent to a client.
type Invoice struct {
	ID       string `json:"id"`
	ClientID string `json:"client_id"`
	Period   string `json:"period"`
	Cents    int64  `json:"amount_cents"`
	Status   string `json:"status"`
}

// Upload is a file a client or agent attached to the client's record.
type Upload struct {
	ID          int64     `json:"id"`
	ClientID    string    `json:"client_id"`
	Name        string    `json:"name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	At          time.Time `json:"uploaded_at"`
}

// TicketPatch changes a ticket; nil fields stay as they are.
type TicketPatch struct {
	Status   *string
	Priority *string
	Note     *Note
}

// Store is the portal's storage. The example keeps everything in memory; a
// real portal puts a database behind the same interface.
type Store interface {
	UserByEmail(ctx context.Context, email string) (User, error)
	UserByID(ctx context.Context, id string) (User, error)
	SetPasswordHash(ctx context.Context, userID string, hash []byte) error
	DemoUsers(ctx context.Context) ([]User, error)

	Clients(ctx context.Context) ([]Client, error)
	Client(ctx context.Context, id string) (Client, error)
	Tickets(ctx context.Context, clientID string) ([]Ticket, error)
	Ticket(ctx context.Context, id int64) (Ticket, error)
	CreateTicket(ctx context.Context, t Ticket) (Ticket, error)
	UpdateTicket(ctx context.Context, id int64, p TicketPatch, now time.Time) (Ticket, error)
	Invoices(ctx context.Context, clientID string) ([]Invoice, error)
	AddUpload(ctx context.Context, u Upload) (Upload, error)
	Uploads(ctx context.Context, clientID string) ([]Upload, error)

	// SaveResetToken stores the hash of a password-reset token; the token
	// itself exists only in the email.
	SaveResetToken(ctx context.Context, tokenHash [32]byte, userID string, expires time.Time) error
	// ConsumeResetToken returns the user of a valid, unexpired token and
	// deletes it, so a token works once.
	ConsumeResetToken(ctx context.Context, tokenHash [32]byte, now time.Time) (string, error)
}

type resetToken struct {
	hash    [32]byte
	userID  string
	expires time.Time
}

// MemoryStore is the in-memory Store. It is safe for concurrent use.
type MemoryStore struct {
	mu       sync.RWMutex
	users    []User
	clients  []Client
	tickets  map[int64]*Ticket
	byClient map[string][]int64 // ticket IDs of each client, ascending
	invoices []Invoice
	uploads  []Upload
	resets   []resetToken
	nextID   int64
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{tickets: map[int64]*Ticket{}, byClient: map[string][]int64{}, nextID: 1000}
}

func (s *MemoryStore) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users = append(s.users, u)
}

func (s *MemoryStore) AddClient(c Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients = append(s.clients, c)
}

func (s *MemoryStore) AddInvoice(inv Invoice) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.invoices = append(s.invoices, inv)
}

// UserByEmail matches by ratelimit.AccountKey, the one canonical form of an
// account name that the login and reset limits key by too: a spelling that
// finds the account ("AGENT@acme.teſt") meets that account's lockout.
func (s *MemoryStore) UserByEmail(_ context.Context, email string) (User, error) {
	key := ratelimit.AccountKey(email)
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, u := range s.users {
		if ratelimit.AccountKey(u.Email) == key {
			return u, nil
		}
	}
	return User{}, ErrNotFound
}

func (s *MemoryStore) UserByID(_ context.Context, id string) (User, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, u := range s.users {
		if u.ID == id {
			return u, nil
		}
	}
	return User{}, ErrNotFound
}

func (s *MemoryStore) SetPasswordHash(_ context.Context, userID string, hash []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.users {
		if s.users[i].ID == userID {
			s.users[i].PasswordHash = hash
			s.users[i].Demo = false // a changed password is no longer the published demo one
			return nil
		}
	}
	return ErrNotFound
}

func (s *MemoryStore) DemoUsers(context.Context) ([]User, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []User
	for _, u := range s.users {
		if u.Demo {
			out = append(out, u)
		}
	}
	return out, nil
}

func (s *MemoryStore) Clients(context.Context) ([]Client, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.clients), nil
}

func (s *MemoryStore) Client(_ context.Context, id string) (Client, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, c := range s.clients {
		if c.ID == id {
			return c, nil
		}
	}
	return Client{}, ErrNotFound
}

func (s *MemoryStore) Tickets(_ context.Context, clientID string) ([]Ticket, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids := s.byClient[clientID]
	if len(ids) == 0 {
		return nil, nil
	}
	out := make([]Ticket, 0, len(ids))
	for _, id := range ids {
		out = append(out, cloneTicket(s.tickets[id]))
	}
	return out, nil
}

func cloneTicket(t *Ticket) Ticket {
	c := *t
	c.Notes = slices.Clone(t.Notes)
	return c
}

func (s *MemoryStore) Ticket(_ context.Context, id int64) (Ticket, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.tickets[id]
	if !ok {
		return Ticket{}, ErrNotFound
	}
	return cloneTicket(t), nil
}

func (s *MemoryStore) CreateTicket(_ context.Context, t Ticket) (Ticket, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	t.ID = s.nextID
	s.tickets[t.ID] = &t
	s.byClient[t.ClientID] = append(s.byClient[t.ClientID], t.ID)
	return cloneTicket(&t), nil
}

func (s *MemoryStore) UpdateTicket(_ context.Context, id int64, p TicketPatch, now time.Time) (Ticket, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tickets[id]
	if !ok {
		return Ticket{}, ErrNotFound
	}
	if p.Status != nil {
		t.Status = *p.Status
	}
	if p.Priority != nil {
		t.Priority = *p.Priority
	}
	if p.Note != nil {
		t.Notes = append(t.Notes, *p.Note)
	}
	t.UpdatedAt = now
	return cloneTicket(t), nil
}

func (s *MemoryStore) Invoices(_ context.Context, clientID string) ([]Invoice, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Invoice
	for _, inv := range s.invoices {
		if inv.ClientID == clientID {
			out = append(out, inv)
		}
	}
	return out, nil
}

func (s *MemoryStore) AddUpload(_ context.Context, u Upload) (Upload, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	u.ID = s.nextID
	s.uploads = append(s.uploads, u)
	return u, nil
}

func (s *MemoryStore) Uploads(_ context.Context, clientID string) ([]Upload, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Upload
	for _, u := range s.uploads {
		if u.ClientID == clientID {
			out = append(out, u)
		}
	}
	return out, nil
}

func (s *MemoryStore) SaveResetToken(_ context.Context, tokenHash [32]byte, userID string, expires time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.resets = append(s.resets, resetToken{hash: tokenHash, userID: userID, expires: expires})
	return nil
}

func (s *MemoryStore) ConsumeResetToken(_ context.Context, tokenHash [32]byte, now time.Time) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, rt := range s.resets {
		if subtle.ConstantTimeCompare(rt.hash[:], tokenHash[:]) == 1 {
			s.resets = slices.Delete(s.resets, i, i+1)
			if now.After(rt.expires) {
				return "", fmt.Errorf("portal: reset token expired: %w", ErrNotFound)
			}
			return rt.userID, nil
		}
	}
	return "", ErrNotFound
}

// HashToken is how reset tokens are stored: a SHA-256 of the random token.
func HashToken(token string) [32]byte { return sha256.Sum256([]byte(token)) }
