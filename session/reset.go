package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Password-reset tokens: the emailed link is a credential that can take
// over the account, so it is treated like one.
//
//   - Stored only as a SHA-256 hash: a leaked store dump holds no usable
//     link.
//   - Single use: Consume deletes it.
//   - Short-lived: at most MaxResetTTL (30 min, OWASP Forgot Password
//     Cheat Sheet).
//   - One outstanding token per account: issuing a new one revokes the
//     older ones (a link in an old, possibly forwarded or leaked email stops
//     working), and consuming one revokes every other token of the account.
//
// After a successful Consume the app sets the password and calls
// Manager.PasswordChanged, which ends the account's sessions.

// MaxResetTTL is the longest a reset token may live.
const MaxResetTTL = 30 * time.Minute

// ErrResetToken is returned by Consume for a token that is unknown,
// expired, already used or revoked: the caller cannot tell which, and
// neither can the client it answers.
var ErrResetToken = errors.New("session: the reset token is invalid or has expired")

// maxResetTokenLen bounds what Consume hashes.
const maxResetTokenLen = 256

// ResetStore keeps reset-token hashes. Implementations must be safe for
// concurrent use and make each method atomic (a SQL transaction, a Redis
// script).
type ResetStore interface {
	// Replace deletes every token of account and stores hash for it,
	// valid until expires.
	Replace(ctx context.Context, account string, hash [32]byte, expires time.Time) error
	// Take deletes the token with hash together with every other token of
	// its account, and returns the account and the token's expiry. It
	// returns ErrResetToken when no token has hash.
	Take(ctx context.Context, hash [32]byte) (account string, expires time.Time, err error)
}

// ResetConfig configures ResetTokens. The zero value is valid: 30-minute
// tokens in memory.
type ResetConfig struct {
	// Store keeps the token hashes. Nil means a new MemoryResetStore (one
	// replica only).
	Store ResetStore
	// TTL is how long a token works; 0 means MaxResetTTL. Longer is
	// refused.
	TTL time.Duration
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// ResetTokens issues and consumes password-reset tokens.
type ResetTokens struct {
	store ResetStore
	ttl   time.Duration
	now   func() time.Time
}

// NewResetTokens validates c and returns the reset-token issuer.
func NewResetTokens(c ResetConfig) (*ResetTokens, error) {
	if c.TTL < 0 || c.TTL > MaxResetTTL {
		return nil, fmt.Errorf("session: ResetConfig.TTL is %v; use at most %v (0 means %v)", c.TTL, MaxResetTTL, MaxResetTTL)
	}
	if c.TTL == 0 {
		c.TTL = MaxResetTTL
	}
	if c.Store == nil {
		c.Store = NewMemoryResetStore()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &ResetTokens{store: c.Store, ttl: c.TTL, now: c.Now}, nil
}

// TTL is how long a token works.
func (t *ResetTokens) TTL() time.Duration { return t.ttl }

// Issue returns a new token for account (256 random bits, 52 base32
// characters) and revokes the account's older tokens. Put the token in the
// email only; never log it.
func (t *ResetTokens) Issue(ctx context.Context, account string) (string, error) {
	if account == "" {
		return "", errors.New("session: ResetTokens.Issue needs an account")
	}
	token := rand.Text() + rand.Text()
	if err := t.store.Replace(ctx, account, sha256.Sum256([]byte(token)), t.now().Add(t.ttl)); err != nil {
		return "", fmt.Errorf("session: storing the reset token: %w", err)
	}
	return token, nil
}

// Consume returns the account of a valid token and revokes it with every
// other token of that account. It returns ErrResetToken for a token that
// does not work (unknown, expired, used, revoked).
func (t *ResetTokens) Consume(ctx context.Context, token string) (string, error) {
	if token == "" || len(token) > maxResetTokenLen {
		return "", ErrResetToken
	}
	account, expires, err := t.store.Take(ctx, sha256.Sum256([]byte(token)))
	if errors.Is(err, ErrResetToken) {
		return "", ErrResetToken
	}
	if err != nil {
		return "", fmt.Errorf("session: reading the reset token: %w", err)
	}
	if !t.now().Before(expires) {
		return "", ErrResetToken
	}
	return account, nil
}

// MemoryResetStore is the in-memory ResetStore: one token per account, so
// it holds at most one entry per account that asked; expired entries are
// dropped as new ones arrive.
type MemoryResetStore struct {
	mu        sync.Mutex
	byHash    map[[32]byte]resetEntry
	byAccount map[string][32]byte
}

type resetEntry struct {
	account string
	expires time.Time
}

var _ ResetStore = (*MemoryResetStore)(nil)

// NewMemoryResetStore returns an empty store.
func NewMemoryResetStore() *MemoryResetStore {
	return &MemoryResetStore{byHash: map[[32]byte]resetEntry{}, byAccount: map[string][32]byte{}}
}

// Replace implements ResetStore.
func (s *MemoryResetStore) Replace(_ context.Context, account string, hash [32]byte, expires time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.byAccount[account]; ok {
		delete(s.byHash, old)
	}
	// Drop a few expired entries, so abandoned tokens do not pile up. The
	// new token expires within MaxResetTTL of now, so an entry that
	// expired MaxResetTTL before it has expired by now, on the caller's
	// clock.
	n := 0
	for h, e := range s.byHash {
		if n++; n > 8 {
			break
		}
		if e.expires.Before(expires.Add(-MaxResetTTL)) {
			delete(s.byHash, h)
			delete(s.byAccount, e.account)
		}
	}
	s.byHash[hash] = resetEntry{account: account, expires: expires}
	s.byAccount[account] = hash
	return nil
}

// Take implements ResetStore.
func (s *MemoryResetStore) Take(_ context.Context, hash [32]byte) (string, time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.byHash[hash]
	if !ok {
		return "", time.Time{}, ErrResetToken
	}
	delete(s.byHash, hash)
	if s.byAccount[e.account] == hash {
		delete(s.byAccount, e.account)
	}
	return e.account, e.expires, nil
}

// Len returns how many tokens the store holds.
func (s *MemoryResetStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byHash)
}
