package transfer

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"genesissync/internal/atomicfile"
	"genesissync/internal/index"
	"genesissync/internal/objstore"
	"genesissync/internal/scan"
	"genesissync/internal/tripwire"
)

// getter is the part of the object store a download needs.
type getter interface {
	Get(ctx context.Context, key string) (io.ReadCloser, objstore.Object, error)
}

var _ getter = (*objstore.S3)(nil)

// matchingGetter is a store that can get the version a caller decided
// on (objstore.S3.GetMatching): with several endpoints, a replica that
// lags is passed over.
type matchingGetter interface {
	GetMatching(ctx context.Context, key, etag string) (io.ReadCloser, objstore.Object, error)
}

var _ matchingGetter = (*objstore.S3)(nil)

const (
	// fileMode is chmodded on every published file, whatever the umask:
	// the Samba service user and group must be able to replace it.
	fileMode os.FileMode = 0o664

	// copyBufSize: few syscalls per MiB, small beside several downloads.
	copyBufSize = 256 << 10
)

var (
	// ErrCorrupt marks a download whose bytes do not match the object;
	// nothing was published. A retry may help; repeated failures mean the
	// object is damaged.
	ErrCorrupt = errors.New("downloaded content does not match the object")
	// ErrLocalChanged marks a download not published because the local
	// path is not what the caller expected; the caller re-plans with a
	// fresh scan. It is atomicfile's.
	ErrLocalChanged = atomicfile.ErrLocalChanged
	// ErrUnsafePath marks a share-relative path Download refuses
	// (atomicfile.CheckPath's rules); permanent. It is atomicfile's.
	ErrUnsafePath = atomicfile.ErrUnsafePath
)

// Downloader publishes objects as files of one share. It is safe for
// concurrent use, also into the same new directories; concurrent
// downloads of one path are the caller's to prevent.
type Downloader struct {
	root  string
	files *atomicfile.Share
	store getter
	pacer Pacer
	now   func() time.Time
}

// WithTempTag tags this downloader's temp names with tag (letters, digits,
// "-") so atomicfile.CleanTempTagged removes only its leftovers. It
// returns d.
func (d *Downloader) WithTempTag(tag string) *Downloader {
	d.files.WithTempTag(tag)
	return d
}

// NewDownloader returns a downloader for the share at root. What it
// creates is chowned to uid:gid (the Samba service user; -1 keeps the
// process's) and chmodded 0664 or 0775; existing directories are left.
func NewDownloader(root string, store getter, uid, gid int) *Downloader {
	return &Downloader{root: root, files: atomicfile.New(root, uid, gid), store: store, pacer: noPacer{}, now: time.Now}
}

// WithPacer makes every download wait for a slot of p (the store paces
// the wire: objstore.S3Options.Wire). It returns d.
func (d *Downloader) WithPacer(p Pacer) *Downloader {
	if p != nil {
		d.pacer = p
	}
	return d
}

// Download publishes the object for the share-relative path rel at rel,
// whole and verified, and returns the new file's index entry. expect is
// what the caller believes is at rel: nil for nothing, else the scan stat
// of the version being replaced.
//
// rel is checked (ErrUnsafePath) before any I/O. The body streams through
// an atomicfile.Share into a temp file beside rel and is verified: the
// size, then the "crc32c" metadata when it sits beside "sha256" (whose
// SHA-256 is then recorded), else the "sha256" metadata, else a
// single-part MD5 ETag (not under SSE-KMS or SSE-C, whose ETag is no MD5);
// a foreign multipart object's computed SHA-256 is accepted. A mismatch is
// ErrCorrupt. Owner, mode and mtime (the "mtime" metadata, else
// LastModified) are set and the file fsynced before it has a name; just
// before the rename the parent and rel must still match expect, else
// ErrLocalChanged. The directory is fsynced after the rename. The temp
// file is removed on every failure path; only a crash leaves one (for
// atomicfile.CleanTemp). Readers of the old file keep the old inode.
//
// POSIX has no compare-and-rename: a local save in the few system calls
// between the expect check and the rename is not seen. The caller must
// make sure no SMB client has rel open (it asks smbd): a write into the
// old inode would be lost.
//
// The entry's Size, Mtime and Inode come from an fstat of the published
// file (a client may already have replaced the path); SHA256 is the
// verified hash, ETag and VersionID the GET's. If the final directory
// fsync fails the file is published but the error returned without an
// entry: the next scan sees a local file. Store errors (ErrNotFound among
// them) are returned as the store wrapped them; others are wrapped with rel.
func (d *Downloader) Download(ctx context.Context, rel string, expect *scan.File) (index.Entry, error) {
	return d.DownloadAs(ctx, rel, rel, expect)
}

