package snapshot

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"genesissync/internal/atomicfile"
	"genesissync/internal/layout"
	"genesissync/internal/zfs"
)

// OpenFiles says whether an SMB client holds a share path open; a
// reconcile.OpenFileCache fits. Open must fail closed (say true) when it
// cannot tell, and be safe for concurrent use.
type OpenFiles interface {
	Open(ctx context.Context, rel string) bool
}

// RestoreOptions configure one Restore.
type RestoreOptions struct {
	// UID and GID own the files and directories restored (the Samba
	// service user); -1 leaves that id as the process's.
	UID, GID int
	// OpenFiles, if set, names the files SMB clients hold open: those are
	// not replaced.
	OpenFiles OpenFiles
}

// Restore copies rel (a file or folder, share-relative) from the snapshot
// snap into the live share at Options.Mountpoint and returns the share
// paths not replaced because an SMB client holds them open (the restore can
// be repeated once they are closed). A missing snapshot or a path that is
// not clean and share-relative, or is reserved, fails before anything is
// done; otherwise a pre-restore snapshot is taken first. Each file is
// published through an atomicfile.Share, never through a symlink; files
// only the share has are left alone, and so are the snapshot's symlinks,
// devices and reserved names. Directories get the owner too. Telling the
// pipeline is the caller's. Safe for concurrent use; the schedule waits
// while the snapshot is read.
func (m *Manager) Restore(ctx context.Context, snap, rel string, o RestoreOptions) ([]string, error) {
	clean := filepath.Clean("/" + rel)[1:]
	if rel == "" || clean != filepath.ToSlash(rel) && clean != rel || reserved(filepath.Base(clean)) {
		return nil, fmt.Errorf("restore %q: want a clean share-relative path", rel)
	}
	// Checked before the pre-restore snapshot, which would otherwise be
	// left behind for nothing and take this second's name from a real one.
	snaps, err := m.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("restore %q from %s: %w", rel, snap, err)
	}
	if !slices.ContainsFunc(snaps, func(s zfs.SnapshotInfo) bool { return s.Name == snap }) {
		return nil, fmt.Errorf("restore %q: snapshot %s@%s: %w", rel, m.o.Dataset, snap, zfs.ErrNotFound)
	}
	if _, err := m.PreOp(ctx, zfs.PreRestore); err != nil {
		return nil, fmt.Errorf("restore %q: snapshot before restoring: %w", rel, err)
	}
	open := func(string) bool { return false }
	if o.OpenFiles != nil {
		open = func(p string) bool { return o.OpenFiles.Open(ctx, p) }
	}
	t := tree{files: atomicfile.New(m.o.Mountpoint, o.UID, o.GID), uid: o.UID, gid: o.GID, open: open}
	err = m.WithSnapshotDir(ctx, snap, func(dir string) error {
		return t.copy(ctx, filepath.Join(dir, clean), m.o.Mountpoint, clean)
	})
	if err != nil {
		return t.skipped, fmt.Errorf("restore %q from %s: %w", rel, snap, err)
	}
	return t.skipped, nil
}

// reserved reports a name in the appliance's own namespace, in any case,
// as keymap refuses it at the border.
func reserved(name string) bool {
	return strings.HasPrefix(strings.ToLower(name), layout.ReservedPrefix)
}

// tree is one copy of a snapshot's tree into the share.
type tree struct {
	files    *atomicfile.Share
	uid, gid int
	open     func(rel string) bool
	skipped  []string // share paths not replaced: open over SMB
}

// copy copies the file or directory src to the share-relative rel of the
// share at root, atomically per file.
func (t *tree) copy(ctx context.Context, src, root, rel string) error {
	share, err := os.OpenRoot(root)
	if err != nil {
		return err
	}
	defer share.Close()
	return filepath.WalkDir(src, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if reserved(e.Name()) {
			if e.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		sub, _ := filepath.Rel(src, p)
		shareRel := filepath.ToSlash(filepath.Join(rel, sub))
		switch {
		case e.IsDir():
			if err := t.files.MkdirAll(shareRel); err != nil {
				return fmt.Errorf("restore %s: %w", filepath.Join(root, shareRel), err)
			}
			if t.uid >= 0 {
				// Through the Root: MkdirAll refused symlinks, and
				// nothing swapped in since can lead outside the share.
				return share.Lchown(shareRel, t.uid, t.gid)
			}
			return nil
		case e.Type().IsRegular():
			if t.open(shareRel) {
				t.skipped = append(t.skipped, shareRel)
				return nil
			}
			return t.copyFile(ctx, p, shareRel, filepath.Join(root, shareRel))
		}
		return nil // symlinks and devices are not restored
	})
}

// copyFile publishes the snapshot's file src at the share path rel (dst
// on disk), with its permission bits and times.
func (t *tree) copyFile(ctx context.Context, src, rel, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	f, err := t.files.Create(rel, atomicfile.Options{Mode: fi.Mode().Perm(), Atime: fi.ModTime(), Mtime: fi.ModTime()})
	if err != nil {
		return fmt.Errorf("restore %s: %w", dst, err)
	}
	defer f.Close()
	_, err = io.Copy(f, in)
	if err == nil {
		err = f.Publish(ctx, func(dir *os.Root, base string) error {
			if cur, err := dir.Lstat(base); err == nil && !cur.Mode().IsRegular() {
				return fmt.Errorf("a %s is in the way, not a file", cur.Mode().Type())
			}
			return nil
		})
	}
	if err != nil {
		return fmt.Errorf("restore %s: %w", dst, err)
	}
	return nil
}
