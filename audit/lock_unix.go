//go:build unix

package audit

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// ErrInUse is returned by OpenFile when another FileSink (in this or
// another process) has the file open: two writers would fork its hash
// chain.
var ErrInUse = errors.New("audit: audit file is in use by another writer")

// lockFile takes an exclusive advisory lock on f for the sink's lifetime
// (released when f is closed).
func lockFile(f *os.File) error {
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("%w: %s: one process writes each audit file; give each replica its own file, or use audit/postgres for a shared trail", ErrInUse, f.Name())
		}
		if errors.Is(err, syscall.ENOTSUP) || errors.Is(err, syscall.EINVAL) {
			return nil // a file system without locks (or /dev/full)
		}
		return fmt.Errorf("audit: lock %s: %w", f.Name(), err)
	}
	return nil
}
