package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"genesissync/internal/layout"
)

// maxNameLen is the longest file name (one path component, in bytes) that
// Linux file systems accept, ZFS and ext4 included.
const maxNameLen = 255

// tempName returns layout.TempPrefix + tag + 16 random hex digits + "-" +
// base; base, for people reading a listing, is shortened at a UTF-8
// boundary to fit maxNameLen.
func tempName(tag, base string) string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand since Go 1.24)
	prefix := layout.TempPrefix + tag + hex.EncodeToString(b[:]) + "-"
	if room := maxNameLen - len(prefix); len(base) > room {
		base = base[:room]
		for base != "" && !utf8.ValidString(base) {
			base = base[:len(base)-1]
		}
	}
	return prefix + base
}

// CleanTemp removes every regular file named layout.TempPrefix* under
// root, the leftovers of a crash, and returns how many. Call it at start,
// while nothing writes into the share: it would remove a running write's.
//
// The walk follows no symlinks, skips a top-level ".zfs", and removes
// through an os.Root, so a swapped-in symlink cannot make it remove
// outside the share. Directories named layout.TempPrefix* are entered,
// not removed. Errors do not stop the walk; they are joined and returned
// with the count. Safe for concurrent use.
func CleanTemp(root string) (int, error) { return cleanTemp(root, layout.TempPrefix) }

// CleanTempTagged is CleanTemp of only the temp files of Shares made
// WithTempTag(tag): a writer's own leftovers, safe to remove while others
// (the daemon's downloads) are writing theirs.
func CleanTempTagged(root, tag string) (int, error) { return cleanTemp(root, layout.TempPrefix+tag) }

func cleanTemp(root, prefix string) (int, error) {
	share, err := os.OpenRoot(root)
	if err != nil {
		return 0, fmt.Errorf("clean temp files: %w", err)
	}
	defer share.Close()

	removed := 0
	var errs []error
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root {
				return err
			}
			if !errors.Is(err, fs.ErrNotExist) { // vanished meanwhile: nothing to clean
				errs = append(errs, err)
			}
			return nil
		}
		if p == root {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if d.IsDir() {
			if rel == ".zfs" {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !strings.HasPrefix(d.Name(), prefix) {
			return nil
		}
		if err := share.Remove(rel); err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
			return nil
		}
		removed++
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return removed, fmt.Errorf("clean temp files in %s: %w", root, errors.Join(errs...))
	}
	return removed, nil
}
