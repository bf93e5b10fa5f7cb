// Package chromium starts Debian's headless chromium for browser tests and
// drives it through chromedp. Each Browser runs in its own fresh profile
// (--user-data-dir) with the flags that keep chromium off the network, and
// is closed when the test ends.
//
//	b := chromium.Start(t)
//	b.Navigate(srv.URL)
//	var title string; b.Eval(`document.title`, &title)
package chromium

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Path is the browser binary Start runs: $CHROMIUM, or Debian's
// /usr/bin/chromium.
func Path() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// Flags are the command-line switches Start passes besides
// --user-data-dir: headless, no sandbox (tests run as root), and nothing that
// reaches for the network.
var Flags = []string{"headless", "no-sandbox", "disable-gpu", "disable-quic", "no-first-run",
	"disable-background-networking", "disable-component-update", "disable-sync",
	"no-default-browser-check", "disable-extensions", "mute-audio"}

// Timeout bounds each Browser call.
var Timeout = 30 * time.Second

// Browser is one running chromium with one tab.
type Browser struct {
	t   testing.TB
	ctx context.Context
}

// Start launches chromium for t and closes it at t's cleanup. When the
// binary is missing it skips t, or fails it when CI=true.
func Start(t testing.TB) *Browser {
	t.Helper()
	path := Path()
	if _, err := exec.LookPath(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium: %s not found and CI=true: install Debian's chromium package", path)
		}
		t.Skipf("chromium: %s not found; install Debian's chromium package (or set $CHROMIUM) to run browser tests", path)
	}
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(path), chromedp.UserDataDir(t.TempDir())}
	for _, f := range Flags {
		opts = append(opts, chromedp.Flag(f, true))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first call starts the browser; it must not carry a timeout, which
	// would stop the browser with it.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("chromium: starting %s: %v", path, err)
	}
	return &Browser{t: t, ctx: ctx}
}

// Context is the chromedp context of the tab, for actions this package
// does not wrap.
func (b *Browser) Context() context.Context { return b.ctx }

// Do runs chromedp actions in the tab with Timeout.
func (b *Browser) Do(actions ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	return chromedp.Do(ctx, actions...)
}

// Navigate loads url and waits for the page's load event.
func (b *Browser) Navigate(url string) error {
	return b.Do(chromedp.Navigate(url))
}

// Eval evaluates the JavaScript expression js in the page, awaiting it when
// it is a promise, and decodes its JSON result into out (nil to discard).
func (b *Browser) Eval(js string, out any) error {
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](js, chromedp.EvalAwaitPromise))
	if err != nil || out == nil {
		return err
	}
	return json.Unmarshal(raw, out)
}

// WaitFor waits until the JavaScript expression js is truthy.
func (b *Browser) WaitFor(js string) error {
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	for {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+js+")")); err == nil && ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.New("chromium: timed out waiting for " + js)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Screenshot captures the full page as PNG.
func (b *Browser) Screenshot() ([]byte, error) {
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	return chromedp.Run(ctx, chromedp.FullScreenshot(100))
}
