package session_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2/memstore"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/session"
)

func TestPasswordResetEndsEverySession(t *testing.T) {
	_, srv := newServer(t, session.Config{})
	laptop, phone, attacker, bob := newBrowser(t, srv), newBrowser(t, srv), newBrowser(t, srv), newBrowser(t, srv)
	for _, b := range []*browser{laptop, phone, attacker} {
		b.post("/login", url.Values{"user": {"alice"}})
	}
	bob.post("/login", url.Values{"user": {"bob"}})
	stolen := attacker.token()

	resp, err := newBrowser(t, srv).c.PostForm(srv.URL+"/reset", url.Values{"user": {"alice"}})
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "3", string(body))
	// Attack: the sessions (and a copied cookie) of the old password die.
	for _, b := range []*browser{laptop, phone, attacker} {
		code, _ := b.me()
		assert.Equal(t, http.StatusUnauthorized, code)
	}
	assert.Equal(t, http.StatusUnauthorized, replay(t, srv, stolen))
	code, _ := bob.me()
	assert.Equal(t, http.StatusOK, code, "other users stay signed in")
}

func TestPasswordChangeKeepsOnlyTheCurrentSession(t *testing.T) {
	_, srv := newServer(t, session.Config{})
	laptop, phone := newBrowser(t, srv), newBrowser(t, srv)
	laptop.post("/login", url.Values{"user": {"alice"}})
	phone.post("/login", url.Values{"user": {"alice"}})
	before := laptop.token()

	resp := laptop.post("/password", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	code, who := laptop.me()
	assert.Equal(t, http.StatusOK, code, "the session that changed the password stays")
	assert.Contains(t, who, "alice")
	assert.NotEqual(t, before, laptop.token(), "under a new token")
	assert.Equal(t, http.StatusUnauthorized, replay(t, srv, before))
	code, _ = phone.me()
	assert.Equal(t, http.StatusUnauthorized, code)
}

func TestPasswordChangedNeedsIterableStore(t *testing.T) {
	mgr, err := session.New(session.Config{Store: plainStore{memstore.NewWithCleanupInterval(0)}})
	require.NoError(t, err)
	_, err = mgr.PasswordChanged(context.Background(), "alice")
	assert.ErrorIs(t, err, session.ErrNotIterable)
	_, err = mgr.PasswordChanged(context.Background(), "")
	assert.ErrorIs(t, err, session.ErrNoUserID)
}

type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func newResets(t *testing.T) (*session.ResetTokens, *fakeClock, *session.MemoryResetStore) {
	t.Helper()
	clk := &fakeClock{}
	clk.ns.Store(time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC).UnixNano())
	store := session.NewMemoryResetStore()
	rt, err := session.NewResetTokens(session.ResetConfig{Store: store, Now: clk.Now})
	require.NoError(t, err)
	return rt, clk, store
}

func TestResetTokensSingleUseAndExpiring(t *testing.T) {
	rt, clk, _ := newResets(t)
	ctx := context.Background()
	assert.Equal(t, session.MaxResetTTL, rt.TTL())
	tok, err := rt.Issue(ctx, "u-1")
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(tok), 52)
	acct, err := rt.Consume(ctx, tok)
	require.NoError(t, err)
	assert.Equal(t, "u-1", acct)
	// Attack: a replayed token fails.
	_, err = rt.Consume(ctx, tok)
	assert.ErrorIs(t, err, session.ErrResetToken)

	late, err := rt.Issue(ctx, "u-1")
	require.NoError(t, err)
	clk.Advance(session.MaxResetTTL)
	_, err = rt.Consume(ctx, late)
	assert.ErrorIs(t, err, session.ErrResetToken, "expired at exactly the TTL")

	for _, bad := range []string{"", "x", string(make([]byte, 4096))} {
		_, err = rt.Consume(ctx, bad)
		assert.ErrorIs(t, err, session.ErrResetToken)
	}
}

func TestResetTokensRevokeEachOther(t *testing.T) {
	rt, _, store := newResets(t)
	ctx := context.Background()
	t1, err := rt.Issue(ctx, "u-1")
	require.NoError(t, err)
	t2, err := rt.Issue(ctx, "u-1")
	require.NoError(t, err)
	other, err := rt.Issue(ctx, "u-2")
	require.NoError(t, err)
	// Attack: the older link stops working as soon as a new one is issued.
	_, err = rt.Consume(ctx, t1)
	assert.ErrorIs(t, err, session.ErrResetToken)
	acct, err := rt.Consume(ctx, t2)
	require.NoError(t, err)
	assert.Equal(t, "u-1", acct)
	assert.Equal(t, 1, store.Len(), "only u-2's token is left")
	acct, err = rt.Consume(ctx, other)
	require.NoError(t, err)
	assert.Equal(t, "u-2", acct)
}

func TestResetTokensStoreOnlyHashes(t *testing.T) {
	rec := &recordingStore{ResetStore: session.NewMemoryResetStore()}
	rt, err := session.NewResetTokens(session.ResetConfig{Store: rec})
	require.NoError(t, err)
	tok, err := rt.Issue(context.Background(), "u-1")
	require.NoError(t, err)
	require.Len(t, rec.hashes, 1)
	assert.NotContains(t, string(rec.hashes[0][:]), tok)
}

func TestResetTokensConcurrentConsumeWinsOnce(t *testing.T) {
	rt, _, _ := newResets(t)
	tok, err := rt.Issue(context.Background(), "u-1")
	require.NoError(t, err)
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if _, err := rt.Consume(context.Background(), tok); err == nil {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int32(1), wins.Load())
}

func TestResetConfigRefused(t *testing.T) {
	_, err := session.NewResetTokens(session.ResetConfig{TTL: time.Hour})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "ResetConfig.TTL")
}

type recordingStore struct {
	session.ResetStore
	hashes [][32]byte
}

func (r *recordingStore) Replace(ctx context.Context, account string, hash [32]byte, expires time.Time) error {
	r.hashes = append(r.hashes, hash)
	return r.ResetStore.Replace(ctx, account, hash, expires)
}
