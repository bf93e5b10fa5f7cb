package mfa

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// Record is what a Store keeps per account. Nothing in it is usable
// without Config.Key: the secret is sealed and the recovery codes are
// keyed hashes.
type Record struct {
	// Account is the account the record belongs to (the app's user ID).
	Account string
	// Sealed is the TOTP secret sealed with AES-256-GCM, bound to Account.
	Sealed []byte
	// Confirmed is true once a code from the authenticator app was
	// verified (Confirm): until then the record is a pending enrolment and
	// does not protect the account.
	Confirmed bool
	// LastStep is the last time step whose code was accepted: codes of that
	// step or earlier are refused (replay).
	LastStep int64
	// Recovery holds the hashes of the unused recovery codes.
	Recovery [][]byte
	// Created is when the secret was generated or imported.
	Created time.Time
}

func (r Record) clone() Record {
	r.Sealed = slices.Clone(r.Sealed)
	r.Recovery = slices.Clone(r.Recovery)
	return r
}

// ErrNotEnrolled is returned for an account without a confirmed second
// factor.
var ErrNotEnrolled = errors.New("mfa: the account has no second factor")

// A Store keeps the records. Implementations must be safe for concurrent
// use.
type Store interface {
	// Get returns the account's record, or ErrNotEnrolled when it has
	// none. The returned record is a copy.
	Get(ctx context.Context, account string) (Record, error)
	// Update runs fn on the account's record (a Record with only Account
	// set when it has none) and stores the result unless fn returns an
	// error, which Update then returns. Update must be atomic per account,
	// across every process sharing the store (a row lock, a Redis
	// transaction): replay refusal and single-use recovery codes depend on
	// no two verifications of one account interleaving.
	Update(ctx context.Context, account string, fn func(*Record) error) error
	// Delete removes the account's record; deleting a missing one is not
	// an error.
	Delete(ctx context.Context, account string) error
}

// MemoryStore is a Store in process memory, for one replica and tests.
// Its zero value is ready to use.
type MemoryStore struct {
	mu      sync.Mutex
	records map[string]Record
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore { return &MemoryStore{} }

// Get implements Store.
func (s *MemoryStore) Get(_ context.Context, account string) (Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.records[account]
	if !ok {
		return Record{}, ErrNotEnrolled
	}
	return r.clone(), nil
}

// Update implements Store. It holds one lock for every account: fn must be
// quick (it is: a few HMACs).
func (s *MemoryStore) Update(_ context.Context, account string, fn func(*Record) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.records[account]
	if ok {
		r = r.clone()
	} else {
		r = Record{Account: account}
	}
	if err := fn(&r); err != nil {
		return err
	}
	if s.records == nil {
		s.records = map[string]Record{}
	}
	r.Account = account
	s.records[account] = r
	return nil
}

// Delete implements Store.
func (s *MemoryStore) Delete(_ context.Context, account string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.records, account)
	return nil
}
