package ingest

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
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"genesissync/internal/atomicfile"
	"genesissync/internal/keymap"
	"genesissync/internal/layout"
	"genesissync/internal/objstore"
	"genesissync/internal/scan"
	"genesissync/internal/transfer"
)

// DefaultConcurrency is the number of files copied at once when
// Options.Concurrency is 0: a copy is bound by the disks, and two keep one
// busy while the other waits on an fsync.
const DefaultConcurrency = 2

// CleanTemp removes the temp files an interrupted import left in the
// share at root. Concurrent imports into one share are the caller's to
// prevent; the daemon's downloads are left alone.
func CleanTemp(root string) (int, error) {
	return atomicfile.CleanTempTagged(root, layout.ImportTempTag)
}

// maxListed bounds each list of a Result.
const maxListed = 1000

// Options configure an Import.
type Options struct {
	// Sources are the directories to bring in, in order: where two hold
	// the same path, the first one's file is imported and the other is a
	// collision.
	Sources []string
	// Bucket, if set, is one more source, after Sources: the objects of
	// a bucket prefix, each key (minus the prefix) the share path it
	// names, streamed in and verified (see BucketSource and Import).
	Bucket *BucketSource
	// Root is the share's directory; Into a share-relative folder to put
	// the sources' trees in ("" is the share's top).
	Root, Into string
	// Matcher excludes names the share never syncs (and so never takes).
	Matcher *scan.Matcher
	// UID and GID own every file and directory created (-1 keeps the
	// process's).
	UID, GID int
	// DryRun decides everything and writes nothing.
	DryRun bool
	// Concurrency is the number of files copied at once; 0 means
	// DefaultConcurrency.
	Concurrency int
	// Progress, if set, is called after every file, from the goroutine
	// that finished it (calls are serialised).
	Progress func(Progress)
}

// Progress is how far an Import is.
type Progress struct {
	Files, FilesTotal int
	Bytes, BytesTotal int64
	Current           string
}

// Result is what an Import did. It is a value, JSON-friendly.
type Result struct {
	// Copied files were written into the share (or would be, in a dry
	// run); Identical were there already with the same content; Collided
	// exist in the share (or in an earlier source) with other content and
	// were left alone; Refused have names the share cannot hold; Failed
	// could not be read or written.
	Copied         int   `json:"copied"`
	CopiedBytes    int64 `json:"copied_bytes"`
	Identical      int   `json:"identical"`
	IdenticalBytes int64 `json:"identical_bytes"`
	Collided       int   `json:"collided"`
	Refused        int   `json:"refused"`
	Failed         int   `json:"failed"`
	// For a bucket source: NotVerified objects (counted in Copied too)
	// were imported although their bytes could not be proven, having no
	// sha256 metadata and an ETag that proves nothing (see Unverified);
	// VerifiedBy counts the copied and identical objects by proof:
	// "sha256" (metadata), "etag-md5", "etag-multipart", "read" (the
	// object hashed to compare with a file on the share), "size-mtime"
	// (what an earlier run published).
	NotVerified      int            `json:"not_verified"`
	NotVerifiedBytes int64          `json:"not_verified_bytes"`
	VerifiedBy       map[string]int `json:"verified_by,omitempty"`
	// Server-side copies into the share's target (a bucket source on its
	// endpoint): TargetCopied objects were copied with our metadata (or
	// would be, in a dry run); TargetPresent were there already with the
	// same sha256; TargetSkipped were not copied (see TargetNotes), and
	// the daemon uploads their files or reconciles what is there.
	TargetCopied      int   `json:"target_copied"`
	TargetCopiedBytes int64 `json:"target_copied_bytes"`
	TargetPresent     int   `json:"target_present"`
	TargetSkipped     int   `json:"target_skipped"`
	// Seconds is the import's duration; Rate is CopiedBytes per second.
	Seconds float64 `json:"seconds"`
	Rate    float64 `json:"rate_bytes_per_s"`
	// The first entries of each kind (at most 1000 each).
	Collisions  []Collision `json:"collisions,omitempty"`
	Refusals    []Refusal   `json:"refusals,omitempty"`
	Failures    []Refusal   `json:"failures,omitempty"`
	Unverified  []Refusal   `json:"unverified,omitempty"`
	TargetNotes []Refusal   `json:"target_notes,omitempty"`
	DryRun      bool        `json:"dry_run"`
}

