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

// DirMode is set explicitly (chmod) on every directory a Share creates,
// whatever the process umask: the Samba service user and its group must
// be able to add and replace files in it.
const DirMode os.FileMode = 0o775

var (
	// ErrUnsafePath marks a share-relative path that a Share refuses:
	// empty, absolute, not in canonical form, with a "." or ".." component,
	// in the appliance's reserved ".genesissync*" namespace (in any case),
	// resolving outside the share, or leading through a symlinked
	// directory. It is permanent: retrying cannot help.
	ErrUnsafePath = errors.New("unsafe share path")
	// ErrLocalChanged marks a write that was not published because the
	// local path no longer is what the caller expected: a parent directory
	// moved or a component is not a directory (and the checks callers
	// pass to Publish wrap it too). The caller re-plans.
	ErrLocalChanged = errors.New("local path changed since the download was planned")
)

// Share writes files into the directory tree of one share. Every file and
// directory it creates is chowned to uid:gid (the Samba service user; -1
// leaves that id as the process's, for running unprivileged); directories
// it creates get DirMode; existing directories are left as they are. A
// Share is safe for concurrent use, also for writes into the same (new)
// directories; two concurrent writes of the same path are the caller's to
// prevent.
type Share struct {
	root     string
	uid, gid int
	tag      string
}

// New returns a Share for the tree rooted at root.
func New(root string, uid, gid int) *Share {
	return &Share{root: root, uid: uid, gid: gid}
}

// WithTempTag puts tag (letters, digits and "-") into the names of this
// Share's temp files, after layout.TempPrefix, so that its own leftovers can be
// removed (CleanTempTagged) while other writers' temp files are in use.
// It returns s; call it before the first write.
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

// CheckPath checks the path rel, relative to the share at root, lexically
// (see ErrUnsafePath), doing no I/O: for callers that refuse a path
// before they start any work for it. Create and MkdirAll check it again.
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
// published file (an fstat of it describes what was published even when
// the name was replaced again since). It stays owned by f: valid until
// Close, not to be closed by the caller.
func (f *File) OSFile() *os.File { return f.f }

// Sync sets the times of Options and fsyncs the temp file, so that its
// data and metadata are durable before it has a name. Publish calls it
// unless the caller did; a caller calls it itself to take a time stamp
// after the content is final and before the checks of Publish.
func (f *File) Sync() error {
	if f.synced {
		return nil
	}
	if !f.o.Atime.IsZero() || !f.o.Mtime.IsZero() {
		// By name, but inside the directory's Root and on a name only we
		// created.
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

// Publish renames the temp file over the target. Before the rename it
// syncs the file (see Sync), returns ctx's error if ctx is done (a
// cancelled context never starts a change), fails with ErrLocalChanged
// when the parent directory is no longer at its path, and calls check
// (nil for none) with the directory and the target's base name: the
// caller's last look at what the rename would replace. After the rename
// it fsyncs the directory; if that fails, the file is published and the
// error says so.
//
// Between check and the rename there is a window of a few system calls
// in which a change at the target is not seen; POSIX has no
// compare-and-rename. A reader that has the old file open keeps reading
// the old content: the rename replaces the name, not the inode.
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

// Close releases the write. Unless it was published, the temp file is
// removed: Close belongs in a defer right after Create, so that every
// error, a cancelled context and a panic of the writer leave nothing.
// It is safe to call more than once.
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
	// The rules above make this impossible; it stays as the last line of
	// defence should they ever be loosened.
	full := filepath.Join(root, filepath.FromSlash(rel))
	r, err := filepath.Rel(filepath.Clean(root), full)
	if err != nil || r == "." || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) || filepath.IsAbs(r) {
		return nil, "", fmt.Errorf("%w: resolves outside the share", ErrUnsafePath)
	}
	return parts[:len(parts)-1], parts[len(parts)-1], nil
}

// openDir returns the directory share/dirs as a Root, creating missing
// components (owned and moded as configured). It walks one component at
// a time with Lstat and refuses a component that is a symlink, even one
// pointing inside the share. After opening each component it compares the
// opened directory's device and inode with the Lstat, so a component
// swapped for a symlink between the two is refused too; and every step is
// an os.Root operation (openat with O_NOFOLLOW underneath), so nothing can
// make it leave the share, whatever changes concurrently.
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

// checkDirAt fails with ErrLocalChanged when the path share/dirs no longer
// leads to dir: a parent directory was renamed or replaced while the file
// was written, and publishing would put it somewhere else than its path.
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
