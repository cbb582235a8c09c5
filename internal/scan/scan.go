package scan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// File is what the scanner knows of one regular file without reading it.
type File struct {
	Path  string // share-relative, slash-separated
	Size  int64
	Mtime time.Time
	Inode uint64
}

// SameVersion reports whether two stats describe the same file version as
// far as stat can tell.
func (f File) SameVersion(o File) bool {
	return f.Size == o.Size && f.Mtime.Equal(o.Mtime) && f.Inode == o.Inode
}

// Matcher decides which paths are excluded from sync. Patterns without a
// slash match the base name of any file or directory; patterns with a
// slash match the whole share-relative path. Matching is case-insensitive,
// as Windows clients expect.
type Matcher struct {
	base []string
	full []string
}

// NewMatcher builds a matcher from patterns that were validated already
// (config validation checks their syntax).
func NewMatcher(patterns ...[]string) *Matcher {
	m := &Matcher{}
	for _, ps := range patterns {
		for _, p := range ps {
			p = strings.ToLower(p)
			if strings.Contains(p, "/") {
				m.full = append(m.full, strings.TrimPrefix(p, "/"))
			} else {
				m.base = append(m.base, p)
			}
		}
	}
	return m
}

// Excluded reports whether the share-relative path is excluded.
func (m *Matcher) Excluded(rel string) bool {
	lower := strings.ToLower(rel)
	base := path.Base(lower)
	for _, p := range m.base {
		if ok, _ := path.Match(p, base); ok {
			return true
		}
	}
	for _, p := range m.full {
		if ok, _ := path.Match(p, lower); ok {
			return true
		}
	}
	return false
}

// ExcludedPath reports whether the share-relative path of a file is
// excluded itself or lies in an excluded directory: what a walk would
// never reach. For names that come from elsewhere (bucket keys, events).
func (m *Matcher) ExcludedPath(rel string) bool {
	for i := 0; i < len(rel); i++ {
		if rel[i] == '/' && m.Excluded(rel[:i]) {
			return true
		}
	}
	return m.Excluded(rel)
}

// Walk calls fn for every regular, non-excluded file under root/sub (sub
// is share-relative; "" is the whole share), in lexical order. Excluded
// directories are not entered. A file that vanishes during the walk is
// skipped; other errors stop the walk.
func Walk(ctx context.Context, root, sub string, m *Matcher, fn func(File) error) error {
	start := filepath.Join(root, filepath.FromSlash(sub))
	return filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p != start {
				return nil
			}
			return fmt.Errorf("walk %s: %w", p, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == root {
			return nil
		}
		rel := filepath.ToSlash(strings.TrimPrefix(p, root+string(filepath.Separator)))
		if m != nil && m.Excluded(rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		f, err := Stat(root, rel)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		return fn(f)
	})
}

// Stat stats one share-relative path without following a final symlink.
// It returns an error wrapping fs.ErrNotExist when the path is gone and
// ErrNotRegular when it is not a regular file.
func Stat(root, rel string) (File, error) {
	fi, err := os.Lstat(filepath.Join(root, filepath.FromSlash(rel)))
	if errors.Is(err, syscall.ENOTDIR) {
		// A parent folder was replaced by a file: the path is gone.
		return File{}, fmt.Errorf("stat %q: a parent is now a file: %w", rel, fs.ErrNotExist)
	}
	if err != nil {
		return File{}, fmt.Errorf("stat %q: %w", rel, err)
	}
	if !fi.Mode().IsRegular() {
		return File{}, fmt.Errorf("stat %q: %w", rel, ErrNotRegular)
	}
	return fromInfo(rel, fi), nil
}

// ErrNotRegular marks a path that is a directory, symlink or device.
var ErrNotRegular = errors.New("not a regular file")

func fromInfo(rel string, fi fs.FileInfo) File {
	f := File{Path: rel, Size: fi.Size(), Mtime: fi.ModTime().UTC()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		f.Inode = st.Ino
	}
	return f
}

// HashFile reads the file once and returns its SHA-256 (lowercase hex)
// together with the stat taken before reading. It fails with
// ErrChangedWhileReading when the file's stat differs after the read, so a
// hash is only ever reported for a version that held still.
func HashFile(ctx context.Context, root, rel string) (string, File, error) {
	return HashFileWith(ctx, root, rel)
}

// HashFileWith is HashFile that also writes every byte it reads to each
// of also (more hashes of the same pass), so that a file is read once for
// all of them. Their results are valid only when it returns no error.
func HashFileWith(ctx context.Context, root, rel string, also ...io.Writer) (string, File, error) {
	f, err := os.Open(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		return "", File{}, fmt.Errorf("hash %q: %w", rel, err)
	}
	defer f.Close()
	before, err := FStat(f, rel)
	if err != nil {
		return "", File{}, err
	}
	h := sha256.New()
	var w io.Writer = h
	if len(also) > 0 {
		w = io.MultiWriter(append([]io.Writer{h}, also...)...)
	}
	if _, err := io.Copy(w, ContextReader{ctx, f}); err != nil {
		return "", File{}, fmt.Errorf("hash %q: %w", rel, err)
	}
	after, err := Stat(root, rel)
	if err != nil {
		return "", File{}, err
	}
	if !after.SameVersion(before) {
		return "", File{}, fmt.Errorf("hash %q: %w", rel, ErrChangedWhileReading)
	}
	return hex.EncodeToString(h.Sum(nil)), before, nil
}

// ErrChangedWhileReading marks a file that was modified while it was read.
var ErrChangedWhileReading = errors.New("file changed while it was being read")

// FStat stats an open file in the scanner's terms.
func FStat(f *os.File, rel string) (File, error) {
	fi, err := f.Stat()
	if err != nil {
		return File{}, fmt.Errorf("stat %q: %w", rel, err)
	}
	if !fi.Mode().IsRegular() {
		return File{}, fmt.Errorf("stat %q: %w", rel, ErrNotRegular)
	}
	return fromInfo(rel, fi), nil
}

// ContextReader stops a long read when its context is cancelled: each
// Read first checks Ctx. It is as safe for concurrent use as R.
type ContextReader struct {
	Ctx context.Context
	R   io.Reader
}

func (c ContextReader) Read(p []byte) (int, error) {
	if err := c.Ctx.Err(); err != nil {
		return 0, err
	}
	return c.R.Read(p)
}