// Collision is a path that two sources, or a source and the share, hold
// with different content.
type Collision struct {
	Path string `json:"path"`
	// Source is the file that was not imported; Existing says what holds
	// the path: "share", or the source file that won.
	Source   string `json:"source"`
	Existing string `json:"existing"`
}

// Refusal is a source file that was not imported, and why.
type Refusal struct {
	Source string `json:"source"`
	Reason string `json:"reason"`
}

// file is one source file to consider.
type file struct {
	src  string // absolute path, or the object's s3:// name
	rel  string // share-relative destination
	size int64
	mod  time.Time
	// A bucket source's object: its key relative to the source prefix.
	key    string
	bucket *BucketSource
}

// Import copies the source trees into the share through the atomic writer
// (see the package documentation), keeping mtimes. A file already at its
// path with the same size and mtime, or the same bytes, is skipped; one
// with other bytes is a collision and is left alone, as are names the share
// cannot hold. Import is resumable: a rerun skips what an interrupted one
// finished, which leaves only a temp file (removed by CleanTemp). Safe to
// run while the daemon serves the share: what appears is uploaded like any
// new file.
//
// A bucket source (Options.Bucket) is listed after the directories,
// skipping the appliance's own objects (layout.IsInternal) and excluded
// names and mapping the others by keymap.LocalPath. Each object is verified
// while it streams (its "sha256" metadata, else its ETag reproduced); a
// mismatch fails it and nothing is published, and an object neither can
// prove is imported with a "not verified" note. A file already on the
// share is identical when it has the object's size and mtime or is proven
// to hold its bytes. With BucketSource.Target, every object imported or
// identical is then copied server-side into the share's target.
func Import(ctx context.Context, o Options) (Result, error) {
	start := time.Now()
	res := Result{DryRun: o.DryRun}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Matcher == nil {
		o.Matcher = scan.NewMatcher()
	}
	for _, seg := range strings.Split(filepath.ToSlash(o.Into), "/") {
		if seg == ".." {
			return res, fmt.Errorf("import into %q: a folder of the share, without \"..\"", o.Into)
		}
	}
	into := strings.Trim(path.Clean("/"+filepath.ToSlash(o.Into)), "/")
	if into != "" {
		if _, err := keymap.Key(into); err != nil {
			return res, fmt.Errorf("import into %q: %w", o.Into, err)
		}
	}

	// What the share holds, for case collisions (Windows cannot tell
	// "Jingle.mp3" from "jingle.mp3"): its names first, so they keep
	// theirs.
	folder := keymap.NewFolder()
	err := scan.Walk(ctx, o.Root, "", nil, func(f scan.File) error {
		_ = folder.Add(f.Path)
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("import: walk the share: %w", err)
	}

	var files []file
	winner := map[string]string{} // share path -> source file imported there
	for _, src := range o.Sources {
		abs, err := filepath.Abs(src)
		if err != nil {
			return res, fmt.Errorf("import %s: %w", src, err)
		}
		if fi, err := os.Stat(abs); err != nil {
			return res, fmt.Errorf("import %s: %w", src, err)
		} else if !fi.IsDir() {
			return res, fmt.Errorf("import %s: not a directory", src)
		}
		if inside(abs, o.Root) || inside(o.Root, abs) {
			return res, fmt.Errorf("import %s: overlaps the share %s", src, o.Root)
		}
		err = filepath.WalkDir(abs, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				res.fail(p, err.Error())
				return nil
			}
			if p == abs {
				return nil
			}
			rel := filepath.ToSlash(strings.TrimPrefix(p, abs+string(filepath.Separator)))
			if into != "" {
				rel = into + "/" + rel
			}
			if o.Matcher.Excluded(rel) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() || !d.Type().IsRegular() {
				if !d.IsDir() && d.Type()&fs.ModeSymlink != 0 {
					res.refuse(p, "a symbolic link: not followed")
				}
				return nil
			}
			if !admit(&res, folder, winner, rel, p) {
				return nil
			}
			fi, err := d.Info()
			if err != nil {
				res.fail(p, err.Error())
				return nil
			}
			winner[rel] = p
			files = append(files, file{src: p, rel: rel, size: fi.Size(), mod: fi.ModTime()})
			return nil
		})
		if err != nil {
			return res, fmt.Errorf("import %s: %w", src, err)
		}
	}
	if b := o.Bucket; b != nil {
		if err := listBucket(ctx, b, into, o.Matcher, folder, winner, &res, &files); err != nil {
			return res, fmt.Errorf("import %s: %w", b.name(""), err)
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].rel < files[j].rel })

	var total int64
	for _, f := range files {
		total += f.size
	}
	var (
		mu        sync.Mutex
		doneFiles int
		doneBytes atomic.Int64
	)
	report := func(f file) {
		if o.Progress == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		doneFiles++
		o.Progress(Progress{Files: doneFiles, FilesTotal: len(files), Bytes: doneBytes.Load(), BytesTotal: total, Current: f.rel})
	}
	dl := transfer.NewDownloader(o.Root, localFiles{}, o.UID, o.GID).WithTempTag(layout.ImportTempTag)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.Concurrency)
	for _, f := range files {
		g.Go(func() error {
			var d objDone
			if f.bucket != nil {
				d = importObject(gctx, o, f)
			} else {
				d.out, d.why = importOne(gctx, dl, o, f)
			}
			mu.Lock()
			res.add(f, d)
			mu.Unlock()
			doneBytes.Add(f.size)
			report(f)
			return gctx.Err()
		})
	}
	err = g.Wait()
	res.Seconds = time.Since(start).Seconds()
	if res.Seconds > 0 {
		res.Rate = float64(res.CopiedBytes) / res.Seconds
	}
	if err != nil {
		return res, fmt.Errorf("import: %w", err)
	}
	return res, nil
}