// DownloadSeen is Download of the version the caller decided on, seen
// (its HEAD): a store that can get one version by its ETag
// (matchingGetter) is asked for that one, so that a replica that lags
// behind the decision is passed over; others give their current object.
func (d *Downloader) DownloadSeen(ctx context.Context, rel string, seen objstore.Object, expect *scan.File) (index.Entry, error) {
	return d.download(ctx, rel, rel, seen.ETag, expect)
}

// DownloadAs is Download of the object key published at rel (a conflict
// copy's new name). key goes only to the store, which validates it; expect
// describes rel.
func (d *Downloader) DownloadAs(ctx context.Context, key, rel string, expect *scan.File) (index.Entry, error) {
	return d.download(ctx, key, rel, "", expect)
}

// download is DownloadAs of the version etag ("" for the current one).
func (d *Downloader) download(ctx context.Context, key, rel, etag string, expect *scan.File) (index.Entry, error) {
	op := fmt.Sprintf("download %q", rel)
	if key != rel {
		op = fmt.Sprintf("download %q as %q", key, rel)
	}
	if err := atomicfile.CheckPath(d.root, rel); err != nil {
		return index.Entry{}, fmt.Errorf("%s: %w", op, err)
	}
	if err := ctx.Err(); err != nil {
		return index.Entry{}, fmt.Errorf("%s: %w", op, err)
	}
	release, err := d.pacer.Acquire(ctx)
	if err != nil {
		return index.Entry{}, fmt.Errorf("%s: %w", op, err)
	}
	defer release()
	get := d.store.Get
	if m, ok := d.store.(matchingGetter); ok && etag != "" {
		get = func(ctx context.Context, key string) (io.ReadCloser, objstore.Object, error) {
			return m.GetMatching(ctx, key, etag)
		}
	}
	body, obj, err := get(ctx, key)
	if err != nil {
		return index.Entry{}, err
	}
	defer body.Close()
	e, err := d.publish(ctx, rel, body, obj, expect)
	if err != nil {
		return index.Entry{}, fmt.Errorf("%s: %w", op, err)
	}
	return e, nil
}

// publish writes, verifies and publishes body at rel (Download after the
// path check and the GET).
func (d *Downloader) publish(ctx context.Context, rel string, body io.Reader, obj objstore.Object, expect *scan.File) (index.Entry, error) {
	mtime := obj.Mtime
	if mtime.IsZero() {
		mtime = obj.LastModified
	}
	// The zero atime leaves the access time alone.
	f, err := d.files.Create(rel, atomicfile.Options{Mode: fileMode, Mtime: mtime})
	if err != nil {
		return index.Entry{}, err
	}
	defer f.Close()
	head := headWriter{max: tripwire.HeadSize}
	sum, err := receive(ctx, io.MultiWriter(f, &head), body, obj)
	if err != nil {
		return index.Entry{}, err
	}
	if err := f.Sync(); err != nil {
		return index.Entry{}, err
	}
	hashedAt := d.now()
	err = f.Publish(ctx, func(dir *os.Root, base string) error { return checkExpect(dir, base, expect) })
	if err != nil {
		return index.Entry{}, err
	}
	st, err := scan.FStat(f.OSFile(), rel)
	if err != nil {
		return index.Entry{}, err
	}
	return index.Entry{
		Size: st.Size, Mtime: st.Mtime, Inode: st.Inode,
		SHA256: sum, HashedAt: hashedAt,
		ETag: obj.ETag, VersionID: obj.VersionID,
		SyncedAt: d.now(),
		// From the bytes as they came: the temp file is write-only.
		NotFormat: tripwire.Sniff(rel, head.b).Mismatch(),
	}, nil
}

// copyBufs saves a restore of thousands of small files a buffer each.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

// receive copies body into f, hashing and counting, verifies it against
// obj as Download says and returns the SHA-256 of what it wrote. For our
// own objects ("sha256" and "crc32c" from one pass) the CRC-32C alone
// checks the transfer (hardware, nearly free; a SHA-256 would tell nothing
// more) and the metadata's SHA-256 is returned.
func receive(ctx context.Context, f io.Writer, body io.Reader, obj objstore.Object) (string, error) {
	var sha, crc, md hash.Hash
	hashes := []io.Writer{f}
	if obj.SHA256 != "" && obj.CRC32C != "" {
		crc = objstore.NewCRC32C()
		hashes = append(hashes, crc)
	} else {
		sha = sha256.New()
		hashes = append(hashes, sha)
	}
	if obj.SHA256 == "" && obj.ETagIsMD5() && isSinglePartETag(obj.ETag) {
		md = md5.New()
		hashes = append(hashes, md)
	}
	// One byte more than the object: an overlong body shows, bounded.
	src := scan.ContextReader{Ctx: ctx, R: io.LimitReader(body, max(obj.Size, 0)+1)}
	buf := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(buf)
	n, err := io.CopyBuffer(io.MultiWriter(hashes...), src, (*buf)[:min(int64(len(*buf)), max(obj.Size, 0)+1)])
	if err != nil {
		return "", fmt.Errorf("receive: %w", err)
	}
	if n != obj.Size {
		return "", fmt.Errorf("%w: received %d bytes, object has %d", ErrCorrupt, n, obj.Size)
	}
	if crc != nil {
		if got := hex.EncodeToString(crc.Sum(nil)); got != obj.CRC32C {
			return "", fmt.Errorf("%w: crc32c is %s, object metadata says %s", ErrCorrupt, got, obj.CRC32C)
		}
		return obj.SHA256, nil
	}
	sum := hex.EncodeToString(sha.Sum(nil))
	switch {
	case obj.SHA256 != "":
		if sum != obj.SHA256 {
			return "", fmt.Errorf("%w: sha256 is %s, object metadata says %s", ErrCorrupt, sum, obj.SHA256)
		}
	case md != nil:
		if got := hex.EncodeToString(md.Sum(nil)); got != strings.ToLower(obj.ETag) {
			return "", fmt.Errorf("%w: md5 is %s, single-part ETag is %s", ErrCorrupt, got, obj.ETag)
		}
	}
	return sum, nil
}

