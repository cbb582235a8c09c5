package atomicfile

import (
	"context"
	"errors"
	"fmt"
	"genesissync/internal/layout"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// DirMode is chmodded on every directory a Share creates, whatever the
// umask: the Samba service user and group must add and replace files.
const DirMode os.FileMode = 0o775

var (
	// ErrUnsafePath marks a share-relative path a Share refuses: empty,
	// absolute, not canonical, with a "." or ".." component, in the
	// reserved namespace (any case), or leading outside the share or
	// through a symlinked directory. Permanent.
	ErrUnsafePath = errors.New("unsafe share path")
	// ErrLocalChanged marks a write not published because the local path
	// is not what the caller expected (a parent moved, a component is no
	// directory, or the caller's Publish check said so). The caller re-plans.
	ErrLocalChanged = errors.New("local path changed since the download was planned")
)

// Share writes files into one share's tree. What it creates is chowned
// to uid:gid (-1 keeps the process's id); new directories get DirMode,
// existing ones are left. Safe for concurrent use, also into the same new
// directories; concurrent writes of one path are the caller's to prevent.
type Share struct {
	root     string
	uid, gid int
	tag      string
}

// New returns a Share for the tree rooted at root.
func New(root string, uid, gid int) *Share {
	return &Share{root: root, uid: uid, gid: gid}
}

// WithTempTag tags this Share's temp names with tag (letters, digits, "-")
// so CleanTempTagged removes only its leftovers. It returns s; call it
// before the first write.
func (s *Share) WithTempTag(tag string) *Share {
	s.tag = tag
	return s
}

// Options describe the file a Create publishes.
type Options struct {
	// Mode is the file's permission bits, set on the descriptor (after
	// the owner, which may clear mode bits) whatever the umask.
	Mode os.FileMode
	// Atime and Mtime are set before the fsync; a zero one leaves that
	// time as the write made it.
	Atime, Mtime time.Time
}

// CheckPath checks rel lexically (ErrUnsafePath) with no I/O, for callers
// that refuse a path before any work. Create and MkdirAll check it again.
func CheckPath(root, rel string) error {
	_, _, err := splitRel(root, rel)
	return err
}

// Create starts a write of the share-relative path rel: it creates the
// parent directories as needed (see File) and a temp file beside rel,
// owned and moded as configured. Nothing is visible at rel until Publish;
// the caller must Close the File on every path.
func (s *Share) Create(rel string, o Options) (*File, error) {
	dirs, base, err := splitRel(s.root, rel)
	if err != nil {
		return nil, err
	}
	share, err := os.OpenRoot(s.root)
	if err != nil {
		return nil, err
	}
	dir, err := s.openDir(share, dirs)
	if err != nil {
		share.Close()
		return nil, err
	}
	f := &File{share: share, dir: dir, dirs: dirs, base: base, tmp: tempName(s.tag, base), o: o}
	f.f, err = dir.OpenFile(f.tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		dir.Close()
		share.Close()
		return nil, fmt.Errorf("create temp file: %w", err)
	}
	f.wb = writeback{f: f.f}
	if err := s.own(f.f, o.Mode); err != nil {
		f.Close()
		return nil, fmt.Errorf("temp file: %w", err)
	}
	return f, nil
}

// MkdirAll makes sure the share-relative directory rel exists, creating
// missing components as Create does (owned, DirMode, never through a
// symlink, each new entry made durable in its parent).
func (s *Share) MkdirAll(rel string) error {
	dirs, base, err := splitRel(s.root, rel)
	if err != nil {
		return err
	}
	dirs = append(dirs, base)
	share, err := os.OpenRoot(s.root)
	if err != nil {
		return err
	}
	defer share.Close()
	dir, err := s.openDir(share, dirs)
	if err != nil {
		return err
	}
	return dir.Close()
}

// File is one write in progress: a temp file beside its target, published
// at the target by Publish. A File is for one goroutine.
type File struct {
	share, dir *os.Root
	dirs       []string
	base, tmp  string
	f          *os.File
	wb         writeback
	o          Options

	synced, published, closed bool
}

// Write writes to the temp file, starting the disk's writeback of every
// writebackChunk as it goes.
func (f *File) Write(p []byte) (int, error) { return f.wb.Write(p) }

// OSFile is the open descriptor of the temp file, after Publish of the
// published one (its fstat holds even if the name was replaced since).
// f owns it: valid until Close, never closed by the caller.
func (f *File) OSFile() *os.File { return f.f }

// Sync sets Options' times and fsyncs the temp file, durable before it
// has a name. Publish calls it unless the caller did (to take a time
// stamp after the content is final, before Publish's checks).
func (f *File) Sync() error {
	if f.synced {
		return nil
	}
	if !f.o.Atime.IsZero() || !f.o.Mtime.IsZero() {
		// By name, but inside the Root and on a name only we created.
		if err := f.dir.Chtimes(f.tmp, f.o.Atime, f.o.Mtime); err != nil {
			return fmt.Errorf("set mtime: %w", err)
		}
	}
	if err := f.f.Sync(); err != nil {
		return fmt.Errorf("fsync temp file: %w", err)
	}
	f.synced = true
	return nil
}

// Publish renames the temp file over the target. Before, it syncs the
// file, returns ctx's error if ctx is done (a cancelled context never
// starts a change), fails with ErrLocalChanged when the parent is no
// longer at its path, and calls check (nil: none) with the directory and
// base name, the caller's last look at what the rename replaces. After,
// it fsyncs the directory; if that fails the file is published and the
// error says so. POSIX has no compare-and-rename: a change in the few
// system calls after check is not seen. Readers keep the old inode.
func (f *File) Publish(ctx context.Context, check func(dir *os.Root, base string) error) error {
	if f.published || f.closed {
		return errors.New("publish: the file is closed or published already")
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkDirAt(f.share, f.dir, f.dirs); err != nil {
		return err
	}
	if check != nil {
		if err := check(f.dir, f.base); err != nil {
			return err
		}
	}
	if err := f.dir.Rename(f.tmp, f.base); err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	f.published = true
	if err := syncDir(f.dir); err != nil {
		return fmt.Errorf("published, but: %w", err)
	}
	return nil
}

// Close releases the write and, unless published, removes the temp file:
// defer it right after Create so errors and panics leave nothing. Safe to
// call more than once.
func (f *File) Close() error {
	if f.closed {
		return nil
	}
	f.closed = true
	err := f.f.Close()
	if !f.published {
		if rerr := f.dir.Remove(f.tmp); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = errors.Join(err, rerr)
		}
	}
	f.dir.Close()
	f.share.Close()
	return err
}

// own sets the configured owner and mode on an open file.
func (s *Share) own(f *os.File, mode os.FileMode) error {
	if s.uid != -1 || s.gid != -1 {
		if err := f.Chown(s.uid, s.gid); err != nil {
			return err
		}
	}
	// After chown, which may clear mode bits.
	return f.Chmod(mode)
}

// splitRel checks rel lexically and splits it into its directory
// components and its base name. It does no I/O.
func splitRel(root, rel string) (dirs []string, base string, err error) {
	switch {
	case rel == "":
		return nil, "", fmt.Errorf("%w: empty", ErrUnsafePath)
	case strings.IndexByte(rel, 0) >= 0:
		return nil, "", fmt.Errorf("%w: contains NUL", ErrUnsafePath)
	case path.IsAbs(rel) || filepath.IsAbs(rel):
		return nil, "", fmt.Errorf("%w: absolute", ErrUnsafePath)
	}
	parts := strings.Split(rel, "/")
	for _, p := range parts {
		switch {
		case p == "..":
			return nil, "", fmt.Errorf("%w: contains a \"..\" component", ErrUnsafePath)
		case p == "." || p == "":
			return nil, "", fmt.Errorf("%w: not in canonical form", ErrUnsafePath)
		case strings.HasPrefix(strings.ToLower(p), layout.ReservedPrefix):
			return nil, "", fmt.Errorf("%w: %q is in the appliance's reserved namespace", ErrUnsafePath, p)
		}
	}
	// Impossible under the rules above; defence should they be loosened.
	full := filepath.Join(root, filepath.FromSlash(rel))
	r, err := filepath.Rel(filepath.Clean(root), full)
	if err != nil || r == "." || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) || filepath.IsAbs(r) {
		return nil, "", fmt.Errorf("%w: resolves outside the share", ErrUnsafePath)
	}
	return parts[:len(parts)-1], parts[len(parts)-1], nil
}