type outcome int

const (
	copied outcome = iota
	identical
	collided
	failed
)

// importOne brings one file in, or says why not.
func importOne(ctx context.Context, dl *transfer.Downloader, o Options, f file) (outcome, string) {
	dst := filepath.Join(o.Root, filepath.FromSlash(f.rel))
	fi, err := os.Lstat(dst)
	switch {
	case err == nil && !fi.Mode().IsRegular():
		return collided, ""
	case err == nil && fi.Size() != f.size:
		return collided, ""
	case err == nil && fi.ModTime().Equal(f.mod):
		// Same size and mtime: the file an earlier (interrupted) run
		// copied, mtime kept. As rsync, no read.
		return identical, ""
	case err == nil:
		same, err := sameBytes(ctx, f.src, dst)
		if err != nil {
			return failed, err.Error()
		}
		if same {
			return identical, ""
		}
		return collided, ""
	case !errors.Is(err, fs.ErrNotExist):
		return failed, err.Error()
	}
	if o.DryRun {
		return copied, ""
	}
	// Published only if the name is still free (expect nil): a file
	// saved there meanwhile wins, and this one is a collision.
	_, err = dl.DownloadAs(ctx, f.src, f.rel, nil)
	switch {
	case errors.Is(err, transfer.ErrLocalChanged):
		return collided, ""
	case err != nil:
		return failed, err.Error()
	}
	return copied, ""
}

// sameBytes reports whether two files hold the same bytes.
func sameBytes(ctx context.Context, a, b string) (bool, error) {
	ha, err := hashFile(ctx, a)
	if err != nil {
		return false, err
	}
	hb, err := hashFile(ctx, b)
	if err != nil {
		return false, err
	}
	return ha == hb, nil
}