// isSinglePartETag reports whether etag looks like the MD5 of a
// single-part upload: 32 hex digits. Multipart ETags end in "-<parts>".
func isSinglePartETag(etag string) bool {
	if len(etag) != md5.Size*2 {
		return false
	}
	_, err := hex.DecodeString(etag)
	return err == nil
}

// checkExpect fails with ErrLocalChanged unless base in dir is what the
// caller expected: absent for nil, else a regular file of the same
// version (size, mtime, inode).
func checkExpect(dir *os.Root, base string, expect *scan.File) error {
	fi, err := dir.Lstat(base)
	if errors.Is(err, fs.ErrNotExist) {
		if expect == nil {
			return nil
		}
		return fmt.Errorf("%w: expected a file, it is gone", ErrLocalChanged)
	}
	if err != nil {
		return err
	}
	if expect == nil {
		return fmt.Errorf("%w: expected nothing, found %s", ErrLocalChanged, describe(fi))
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: expected a file, found %s", ErrLocalChanged, describe(fi))
	}
	now := scan.File{Size: fi.Size(), Mtime: fi.ModTime().UTC()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		now.Inode = st.Ino
	}
	if !now.SameVersion(*expect) {
		return fmt.Errorf("%w: expected size %d, mtime %s, inode %d; found size %d, mtime %s, inode %d",
			ErrLocalChanged, expect.Size, expect.Mtime.Format(time.RFC3339Nano), expect.Inode,
			now.Size, now.Mtime.Format(time.RFC3339Nano), now.Inode)
	}
	return nil
}

func describe(fi fs.FileInfo) string {
	switch {
	case fi.Mode().IsRegular():
		return fmt.Sprintf("a file of %d bytes", fi.Size())
	case fi.IsDir():
		return "a directory"
	case fi.Mode()&fs.ModeSymlink != 0:
		return "a symlink"
	default:
		return "a special file"
	}
}

// HashObject returns the SHA-256 (lowercase hex) of the object at key,
// writing nothing: the last-resort proof that a foreign object equals a
// local file. want is the object planned with; another ETag or size fails
// with ErrRemoteChanged. It takes a pacer slot. Safe for concurrent use.
func (d *Downloader) HashObject(ctx context.Context, key string, want objstore.Object) (string, error) {
	op := fmt.Sprintf("hash object %q", key)
	release, err := d.pacer.Acquire(ctx)
	if err != nil {
		return "", fmt.Errorf("%s: %w", op, err)
	}
	defer release()
	body, obj, err := d.store.Get(ctx, key)
	if err != nil {
		return "", err
	}
	defer body.Close()
	if obj.ETag != want.ETag || obj.Size != want.Size {
		return "", fmt.Errorf("%s: %w: planned with %d bytes, ETag %s; now %d bytes, ETag %s", op, ErrRemoteChanged, want.Size, want.ETag, obj.Size, obj.ETag)
	}
	buf := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(buf)
	h := sha256.New()
	src := scan.ContextReader{Ctx: ctx, R: io.LimitReader(body, max(obj.Size, 0)+1)}
	n, err := io.CopyBuffer(h, src, (*buf)[:min(int64(len(*buf)), max(obj.Size, 0)+1)])
	if err != nil {
		return "", fmt.Errorf("%s: %w", op, err)
	}
	if n != obj.Size {
		return "", fmt.Errorf("%s: %w: read %d bytes of %d", op, ErrCorrupt, n, obj.Size)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ErrRemoteChanged marks an object that was replaced in the bucket after
// the caller planned with it; the caller plans again.
var ErrRemoteChanged = errors.New("object changed in the bucket since it was planned")
