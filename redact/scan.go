package redact

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"strings"
	"unicode/utf8"
	"unsafe"
)

// A Finding is one secret found by a scan. It never holds the secret itself.
type Finding struct {
	// Detector names the detector that matched.
	Detector string
	// File is the path (slash-separated) within the scanned tree or repository.
	File string
	// Line is the 1-based line number in File (for history scans, in the
	// file as of Commit).
	Line int
	// Column is the 1-based column, in characters, where the masked span
	// starts on Line.
	Column int
	// Commit is the commit that added the secret (history scans only).
	Commit string
	// Masked is a masked form of the secret.
	Masked string
}

func (f Finding) String() string {
	loc := f.File
	if f.Line > 0 {
		loc = fmt.Sprintf("%s:%d", f.File, f.Line)
		if f.Column > 0 {
			loc += fmt.Sprintf(":%d", f.Column)
		}
	}
	if f.Commit != "" {
		loc = f.Commit[:min(12, len(f.Commit))] + " " + loc
	}
	return fmt.Sprintf("%s: %s %s", loc, f.Detector, f.Masked)
}

// ScanBytes returns the secrets (not personal data) in b. File is empty;
// Line is set.
func ScanBytes(b []byte) []Finding {
	var out []Finding
	scanText(string(b), 1, func(f Finding) { out = append(out, f) })
	return out
}

// chunkSize bounds the text a pattern sees at once; unchunked regex scans of
// large files collapse in throughput.
const chunkSize = 256 << 10

// ScanReader scans r in chunks split at line boundaries and calls fn for
// each secret. Lines longer than a chunk are split.
func ScanReader(r io.Reader, fn func(Finding)) error {
	br := bufio.NewReaderSize(r, chunkSize)
	line := 1
	buf := make([]byte, 0, chunkSize+4096)
	for {
		buf = buf[:0]
		var err error
		for len(buf) < chunkSize {
			var part []byte
			part, err = br.ReadSlice('\n')
			buf = append(buf, part...)
			if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
				break
			}
			err = nil
		}
		if len(buf) > 0 {
			text := string(buf)
			scanText(text, line, fn)
			line += strings.Count(text, "\n")
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// scanText scans text line by line: the prefilter runs on each line and only
// candidate detectors run their pattern on it (multi-line detectors on the
// text from that line on).
func scanText(text string, firstLine int, fn func(Finding)) {
	line := firstLine
	pemUntil := -1
	for off := 0; off < len(text); {
		end := strings.IndexByte(text[off:], '\n')
		if end < 0 {
			end = len(text)
		} else {
			end += off
		}
		l := text[off:end]
		if mask := candidates(l) &^ notScanned; mask != 0 {
			for _, sp := range find(l, mask&^multilineMask) {
				fn(Finding{Detector: sp.det.Name, Line: line, Column: column(l, sp.start), Masked: Mask(l[sp.start:sp.end])})
			}
			if mask&multilineMask != 0 && off >= pemUntil {
				subject := text[off:min(len(text), off+32<<10)]
				for _, d := range defaultDetectors {
					if mask&multilineMask&d.bit == 0 {
						continue
					}
					// first match only: later ones are reported on their own line
					m := d.Pattern.FindStringIndex(subject)
					if m == nil || m[0] > len(l) || !d.validSpan(subject[m[0]:m[1]]) {
						continue
					}
					pemUntil = off + m[1]
					fn(Finding{Detector: d.Name, Line: line, Column: column(l, m[0]), Masked: Mask(subject[m[0]:m[1]])})
				}
			}
		}
		line++
		off = end + 1
	}
}

// column is the 1-based character column of byte offset off in line.
func column(line string, off int) int { return utf8.RuneCountInString(line[:off]) + 1 }

// notScanned and multilineMask select the personal-data and log-only
// detectors, which scans skip, and the multi-line
// detectors. They are computed in init (detector.go), after the detector
// bits are assigned: a package-level initializer would run first and see
// every bit as zero.
var notScanned, multilineMask uint64

// maxFileSize skips files larger than this in tree scans (media, archives).
const maxFileSize = 32 << 20

// ScanDir scans the directory tree at dir the way ScanFS does: every
// regular file but binaries and files over 32 MiB, skipping .git and
// node_modules. File names in findings are slash-separated and relative
// to dir. It is the plain "scan this checkout" entry point; use
// ScanGitWorktree for tracked files only and ScanGitHistory for history.
func ScanDir(dir string) ([]Finding, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("redact: scanning %s: %w", dir, err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("redact: scanning %s: not a directory", dir)
	}
	return ScanFS(os.DirFS(dir), ".")
}

// ScanFS scans every regular file under root in fsys (use "." for all), such
// as an embedded frontend build (embed.FS) or os.DirFS. Binary files (a NUL
// byte in the first 8 KiB) and files over 32 MiB are skipped.
func ScanFS(fsys fs.FS, root string) ([]Finding, error) {
	var out []Finding
	var buf []byte // reused for every file
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" || d.Name() == "node_modules" {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		buf, err = readFile(fsys, p, buf[:0])
		if errors.Is(err, errTooLarge) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("redact: reading %s: %w", p, err)
		}
		if bytes.IndexByte(buf[:min(len(buf), 8192)], 0) >= 0 {
			return nil
		}
		scanText(aliasString(buf), 1, func(f Finding) {
			f.File = p
			out = append(out, f)
		})
		return nil
	})
	return out, err
}