func hashFile(ctx context.Context, p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, scan.ContextReader{Ctx: ctx, R: f}); err != nil {
		return "", fmt.Errorf("read %s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// inside reports whether p is dir or below it.
func inside(p, dir string) bool {
	rel, err := filepath.Rel(filepath.Clean(dir), filepath.Clean(p))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// admit decides whether src may be imported at the share path rel: not
// when the share cannot hold the name, an earlier source won the path
// (recorded in winner, by the caller), or the name collides with another
// but for case. Refusals and collisions are recorded in res.
func admit(res *Result, folder *keymap.Folder, winner map[string]string, rel, src string) bool {
	if _, err := keymap.Key(rel); err != nil {
		res.refuse(src, err.Error())
		return false
	}
	if prev, ok := winner[rel]; ok {
		res.collide(rel, src, prev)
		return false
	}
	if err := folder.Add(rel); err != nil {
		res.refuse(src, err.Error())
		return false
	}
	return true
}

// add counts what happened to f.
func (r *Result) add(f file, d objDone) {
	switch d.out {
	case copied:
		r.Copied++
		r.CopiedBytes += f.size
	case identical:
		r.Identical++
		r.IdenticalBytes += f.size
	case collided:
		r.collide(f.rel, f.src, "share")
	case failed:
		r.fail(f.src, d.why)
	}
	if d.proof != "" {
		if r.VerifiedBy == nil {
			r.VerifiedBy = map[string]int{}
		}
		r.VerifiedBy[d.proof]++
	}
	if d.unverified != "" {
		r.NotVerified++
		r.NotVerifiedBytes += f.size
		if len(r.Unverified) < maxListed {
			r.Unverified = append(r.Unverified, Refusal{Source: f.src, Reason: d.unverified})
		}
	}
	switch d.target {
	case targetCopied:
		r.TargetCopied++
		r.TargetCopiedBytes += f.size
	case targetPresent:
		r.TargetPresent++
	case targetSkipped:
		r.TargetSkipped++
		if len(r.TargetNotes) < maxListed {
			r.TargetNotes = append(r.TargetNotes, Refusal{Source: f.src, Reason: d.targetWhy})
		}
	}
}

func (r *Result) refuse(src, why string) {
	r.Refused++
	if len(r.Refusals) < maxListed {
		r.Refusals = append(r.Refusals, Refusal{Source: src, Reason: why})
	}
}

func (r *Result) fail(src, why string) {
	r.Failed++
	if len(r.Failures) < maxListed {
		r.Failures = append(r.Failures, Refusal{Source: src, Reason: why})
	}
}

func (r *Result) collide(rel, src, existing string) {
	r.Collided++
	if len(r.Collisions) < maxListed {
		r.Collisions = append(r.Collisions, Collision{Path: rel, Source: src, Existing: existing})
	}
}

// localFiles serves source files to the downloader as objects: the key is
// the file's absolute path. At its end the body checks that the file's
// size and mtime did not change while it was read, so that a file still
// being written is never published.
type localFiles struct{}

func (localFiles) Get(ctx context.Context, key string) (io.ReadCloser, objstore.Object, error) {
	f, err := os.Open(key)
	if err != nil {
		return nil, objstore.Object{}, fmt.Errorf("open %s: %w", key, err)
	}
	before, err := scan.FStat(f, key)
	if err != nil {
		f.Close()
		return nil, objstore.Object{}, err
	}
	// No sha256 or ETag: the downloader hashes what it writes and checks
	// the size; Mtime is kept on the copy.
	o := objstore.Object{Key: key, Size: before.Size, Mtime: before.Mtime}
	return &stillReader{f: f, before: before}, o, nil
}

// stillReader fails the read at EOF when the file changed while read.
type stillReader struct {
	f      *os.File
	before scan.File
}

func (s *stillReader) Read(p []byte) (int, error) {
	n, err := s.f.Read(p)
	if err == io.EOF {
		after, serr := os.Stat(s.f.Name())
		if serr != nil {
			return n, fmt.Errorf("re-stat %s: %w", s.f.Name(), serr)
		}
		if after.Size() != s.before.Size || !after.ModTime().Equal(s.before.Mtime) {
			return n, fmt.Errorf("%s: %w", s.f.Name(), scan.ErrChangedWhileReading)
		}
	}
	return n, err
}

func (s *stillReader) Close() error { return s.f.Close() }
