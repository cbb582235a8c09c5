package transfer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/time/rate"

	"genesissync/internal/index"
	"genesissync/internal/objstore"
	"genesissync/internal/scan"
	"genesissync/internal/tripwire"
)

// putter is the part of the object store an upload needs.
type putter interface {
	Put(ctx context.Context, in objstore.PutInput) (objstore.Object, error)
}

// Uploader uploads files of one share.
type Uploader struct {
	root    string
	store   putter
	limiter *rate.Limiter // nil: unlimited
	pacer   Pacer
	inspect Inspector // nil: every change leaves
	writer  string    // the appliance's name, in each object's metadata
	now     func() time.Time
}

// Inspector judges a change before any byte of it leaves for the bucket:
// the file's first bytes (up to tripwire.HeadSize, read by the hash pass)
// and the base it replaces (nil for a new file). A non-nil error stops
// the upload; Upload returns it wrapped. It is called from every upload
// goroutine at once.
type Inspector interface {
	Inspect(rel string, head []byte, base *index.Entry) error
}

// NewUploader returns an uploader for the share rooted at root. A
// bytesPerSecond of 0 means unlimited.
func NewUploader(root string, store putter, bytesPerSecond int64) *Uploader {
	u := &Uploader{root: root, store: store, pacer: noPacer{}, now: time.Now}
	if bytesPerSecond > 0 {
		// A burst of one read buffer: smooth, and no Read exceeds it.
		u.limiter = rate.NewLimiter(rate.Limit(bytesPerSecond), int(min(bytesPerSecond, 1<<20)))
	}
	return u
}

// WithPacer makes every upload wait for a slot of p and for each chunk
// its hash pass reads (the store paces the wire). It returns u.
func (u *Uploader) WithPacer(p Pacer) *Uploader {
	if p != nil {
		u.pacer = p
	}
	return u
}

// WithInspector makes every upload that would send bytes ask i first
// (the share's ransomware tripwire). It returns u; call it before the
// first Upload.
func (u *Uploader) WithInspector(i Inspector) *Uploader {
	u.inspect = i
	return u
}

// WithWriter names the appliance in the metadata of every object u
// writes (objstore.PutInput.Writer). It returns u; call it before the
// first Upload.
func (u *Uploader) WithWriter(name string) *Uploader {
	u.writer = name
	return u
}

// Outcome says what Upload did.
type Outcome int

const (
	// Uploaded: a new object version was published.
	Uploaded Outcome = iota
	// Unchanged: the content equals the base; nothing was sent.
	Unchanged
)

// Result is a finished upload: the entry to record and what happened.
type Result struct {
	Entry   index.Entry
	Outcome Outcome
	Bytes   int64 // bytes sent to the store
}

// Precondition is what the bucket must hold at the key for an upload to
// publish, decided by the server (S3 conditional writes). The zero value
// is no condition.
type Precondition struct {
	// Absent: no object may be at the key.
	Absent bool
	// ETag: the object at the key must have this ETag.
	ETag string
}