var errTooLarge = errors.New("file too large")

// readFile appends the file's contents to buf, refusing files over
// maxFileSize.
func readFile(fsys fs.FS, p string, buf []byte) ([]byte, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return buf, err
	}
	defer f.Close()
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if len(buf) > maxFileSize {
			return buf, errTooLarge
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// aliasString views b as a string without copying it. The scanners keep
// no reference to their input past scanText: a finding's Masked is built
// by concatenation (Mask), never sliced from the text, so the buffer can
// be reused for the next file.
func aliasString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

func git(ctx context.Context, dir string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir, "-c", "core.quotepath=off"}, args...)...)
	return cmd
}

// GitFiles lists the files tracked in the repository at dir.
func GitFiles(ctx context.Context, dir string) ([]string, error) {
	out, err := git(ctx, dir, "ls-files", "-z").Output()
	if err != nil {
		return nil, fmt.Errorf("redact: git ls-files in %s: %w", dir, err)
	}
	var files []string
	for _, f := range strings.Split(string(out), "\x00") {
		if f != "" {
			files = append(files, f)
		}
	}
	return files, nil
}

// ScanGitWorktree scans the tracked files of the repository's working tree.
func ScanGitWorktree(ctx context.Context, fsys fs.FS, dir string) ([]Finding, error) {
	files, err := GitFiles(ctx, dir)
	if err != nil {
		return nil, err
	}
	var out []Finding
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil || len(b) > maxFileSize || bytes.IndexByte(b[:min(len(b), 8192)], 0) >= 0 {
			continue // deleted in the working tree, or binary
		}
		scanText(string(b), 1, func(fd Finding) {
			fd.File = f
			out = append(out, fd)
		})
	}
	return out, nil
}

// ScanGitHistory scans every line ever added in any commit reachable from
// any ref (`git log -p --all`), including files deleted since. Each finding
// names the commit that added the line, the file, and the line number in
// that commit's version of the file.
func ScanGitHistory(ctx context.Context, dir string) ([]Finding, error) {
	cmd := git(ctx, dir, "log", "-p", "--all", "--no-color", "--no-ext-diff", "-U0",
		"--format=commit %H", "--diff-filter=AM", "--no-renames")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("redact: starting git log: %w", err)
	}
	var out []Finding
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	var commit, file string
	newLine := 0
	for sc.Scan() {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "commit "):
			commit, file = strings.TrimPrefix(l, "commit "), ""
		case strings.HasPrefix(l, "+++ "):
			file = strings.TrimPrefix(strings.TrimPrefix(l, "+++ "), "b/")
		case strings.HasPrefix(l, "@@ "):
			// @@ -a,b +c,d @@
			if i := strings.Index(l, " +"); i >= 0 {
				rest := l[i+2:]
				if j := strings.IndexAny(rest, ", "); j >= 0 {
					rest = rest[:j]
				}
				fmt.Sscan(rest, &newLine)
			}
		case strings.HasPrefix(l, "+") && file != "":
			n := newLine
			scanText(l[1:], n, func(f Finding) {
				f.File, f.Commit = file, commit
				out = append(out, f)
			})
			newLine++
		}
	}
	scanErr := sc.Err()
	if err := cmd.Wait(); err != nil {
		return out, fmt.Errorf("redact: git log in %s: %w: %s", dir, err, strings.TrimSpace(stderr.String()))
	}
	return out, scanErr
}
