package edge

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// maxBody is how much of a response body is read.
const maxBody = 1 << 20

// ErrBudget is the error of a request over Config.MaxRequests.
var ErrBudget = errors.New("edge: request budget (Config.MaxRequests) exhausted")

// errMethod is the error of a request the read-only transport refuses.
var errMethod = errors.New("edge: only GET, HEAD and OPTIONS are sent (and POST to the login route with credentials)")

type allowPostKey struct{}

// guard is the read-only, bounded transport every request goes through.
type guard struct {
	next http.RoundTripper
	max  int64
	ua   string
	used *atomic.Int64
}

func (g *guard) RoundTrip(r *http.Request) (*http.Response, error) {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
	case http.MethodPost:
		if r.Context().Value(allowPostKey{}) == nil {
			return nil, errMethod
		}
	default:
		return nil, errMethod
	}
	if g.used.Add(1) > g.max {
		return nil, ErrBudget
	}
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", g.ua)
	return g.next.RoundTrip(r)
}

// response is what one request saw.
type response struct {
	status  int
	header  http.Header
	body    []byte
	cookies []*http.Cookie
	elapsed time.Duration
	tls     *tls.ConnectionState
}

// newClient returns a client that never follows redirects (each check
// decides what a redirect means) and goes through the guard.
func (c *Checker) newClient(tc *tls.Config, used *atomic.Int64) *http.Client {
	tr := &http.Transport{
		DialContext:           c.dialer.DialContext,
		TLSClientConfig:       tc,
		TLSHandshakeTimeout:   c.cfg.Timeout,
		ResponseHeaderTimeout: c.cfg.Timeout,
		MaxIdleConnsPerHost:   c.cfg.Parallelism,
		ForceAttemptHTTP2:     true,
	}
	return &http.Client{
		Transport:     &guard{next: tr, max: int64(c.cfg.MaxRequests), ua: c.cfg.UserAgent, used: used},
		Timeout:       c.cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// do sends one request and reads up to maxBody of the answer.
func (c *Checker) do(ctx context.Context, client *http.Client, method, url string, hdr http.Header, body []byte) (*response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return nil, err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	start := c.cfg.Now()
	res, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the body: %w", method, url, err)
	}
	return &response{status: res.StatusCode, header: res.Header, body: b, cookies: res.Cookies(),
		elapsed: c.cfg.Now().Sub(start), tls: res.TLS}, nil
}
