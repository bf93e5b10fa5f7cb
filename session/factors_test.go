package session_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/launchready/launchready/session"
)

func (b *browser) auth() (int, string) {
	b.t.Helper()
	resp, err := b.c.Get(b.srv.URL + "/auth")
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestStepUpAddsAFactorAndRenewsTheToken(t *testing.T) {
	mgr := newBubbleManager(t, session.Config{})
	synctest.Test(t, func(t *testing.T) {
		srv, b := bubbleServer(t, mgr)
		b.post("/login", url.Values{"user": {"ada"}})
		login := time.Now().Unix()
		code, body := b.auth()
		require.Equal(t, http.StatusOK, code)
		assert.Equal(t, fmt.Sprintf("ada pwd@%d", login), body, "a password sign-in has one factor")

		time.Sleep(2 * time.Minute)
		before := b.token()
		require.Equal(t, http.StatusNoContent, b.post("/stepup", url.Values{"method": {session.MethodOTP}}).StatusCode)
		after := b.token()
		assert.NotEqual(t, before, after, "step-up renews the token")
		_, body = b.auth()
		assert.Equal(t, fmt.Sprintf("ada pwd@%d otp@%d", login, login+120), body)

		// The token from before the step-up is dead (fixation: a planted
		// token must not inherit the second factor).
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/auth", nil)
		require.NoError(t, err)
		req.AddCookie(&http.Cookie{Name: session.DefaultCookieName, Value: before})
		resp, err := b.c.Transport.RoundTrip(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

		// Signing in again with the password alone drops the old factor.
		b.post("/login", url.Values{"user": {"ada"}})
		_, body = b.auth()
		assert.Equal(t, fmt.Sprintf("ada pwd@%d", time.Now().Unix()), body)
	})
}

func TestStepUpRefusals(t *testing.T) {
	_, srv := newServer(t, session.Config{})
	b := newBrowser(t, srv)
	assert.Equal(t, http.StatusUnauthorized, b.post("/stepup", url.Values{"method": {session.MethodOTP}}).StatusCode, "anonymous")
	b.post("/login", url.Values{"user": {"ada"}})
	assert.Equal(t, http.StatusUnauthorized, b.post("/stepup", url.Values{"method": {"sms"}}).StatusCode, "unknown method")
}

func TestTwoStepLogin(t *testing.T) {
	mgr := newBubbleManager(t, session.Config{})
	synctest.Test(t, func(t *testing.T) {
		_, b := bubbleServer(t, mgr)
		// Completing with nothing pending does nothing.
		assert.Equal(t, http.StatusUnauthorized, b.post("/complete", nil).StatusCode)

		b.post("/login", url.Values{"user": {"someone-else"}})
		signedIn := b.token()
		require.Equal(t, http.StatusNoContent, b.post("/begin", url.Values{"user": {"ada"}}).StatusCode)
		assert.NotEqual(t, signedIn, b.token(), "the password step renews the token")
		code, _ := b.auth()
		assert.Equal(t, http.StatusUnauthorized, code, "password verified, second factor not: nobody is signed in")
		code, _ = b.me()
		assert.Equal(t, http.StatusUnauthorized, code)

		time.Sleep(time.Minute)
		pending := b.token()
		require.Equal(t, http.StatusNoContent, b.post("/complete", nil).StatusCode)
		assert.NotEqual(t, pending, b.token(), "completing renews the token")
		code, body := b.auth()
		require.Equal(t, http.StatusOK, code)
		now := time.Now().Unix()
		assert.Equal(t, fmt.Sprintf("ada pwd@%d otp@%d", now, now), body)
		// Pending state is spent.
		assert.Equal(t, http.StatusUnauthorized, b.post("/complete", nil).StatusCode)
	})
}

func TestPendingLoginExpires(t *testing.T) {
	mgr := newBubbleManager(t, session.Config{})
	synctest.Test(t, func(t *testing.T) {
		_, b := bubbleServer(t, mgr)
		b.post("/begin", url.Values{"user": {"ada"}})
		time.Sleep(session.PendingTimeout + time.Second)
		assert.Equal(t, http.StatusUnauthorized, b.post("/complete", nil).StatusCode, "the second factor came too late")
		code, _ := b.auth()
		assert.Equal(t, http.StatusUnauthorized, code)
	})
}

// TestFactorsWhenLoadedEagerly: the factors read the same whether the
// middleware peeked at the session or loaded it into scs before the
// handler.
func TestFactorsWhenLoadedEagerly(t *testing.T) {
	mgr := newBubbleManager(t, session.Config{})
	session.LoadEagerly(mgr)
	synctest.Test(t, func(t *testing.T) {
		_, b := bubbleServer(t, mgr)
		b.post("/begin", url.Values{"user": {"ada"}})
		code, _ := b.auth()
		assert.Equal(t, http.StatusUnauthorized, code)
		require.Equal(t, http.StatusNoContent, b.post("/complete", nil).StatusCode)
		code, body := b.auth()
		require.Equal(t, http.StatusOK, code)
		now := time.Now().Unix()
		assert.Equal(t, fmt.Sprintf("ada pwd@%d otp@%d", now, now), body)
	})
}
