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
)

// getter is the part of the object store a download needs.
type getter interface {
	Get(ctx context.Context, key string) (io.ReadCloser, objstore.Object, error)
}

var _ getter = (*objstore.S3)(nil)

const (
	// fileMode is set explicitly (chmod) on every file a download
	// publishes, whatever the process umask: the Samba service user and
	// its group must be able to replace it. (Directories get
	// atomicfile.DirMode.)
	fileMode os.FileMode = 0o664

	// copyBufSize is the read size from the object body into the temp
	// file: large enough to keep syscalls per MiB low, small enough not to
	// matter with several downloads in flight.
	copyBufSize = 256 << 10
)

var (
	// ErrCorrupt marks a download whose bytes do not match the object:
	// wrong size, or a SHA-256 (or single-part MD5 ETag) mismatch. Nothing
	// was published. Retrying may help (a broken connection or proxy);
	// repeated failures mean the object itself is damaged.
	ErrCorrupt = errors.New("downloaded content does not match the object")
	// ErrLocalChanged marks a download that was not published because the
	// local path no longer is what the caller expected (a studio saved a
	// file there, changed or deleted it, or a parent directory moved). The
	// caller re-plans with a fresh scan. It is atomicfile's.
	ErrLocalChanged = atomicfile.ErrLocalChanged
	// ErrUnsafePath marks a share-relative path that Download refuses:
	// empty, absolute, not in canonical form, with a "." or ".." component,
	// in the appliance's reserved ".genesissync*" namespace, resolving
	// outside the share, or leading through a symlinked directory. It is
	// permanent: retrying cannot help. It is atomicfile's.
	ErrUnsafePath = atomicfile.ErrUnsafePath
)

// Downloader publishes objects as files of one share. It is safe for
// concurrent use, also for downloads into the same (new) directories; two
// concurrent downloads of the same path are the caller's to prevent (the
// second one fails with ErrLocalChanged, or replaces the first's file if
// the caller passed it the same expectation).
type Downloader struct {
	root  string
	files *atomicfile.Share
	store getter
	pacer Pacer
	now   func() time.Time
}

// WithTempTag puts tag (letters, digits and "-") into the names of this
// downloader's temp files, after layout.TempPrefix, so that its own
// leftovers can be removed (atomicfile.CleanTempTagged) while other
// writers' temp files are in use. It returns d.
func (d *Downloader) WithTempTag(tag string) *Downloader {
	d.files.WithTempTag(tag)
	return d
}

// NewDownloader returns a downloader for the share rooted at root. Every
// file and directory it creates is chowned to uid:gid (the Samba service
// user; -1 leaves that id as the process's, for running unprivileged) and
// chmodded to 0664 (files) or 0775 (directories). Existing directories are
// left as they are.
func NewDownloader(root string, store getter, uid, gid int) *Downloader {
	return &Downloader{root: root, files: atomicfile.New(root, uid, gid), store: store, pacer: noPacer{}, now: time.Now}
}

// WithPacer makes every download wait for p for a slot before it starts.
// (The bytes it receives are paced on the wire by the store:
// objstore.S3Options.Wire.) It returns d.
func (d *Downloader) WithPacer(p Pacer) *Downloader {
	if p != nil {
		d.pacer = p
	}
	return d
}

