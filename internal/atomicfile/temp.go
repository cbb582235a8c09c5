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

// tempName returns a fresh temp name for a write of base:
// layout.TempPrefix + tag + 16 random hex digits + "-" + base. The base is only
// there for people reading a directory listing; it is shortened (at a
// UTF-8 boundary) when the whole name would exceed maxNameLen.
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

// CleanTemp removes every regular file named layout.TempPrefix* under root and
// returns how many it removed. Those are left only by a crash (kill -9,
// power loss) between a write's start and its rename; a File removes its
// temp file on every other path. Call it at start, while nothing writes
// into this share: it would remove the temp file of a running write.
//
// The walk does not follow symlinks, does not enter a ".zfs" directory at
// the top of the share (ZFS snapshots, read-only), and removes through an
// os.Root on root, so a directory swapped for a symlink during the walk
// cannot make it remove anything outside the share. Directories named
// layout.TempPrefix* are not removed (the appliance never creates any), but the
// walk enters them. An entry that cannot be read or removed does not stop
// the walk; the errors are joined and returned with the count. Safe for
// concurrent use.
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