// openDir returns share/dirs as a Root, creating missing components. It
// walks one component at a time, refusing a symlink (even one inside the
// share) by Lstat, then compares the opened directory's device and inode
// with the Lstat to catch a swap in between; every step is an os.Root
// operation (openat, O_NOFOLLOW), so nothing concurrent can make it leave
// the share.
func (s *Share) openDir(share *os.Root, dirs []string) (*os.Root, error) {
	cur, err := share.OpenRoot(".")
	if err != nil {
		return nil, err
	}
	for i, name := range dirs {
		next, err := s.openChild(cur, name)
		cur.Close()
		if err != nil {
			return nil, fmt.Errorf("directory %q: %w", path.Join(dirs[:i+1]...), err)
		}
		cur = next
	}
	return cur, nil
}

// openChild opens (creating if needed) the directory name, one component,
// inside parent.
func (s *Share) openChild(parent *os.Root, name string) (*os.Root, error) {
	created := false
	fi, err := parent.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		switch err = parent.Mkdir(name, DirMode); {
		case err == nil:
			created = true
		case errors.Is(err, fs.ErrExist): // a concurrent write made it
			err = nil
		}
		if err == nil {
			fi, err = parent.Lstat(name)
		}
	}
	if err != nil {
		return nil, err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return nil, fmt.Errorf("%w: a symlink", ErrUnsafePath)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%w: exists and is not a directory", ErrLocalChanged)
	}
	child, err := parent.OpenRoot(name)
	if err != nil {
		return nil, err
	}
	opened, err := child.Stat(".")
	if err == nil && !os.SameFile(fi, opened) {
		err = fmt.Errorf("%w: replaced while it was opened", ErrUnsafePath)
	}
	if err == nil && created {
		err = s.ownDir(parent, child)
	}
	if err != nil {
		child.Close()
		return nil, err
	}
	return child, nil
}