// Download fetches the object for the share-relative path rel and
// publishes it at rel, whole and verified, and returns the index entry of
// the new local file. expect is what the caller believes is at rel now:
// nil for nothing, else the scan stat of the local version being
// replaced.
//
// Steps:
//  1. rel is checked lexically (see ErrUnsafePath) before any I/O;
//  2. the object is fetched; the file is written through an
//     atomicfile.Share, which creates parent directories as needed, one
//     component at a time, refusing any component that is a symlink;
//  3. the body streams into a temp file layout.TempPrefix+random+"-"+
//     base in the same directory, hashed (CRC-32C when the object carries
//     "crc32c" and "sha256" metadata, else SHA-256, and MD5 when the ETag
//     is the only thing to check against) and counted; the writeback of
//     each 8 MiB written is started at once;
//  4. it is verified: the size must equal the object's; the CRC-32C must
//     equal the "crc32c" metadata when there is one alongside "sha256"
//     (the SHA-256 recorded is then the metadata's, taken in the same pass
//     over the same bytes at upload); else the SHA-256 must equal the
//     "sha256" metadata when there is one; else a single-part
//     ETag (32 hex digits, not SSE-KMS or SSE-C) must equal the MD5; else (a multipart object
//     written by another tool) the computed SHA-256 is accepted and
//     returned for the caller to record. A mismatch fails with ErrCorrupt;
//  5. owner and mode are set on the descriptor, the mtime to the "mtime"
//     metadata (else the object's LastModified), then the file is fsynced,
//     so that its data and metadata are durable before it has a name;
//  6. just before the rename, the parent directory must still be at its
//     path and rel must still match expect (same size, mtime and inode by
//     lstat; absent when expect is nil), else ErrLocalChanged;
//  7. the temp file is renamed over rel and the directory fsynced.
//
// The temp file is removed on every failure path, including a cancelled
// ctx and a panic while reading the body; only a crash leaves one, for
// atomicfile.CleanTemp. A reader that has the old file open keeps reading the old
// content: the rename replaces the name, not the inode.
//
// Between the expect check and the rename there is a window of a few
// system calls in which a local save is not seen; POSIX has no
// compare-and-rename. The caller must also make sure no SMB client has rel
// open (it asks smbd): a client writing into the old inode after the check
// would lose that write.
//
// The entry's Size, Mtime and Inode come from an fstat of the published
// file after the rename (not from the path, which a client may already
// have replaced again); SHA256 is the verified hash, ETag and VersionID are
// those of the GET response. If the final directory fsync fails, the file
// is published but the error is returned and no entry: the next scan sees
// it as a local file.
//
// Errors from the store (objstore.ErrNotFound among them) are returned as
// the store wrapped them; others are wrapped once with rel.
//
// The ETag of a single-part object encrypted with SSE-KMS or SSE-C
// (Object.Encryption) is not the MD5 of its content: it is not checked,
// and without our metadata the computed SHA-256 is accepted.
func (d *Downloader) Download(ctx context.Context, rel string, expect *scan.File) (index.Entry, error) {
	return d.DownloadAs(ctx, rel, rel, expect)
}

// DownloadAs is Download of the object key published at the share-relative
// path rel, which may differ from key (a conflict copy saved under a new
// name). key goes only to the store, which validates it; rel is checked as
// in Download, expect describes rel, and the entry's ETag and VersionID are
// those of key's object.
func (d *Downloader) DownloadAs(ctx context.Context, key, rel string, expect *scan.File) (index.Entry, error) {
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
	body, obj, err := d.store.Get(ctx, key)
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

// publish does steps 2 to 7 of Download.
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
	sum, err := receive(ctx, f, body, obj)
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
	}, nil
}

// copyBufs are receive's copy buffers: a restore of thousands of small
// files would otherwise allocate (and collect) 256 KiB per file.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

// receive copies body into f, hashing and counting, and verifies it
// against obj (step 4 of Download). It returns the SHA-256 of what it
// wrote.
//
// An object the appliance uploaded carries both "sha256" and "crc32c"
// metadata, taken in one pass over the same bytes; receive then checks
// the CRC-32C alone (hardware, nearly free) and returns the metadata's
// SHA-256, instead of spending about a second of CPU per GiB on a SHA-256
// that would tell nothing more about a corrupted transfer. Objects with
// only "sha256" are checked by SHA-256, as before.
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
	// One byte more than the object has, so that an overlong body is
	// seen without writing an unbounded amount of it.
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

// HashObject reads the object at key and returns the SHA-256 of its
// bytes (lowercase hex), writing nothing: the proof of last resort that an
// object another tool wrote equals a local file. want is the object the
// caller planned with (from a HEAD): when the object read has another
// ETag or size it was replaced meanwhile, and HashObject fails with
// ErrRemoteChanged. It waits for a slot of the pacer like a download, and
// the store paces the bytes on the wire. Safe for concurrent use.
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