// Upload publishes the share-relative file rel if the bucket holds what
// pre names; content equal to base is Unchanged without asking the
// bucket. Errors wrap scan.ErrChangedWhileReading (the file changed while
// read: wait for it to settle), fs.ErrNotExist (gone),
// objstore.ErrPreconditionFailed (nothing written), or the store's
// classified error.
func (u *Uploader) Upload(ctx context.Context, rel string, base *index.Entry, pre Precondition) (Result, error) {
	release, err := u.pacer.Acquire(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("upload %q: %w", rel, err)
	}
	defer release()
	f, err := os.Open(filepath.Join(u.root, filepath.FromSlash(rel)))
	if err != nil {
		return Result{}, fmt.Errorf("upload %q: %w", rel, err)
	}
	defer f.Close()
	before, err := scan.FStat(f, rel)
	if err != nil {
		return Result{}, err
	}

	hashedAt := u.now()
	// SHA-256 is the content's identity; the CRC-32C (nearly free) lets
	// the store check the stream without a second SHA-256 pass.
	h, crc := sha256.New(), objstore.NewCRC32C()
	head := headWriter{max: tripwire.HeadSize}
	if _, err := io.Copy(io.MultiWriter(h, crc, &head), pacedReader{ctx, f, u.pacer}); err != nil {
		return Result{}, fmt.Errorf("upload %q: hash: %w", rel, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if err := u.unchangedSince(f, rel, before); err != nil {
		return Result{}, fmt.Errorf("upload %q: %w", rel, err)
	}
	entry := index.Entry{
		Size: before.Size, Mtime: before.Mtime, Inode: before.Inode,
		SHA256: sum, HashedAt: hashedAt,
		NotFormat: tripwire.Sniff(rel, head.b).Mismatch(),
	}
	if base != nil && base.SHA256 == sum && base.Size == before.Size {
		entry.ETag, entry.VersionID, entry.SyncedAt = base.ETag, base.VersionID, base.SyncedAt
		return Result{Entry: entry, Outcome: Unchanged}, nil
	}

	if u.inspect != nil {
		if err := u.inspect.Inspect(rel, head.b, base); err != nil {
			return Result{}, fmt.Errorf("upload %q: %w", rel, err)
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return Result{}, fmt.Errorf("upload %q: %w", rel, err)
	}
	body := &verifyingReader{
		ctx: ctx, r: f, file: f, size: before.Size,
		limiter: u.limiter,
		atEOF:   func() error { return u.unchangedSince(f, rel, before) },
	}
	obj, err := u.store.Put(ctx, objstore.PutInput{
		Key: rel, Body: body, Size: before.Size, SHA256: sum, CRC32C: hex.EncodeToString(crc.Sum(nil)),
		Mtime: before.Mtime, IfAbsent: pre.Absent, IfMatch: pre.ETag, Writer: u.writer,
	})
	if err != nil {
		// A changed file is the cause, whichever layer noticed: the caller
		// waits for it to settle instead of backing off.
		if body.err != nil {
			return Result{}, fmt.Errorf("upload %q: %w", rel, body.err)
		}
		if errors.Is(err, objstore.ErrSizeMismatch) || errors.Is(err, objstore.ErrChecksumMismatch) || u.unchangedSince(f, rel, before) != nil {
			return Result{}, fmt.Errorf("upload %q: %w (%w)", rel, scan.ErrChangedWhileReading, err)
		}
		return Result{}, err
	}
	if !body.done {
		// Success without reading to EOF: the store did not verify it all.
		return Result{}, fmt.Errorf("upload %q: store finished after %d of %d bytes", rel, body.n, before.Size)
	}
	entry.ETag, entry.VersionID, entry.SyncedAt = obj.ETag, obj.VersionID, u.now()
	return Result{Entry: entry, Outcome: Uploaded, Bytes: body.n}, nil
}

// NotFormat reports whether the first bytes of the file at r are not
// valid in the format rel's extension promises (tripwire.Sniff), for
// index.Entry.NotFormat. A read error counts as valid (no opinion).
func NotFormat(rel string, r io.ReaderAt) bool {
	head := make([]byte, tripwire.HeadSize)
	n, err := r.ReadAt(head, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return false
	}
	return tripwire.Sniff(rel, head[:n]).Mismatch()
}

// headWriter keeps the first max bytes written to it.
type headWriter struct {
	b   []byte
	max int
}

func (w *headWriter) Write(p []byte) (int, error) {
	if n := w.max - len(w.b); n > 0 {
		w.b = append(w.b, p[:min(n, len(p))]...)
	}
	return len(p), nil
}

// unchangedSince re-stats both the open descriptor (in-place writes) and
// the path (a rename over it) and fails if either differs from before.
func (u *Uploader) unchangedSince(f *os.File, rel string, before scan.File) error {
	now, err := scan.FStat(f, rel)
	if err != nil {
		return err
	}
	byPath, err := scan.Stat(u.root, rel)
	if err != nil {
		return err
	}
	if !now.SameVersion(before) || !byPath.SameVersion(before) {
		return scan.ErrChangedWhileReading
	}
	return nil
}

// verifyingReader streams a file and, at EOF, proves the bytes sent are
// the hashed version (same length, stat unchanged), else returns an error
// instead of io.EOF so the store aborts. The store checks the CRC-32C
// (objstore.PutInput); its ErrChecksumMismatch is reported as a change.
type verifyingReader struct {
	ctx     context.Context
	r       io.Reader
	file    io.Seeker // r's file, for Rewind
	size    int64
	limiter *rate.Limiter
	atEOF   func() error

	n    int64
	done bool
	err  error
}

// Rewind starts the body again at the file's first byte, for a store
// that sends it to another endpoint after one failed
// (objstore.Rewinder). A body that found the file changed stays failed.
func (v *verifyingReader) Rewind() error {
	if v.err != nil {
		return v.err
	}
	if _, err := v.file.Seek(0, io.SeekStart); err != nil {
		return err
	}
	v.n, v.done = 0, false
	return nil
}

var _ objstore.Rewinder = (*verifyingReader)(nil)

func (v *verifyingReader) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	if v.limiter != nil && len(p) > v.limiter.Burst() {
		p = p[:v.limiter.Burst()]
	}
	n, err := v.r.Read(p)
	if n > 0 {
		v.n += int64(n)
		if v.limiter != nil {
			if werr := v.limiter.WaitN(v.ctx, n); werr != nil {
				v.err = werr
				return n, werr
			}
		}
	}
	if errors.Is(err, io.EOF) {
		if v.n != v.size {
			v.err = fmt.Errorf("read %d bytes, hashed %d: %w", v.n, v.size, scan.ErrChangedWhileReading)
			return n, v.err
		}
		if cerr := v.atEOF(); cerr != nil {
			v.err = cerr
			return n, v.err
		}
		v.done = true
	} else if err != nil {
		v.err = err
	}
	return n, err
}
