// Package e2e holds browser-facing tests that drive Debian's headless
// chromium. It is its own module so the core never depends on a browser driver.
package e2e
