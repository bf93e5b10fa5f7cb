//go:build !unix

package audit

import (
	"errors"
	"os"
)

// ErrInUse is returned by OpenFile when another FileSink has the file
// open. This platform has no advisory locks: keep one writer per file.
var ErrInUse = errors.New("audit: audit file is in use by another writer")

func lockFile(*os.File) error { return nil }