// ownDir sets owner and mode of a directory this Share created and makes
// its entry in parent durable.
func (s *Share) ownDir(parent, dir *os.Root) error {
	if s.uid != -1 || s.gid != -1 {
		if err := dir.Chown(".", s.uid, s.gid); err != nil {
			return err
		}
	}
	if err := dir.Chmod(".", DirMode); err != nil {
		return err
	}
	return syncDir(parent)
}

// checkDirAt fails with ErrLocalChanged when share/dirs no longer leads
// to dir (a parent was renamed or replaced during the write).
func checkDirAt(share, dir *os.Root, dirs []string) error {
	want, err := dir.Stat(".")
	if err != nil {
		return err
	}
	now, err := share.Lstat(path.Join(append([]string{"."}, dirs...)...))
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || (err == nil && !os.SameFile(want, now)) {
		return fmt.Errorf("%w: the parent directory moved", ErrLocalChanged)
	}
	return err
}

// fsyncDir is the fsync of an open directory; tests replace it to see
// and fail it.
var fsyncDir = func(d *os.File) error { return d.Sync() }

// syncDir fsyncs a directory, making renames and creations in it durable.
func syncDir(dir *os.Root) error {
	f, err := dir.Open(".")
	if err != nil {
		return err
	}
	defer f.Close()
	if err := fsyncDir(f); err != nil {
		return fmt.Errorf("fsync directory: %w", err)
	}
	return nil
}
