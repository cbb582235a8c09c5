package restore

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
	"path"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"genesissync/internal/atomicfile"
	"genesissync/internal/index"
	"genesissync/internal/layout"
	"genesissync/internal/objstore"
	"genesissync/internal/scan"
	"genesissync/internal/snapshot"
	"genesissync/internal/transfer"
	"genesissync/internal/zfs"
)

// ErrNoVersioning is returned (wrapped, with the fix) by a point-in-time
// Restore on a bucket without versioning.
var ErrNoVersioning = errors.New("bucket versioning is not enabled")

// Options configure one Restore. Root and Bucket are required.
type Options struct {
	// Root is the existing directory restored into (a share or any other).
	Root string
	// Bucket is the share's target.
	Bucket Bucket
	// Versions is the same store's version API; required when At is set.
	Versions Versions
	// Prefix restores only share paths with this string prefix ("jingles/"
	// is a folder).
	Prefix string
	// Path restores only Path and everything under Path + "/"; it
	// combines with Prefix and Glob.
	Path string
	// Glob restores only paths matching it (path.Match syntax); a glob
	// without "/" matches the base name, one with "/" the whole path.
	Glob string
	// At, if set, restores each file's newest version at or before At
	// (none if it did not exist then). Needs bucket versioning.
	At time.Time
	// Overwrite replaces a differing existing file; without it, skipped.
	Overwrite bool
	// DryRun decides everything (reading local files) and writes nothing.
	DryRun bool
	// Concurrency is the number of files restored at once; 0 means
	// DefaultConcurrency.
	Concurrency int
	// OpenFiles, if set, says which files SMB clients hold open: those
	// are never replaced (skipped and reported).
	OpenFiles OpenFiles
	// UID and GID own what is created; -1 keeps the process's.
	UID, GID int
	// Dataset is the ZFS dataset mounted at Root, if any: a snapshot
	// (zfs.PreRestore) is taken before anything is written.
	Dataset string
	// Snapshot takes that snapshot; nil means zfs.Snapshot.
	Snapshot func(ctx context.Context, dataset, name string) error
	// Index, if set and empty at start (a cold boot), gets an entry for
	// every file restored or verified present, so the daemon starts in
	// sync. Not written for a point-in-time restore: those versions are
	// not current, and the pipeline must upload them as changes.
	Index IndexWriter
	// Share is the share's name, for the marker a cold boot writes (with
	// index entries, a root without it counts as an unmounted dataset).
	Share string
	// CleanTemp first removes a crash's temp files under Root; only when
	// nothing else writes into Root (not while the daemon serves it).
	CleanTemp bool
	// Matcher excludes paths, as the share's pipeline does; nil excludes
	// nothing.
	Matcher *scan.Matcher
	// MaxProblems bounds Result.Problems; 0 means DefaultMaxProblems.
	MaxProblems int
	// Progress, if set, is called from another goroutine every
	// ProgressInterval (0: DefaultProgressInterval) and once at the end.
	Progress         func(Progress)
	ProgressInterval time.Duration
	Log              zerolog.Logger
}

// Result is the outcome of a Restore. It is a value, JSON-friendly.
type Result struct {
	Root       string     `json:"root"`
	At         *time.Time `json:"at,omitempty"`
	DryRun     bool       `json:"dry_run"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt time.Time  `json:"finished_at"`
	// Snapshot is the ZFS snapshot taken before writing, if any.
	Snapshot string `json:"snapshot,omitempty"`
	// Files and Bytes are what was selected.
	Files int   `json:"files"`
	Bytes int64 `json:"bytes"`
	// Restored files were written (or would be, in a dry run).
	Restored      int   `json:"restored"`
	RestoredBytes int64 `json:"restored_bytes"`
	// Present files were there already with the right content.
	Present int `json:"present"`
	// Skipped files exist and differ but were left alone (no Overwrite,
	// or open by an SMB client); each is in Problems.
	Skipped int `json:"skipped"`
	// Failed files could not be restored; each is in Problems.
	Failed int `json:"failed"`
	// Indexed counts index entries written (cold boot).
	Indexed int `json:"indexed"`
	// Rate is RestoredBytes per second of the whole run.
	Rate      float64      `json:"rate_bytes_per_s"`
	Counts    map[Kind]int `json:"counts"`
	Problems  []Problem    `json:"problems"`
	Truncated bool         `json:"truncated"`
	// Warnings are facts about the selection a person should see (e.g.
	// nothing under the prefix existed at At).
	Warnings []string `json:"warnings,omitempty"`
}

// ErrInconsistentVersions is returned (wrapped) by a point-in-time restore
// when the version list contradicts itself (the latest is not the newest,
// no or several are latest, or one is dated in the future): its dates
// cannot say what existed when.
var ErrInconsistentVersions = errors.New("the server's version list is inconsistent")

// futureSkew is how far in the future a version's date may lie (clock
// skew between the server and this box) before it counts as wrong.
const futureSkew = 5 * time.Minute

// candidate is one object selected for restore.
type candidate struct {
	key, rel  string
	size      int64
	versionID string // point in time only
}

// Restore brings the selected objects into o.Root and returns what it did.
// An error means it could not run (options, listing, versioning, snapshot,
// context); per-file failures are counted in the result. Safe into a live
// share while its pipeline runs; concurrent Restores into one Root are the
// caller's to prevent.
func Restore(ctx context.Context, o Options) (Result, error) {
	res := Result{Root: o.Root, DryRun: o.DryRun, StartedAt: time.Now().UTC()}
	if !o.At.IsZero() {
		at := o.At.UTC()
		res.At = &at
	}
	if o.Glob != "" {
		if _, err := path.Match(o.Glob, ""); err != nil {
			return res, fmt.Errorf("restore: glob %q: %w", o.Glob, err)
		}
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Snapshot == nil {
		o.Snapshot = zfs.Snapshot
	}
	log := o.Log.With().Str("component", "restore").Str("root", o.Root).Logger()
	fi, err := os.Stat(o.Root)
	if err != nil {
		return res, fmt.Errorf("restore into %s: %w", o.Root, err)
	}
	if !fi.IsDir() {
		return res, fmt.Errorf("restore into %s: not a directory", o.Root)
	}
	if o.CleanTemp && !o.DryRun {
		if n, err := atomicfile.CleanTemp(o.Root); err != nil {
			return res, err
		} else if n > 0 {
			log.Info().Int("removed", n).Msg("removed temp files of an interrupted restore")
		}
	}
	coldBoot := false
	if o.Index != nil && o.At.IsZero() && !o.DryRun {
		if coldBoot, err = o.Index.Empty(); err != nil {
			return res, fmt.Errorf("restore: read index: %w", err)
		}
	}

	probs := newProblems(o.MaxProblems)
	tr := newTracker(o.Progress, o.ProgressInterval)
	tr.setPhase("listing", 0, 0)
	tr.run(ctx)
	defer tr.stop()

	cands, warnings, err := selectObjects(ctx, o, probs)
	if err != nil {
		return res, err
	}
	res.Warnings = warnings
	for _, w := range warnings {
		log.Warn().Msg(w)
	}
	cands = spreadDirs(cands)
	for _, c := range cands {
		res.Files++
		res.Bytes += c.size
	}
	log.Info().Int("files", res.Files).Int64("bytes", res.Bytes).Bool("dry_run", o.DryRun).
		Time("at", o.At).Str("prefix", o.Prefix).Str("glob", o.Glob).Msg("restore selected")

	if o.Dataset != "" && !o.DryRun && len(cands) > 0 {
		name, err := snapshot.TakePreOp(ctx, o.Dataset, zfs.PreRestore, time.Now, o.Snapshot)
		if err != nil {
			return res, fmt.Errorf("restore: snapshot of %s before writing: %w", o.Dataset, err)
		}
		res.Snapshot = o.Dataset + "@" + name
		log.Info().Str("snapshot", res.Snapshot).Msg("snapshot taken before restore")
	}

	root, err := os.OpenRoot(o.Root)
	if err != nil {
		return res, fmt.Errorf("restore into %s: %w", o.Root, err)
	}
	defer root.Close()
	if coldBoot && len(cands) > 0 {
		if err := writeMarker(root, o.Share); err != nil {
			return res, err
		}
	}
	get := &getter{b: o.Bucket, v: o.Versions, ids: map[string]string{}, n: &tr.bytes}
	for _, c := range cands {
		if c.versionID != "" {
			get.ids[c.key] = c.versionID
		}
	}
	r := &restorer{o: o, root: root, get: get, dl: transfer.NewDownloader(o.Root, get, o.UID, o.GID),
		probs: probs, tr: tr, index: coldBoot, log: log}
	tr.setPhase("restoring", len(cands), res.Bytes)
	outs := make([]fileOutcome, len(cands))
	tr.each(ctx, len(cands), o.Concurrency, func(ctx context.Context, i int) { outs[i] = r.one(ctx, cands[i]) })
	for _, out := range outs {
		switch out.kind {
		case outRestored:
			res.Restored++
			res.RestoredBytes += out.bytes
		case outPresent:
			res.Present++
		case outSkipped:
			res.Skipped++
		case outFailed:
			res.Failed++
		}
		if out.indexed {
			res.Indexed++
		}
	}
	res.Problems, res.Counts, _, res.Truncated = probs.result()
	res.FinishedAt = time.Now().UTC()
	if s := res.FinishedAt.Sub(res.StartedAt).Seconds(); s > 0 {
		res.Rate = float64(res.RestoredBytes) / s
	}
	log.Info().Int("restored", res.Restored).Int("present", res.Present).Int("skipped", res.Skipped).
		Int("failed", res.Failed).Int("indexed", res.Indexed).Msg("restore finished")
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	return res, nil
}

// noVersioning is the point-in-time refusal, naming the fix.
func noVersioning(bucket string) error {
	if bucket == "" {
		bucket = "BUCKET"
	}
	return fmt.Errorf("point-in-time restore: %w on bucket %q: enable it with `mc version enable ALIAS/%s` (MinIO) or `aws s3api put-bucket-versioning --bucket %s --versioning-configuration Status=Enabled` (S3); only changes made after that can be restored to a point in time",
		ErrNoVersioning, bucket, bucket, bucket)
}

// selectObjects lists what the options select, current or as of At, and
// any warnings about the selection.
func selectObjects(ctx context.Context, o Options, probs *problems) ([]candidate, []string, error) {
	var cands []candidate
	prefix := o.Prefix
	if o.Path != "" && len(o.Path) > len(prefix) {
		prefix = o.Path
	}
	keep := func(key string, size int64, versionID string) {
		rel, ok, refused := classify(key, o.Matcher)
		if refused != nil {
			probs.add(key, Refused, "%v", refused)
		}
		if !ok || !matchGlob(o.Glob, rel) || !strings.HasPrefix(rel, o.Prefix) ||
			(o.Path != "" && rel != o.Path && !strings.HasPrefix(rel, o.Path+"/")) {
			return
		}
		cands = append(cands, candidate{key: key, rel: rel, size: size, versionID: versionID})
	}
	if o.At.IsZero() {
		err := o.Bucket.List(ctx, prefix, func(obj objstore.Object) error {
			keep(obj.Key, obj.Size, "")
			return nil
		})
		if err != nil {
			return nil, nil, fmt.Errorf("restore: list bucket: %w", err)
		}
		return cands, nil, nil
	}
	if o.Versions == nil {
		return nil, nil, errors.New("point-in-time restore: the store has no version API")
	}
	on, err := o.Versions.Versioning(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("point-in-time restore: %w", err)
	}
	if !on {
		bucket := ""
		if b, ok := o.Versions.(interface{ Bucket() string }); ok {
			bucket = b.Bucket()
		}
		return nil, nil, noVersioning(bucket)
	}
	var (
		check    versionCheck
		decided  bool
		keys     int       // keys under the prefix with any version
		earliest time.Time // the oldest version seen
	)
	listed := time.Now()
	err = o.Versions.ListVersions(ctx, prefix, func(v objstore.Version) error {
		if v.Key != check.key {
			if err := check.done(); err != nil {
				return err
			}
			check = versionCheck{key: v.Key}
			decided = false
			keys++
		}
		if err := check.add(v, listed); err != nil {
			return err
		}
		if earliest.IsZero() || v.LastModified.Before(earliest) {
			earliest = v.LastModified
		}
		// Newest first within a key: the first one at or before At wins.
		if decided || v.LastModified.After(o.At) {
			return nil
		}
		decided = true
		if !v.DeleteMarker {
			keep(v.Key, v.Size, v.VersionID)
		}
		return nil
	})
	if err == nil {
		err = check.done()
	}
	if err != nil {
		return nil, nil, fmt.Errorf("point-in-time restore: list versions: %w", err)
	}
	var warnings []string
	if len(cands) == 0 && keys > 0 {
		warnings = append(warnings, fmt.Sprintf("nothing to restore at %s: the bucket holds versions of %d key(s) under %q, but none existed then (the oldest version is from %s)",
			o.At.UTC().Format(time.RFC3339), keys, prefix, earliest.UTC().Format(time.RFC3339)))
	}
	return cands, warnings, nil
}

// versionCheck checks one key's versions against the server's IsLatest
// marks: exactly one latest, (one of) the newest by date, none in the
// future. Order-free.
type versionCheck struct {
	key      string
	newest   time.Time // the newest date of any version
	latest   bool      // a version marked latest was seen
	latestID string
	latestAt time.Time
}

func (c *versionCheck) add(v objstore.Version, now time.Time) error {
	if v.LastModified.After(now.Add(futureSkew)) {
		return fmt.Errorf("%w: version %s of %q is dated %s, in the future: its dates cannot say what existed when; restore without --at, or from a ZFS snapshot",
			ErrInconsistentVersions, v.VersionID, c.key, v.LastModified.UTC().Format(time.RFC3339))
	}
	if v.LastModified.After(c.newest) {
		c.newest = v.LastModified
	}
	if !v.IsLatest {
		return nil
	}
	if c.latest {
		return fmt.Errorf("%w: two versions of %q are marked latest; restore without --at, or from a ZFS snapshot", ErrInconsistentVersions, c.key)
	}
	c.latest, c.latestID, c.latestAt = true, v.VersionID, v.LastModified
	return nil
}

// done finishes the key: one of its versions must have been marked
// latest, and none be newer.
func (c *versionCheck) done() error {
	switch {
	case c.key == "":
		return nil
	case !c.latest:
		return fmt.Errorf("%w: no version of %q is marked latest; restore without --at, or from a ZFS snapshot", ErrInconsistentVersions, c.key)
	case c.latestAt.Before(c.newest):
		return fmt.Errorf("%w: version %s of %q is marked latest but dated %s, older than another version dated %s: its dates cannot say what existed when; restore without --at, or from a ZFS snapshot",
			ErrInconsistentVersions, c.latestID, c.key, c.latestAt.UTC().Format(time.RFC3339), c.newest.UTC().Format(time.RFC3339))
	}
	return nil
}

// matchGlob reports whether rel matches glob ("" matches everything).
func matchGlob(glob, rel string) bool {
	if glob == "" {
		return true
	}
	if !strings.Contains(glob, "/") {
		ok, _ := path.Match(glob, path.Base(rel))
		return ok
	}
	ok, _ := path.Match(strings.TrimPrefix(glob, "/"), rel)
	return ok
}

// getter serves the Downloader the selected version of each key, counting
// bytes for progress. Its map is read-only once downloads start.
type getter struct {
	b   Bucket
	v   Versions
	ids map[string]string
	n   interface{ Add(int64) int64 }
}

func (g *getter) Get(ctx context.Context, key string) (io.ReadCloser, objstore.Object, error) {
	body, obj, err := g.fetch(ctx, key)
	if err != nil {
		return nil, obj, err
	}
	return countingBody{ReadCloser: body, n: g.n}, obj, nil
}

// uncheckedGetter is a store that can skip the SDK's response checksum
// validation (objstore.S3.GetUnchecked).
type uncheckedGetter interface {
	GetUnchecked(ctx context.Context, key, versionID string) (io.ReadCloser, objstore.Object, error)
}

var _ uncheckedGetter = (*objstore.S3)(nil)

// fetch GETs the selected version of key. The Downloader checks every byte
// against our metadata, so the store's own body validation (a second
// SHA-256 of small objects) is skipped when "sha256" metadata is there; an
// object without it is fetched again with the store's validation, then the
// better check (a single-part ETag that is no MD5).
func (g *getter) fetch(ctx context.Context, key string) (io.ReadCloser, objstore.Object, error) {
	id := g.ids[key]
	var src any = g.b
	if id != "" {
		src = g.v
	}
	if u, ok := src.(uncheckedGetter); ok {
		body, obj, err := u.GetUnchecked(ctx, key, id)
		if err != nil || obj.SHA256 != "" {
			return body, obj, err
		}
		body.Close()
	}
	if id != "" {
		return g.v.GetVersion(ctx, key, id)
	}
	return g.b.Get(ctx, key)
}

func (g *getter) head(ctx context.Context, key string) (objstore.Object, error) {
	if id := g.ids[key]; id != "" {
		return g.v.HeadVersion(ctx, key, id)
	}
	return g.b.Head(ctx, key)
}

type countingBody struct {
	io.ReadCloser
	n interface{ Add(int64) int64 }
}

func (c countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

type outKind int

const (
	outRestored outKind = iota
	outPresent
	outSkipped
	outFailed
)

type fileOutcome struct {
	kind    outKind
	bytes   int64
	indexed bool
}

type restorer struct {
	o     Options
	root  *os.Root
	get   *getter
	dl    *transfer.Downloader
	probs *problems
	tr    *tracker
	index bool
	log   zerolog.Logger
}

// one restores one candidate.
func (r *restorer) one(ctx context.Context, c candidate) fileOutcome {
	fail := func(format string, a ...any) fileOutcome {
		r.probs.add(c.rel, CheckFailed, format, a...)
		r.log.Warn().Str("path", c.rel).Msgf(format, a...)
		return fileOutcome{kind: outFailed}
	}
	var expect *scan.File
	fi, err := r.root.Lstat(c.rel)
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
	case err != nil:
		return fail("stat: %v", err)
	case !fi.Mode().IsRegular():
		r.probs.add(c.rel, Skipped, "exists and is %s, not a file", fi.Mode().Type())
		r.tr.bytes.Add(c.size)
		return fileOutcome{kind: outSkipped}
	default:
		obj, err := r.get.head(ctx, c.key)
		if err != nil {
			return fail("head object: %v", err)
		}
		st := scan.File{Path: c.rel, Size: fi.Size(), Mtime: fi.ModTime().UTC()}
		if s, ok := fi.Sys().(*syscall.Stat_t); ok {
			st.Inode = s.Ino
		}
		if st.Size == obj.Size {
			same, sum, err := r.sameContent(ctx, c.rel, obj)
			if err != nil {
				return fail("read existing file: %v", err)
			}
			if same {
				r.tr.bytes.Add(c.size)
				out := fileOutcome{kind: outPresent}
				if r.index {
					e := index.Entry{Size: st.Size, Mtime: st.Mtime, Inode: st.Inode, SHA256: sum,
						HashedAt: time.Now(), SyncedAt: time.Now(), ETag: obj.ETag, VersionID: obj.VersionID}
					if err := r.o.Index.Put(c.rel, e); err != nil {
						return fail("index: %v", err)
					}
					out.indexed = true
				}
				return out
			}
		}
		if !r.o.Overwrite {
			r.probs.add(c.rel, Skipped, "exists and differs from the bucket's copy (use overwrite to replace it)")
			r.tr.bytes.Add(c.size)
			return fileOutcome{kind: outSkipped}
		}
		if r.o.OpenFiles != nil && r.o.OpenFiles.Open(ctx, c.rel) {
			r.probs.add(c.rel, Skipped, "open by an SMB client; not replaced")
			r.tr.bytes.Add(c.size)
			return fileOutcome{kind: outSkipped}
		}
		expect = &st
	}
	if r.o.DryRun {
		r.tr.bytes.Add(c.size)
		return fileOutcome{kind: outRestored, bytes: c.size}
	}
	e, err := r.dl.DownloadAs(ctx, c.key, c.rel, expect)
	if err != nil {
		if ctx.Err() != nil {
			return fileOutcome{kind: outFailed}
		}
		return fail("%v", err)
	}
	out := fileOutcome{kind: outRestored, bytes: e.Size}
	if r.index {
		if err := r.o.Index.Put(c.rel, e); err != nil {
			return fail("index: %v", err)
		}
		out.indexed = true
	}
	return out
}

// sameContent reports whether the file rel has obj's content (by SHA-256
// metadata, else a single-part MD5 ETag) and returns its SHA-256. It reads
// through the Root, so a symlinked parent cannot lead outside.
func (r *restorer) sameContent(ctx context.Context, rel string, obj objstore.Object) (bool, string, error) {
	f, err := r.root.Open(rel)
	if err != nil {
		return false, "", err
	}
	defer f.Close()
	sha := sha256.New()
	var md hash.Hash = md5.New()
	n, err := io.CopyBuffer(io.MultiWriter(sha, md), scan.ContextReader{Ctx: ctx, R: f}, make([]byte, 256<<10))
	if err != nil {
		return false, "", err
	}
	sum := hex.EncodeToString(sha.Sum(nil))
	switch {
	case n != obj.Size:
		return false, sum, nil
	case obj.SHA256 != "":
		return sum == obj.SHA256, sum, nil
	case len(obj.ETag) == 32:
		return hex.EncodeToString(md.Sum(nil)) == strings.ToLower(obj.ETag), sum, nil
	}
	return false, sum, nil
}

// writeMarker writes the share marker unless there is one: after a cold
// boot fills the index, a missing marker would mean "dataset not mounted".
func writeMarker(root *os.Root, share string) error {
	if _, err := root.Lstat(layout.ShareMarker); err == nil {
		return nil
	}
	data := fmt.Sprintf("GenesisSync share %q. This file proves the share is mounted; do not delete it.\n", share)
	if err := root.WriteFile(layout.ShareMarker, []byte(data), 0o444); err != nil {
		return fmt.Errorf("restore: write share marker: %w", err)
	}
	return nil
}

// spreadDirs reorders cands round-robin over their parent directories
// (keeping the order within each), so concurrent downloads do not queue on
// one directory's lock as a sorted listing would make them.
func spreadDirs(cands []candidate) []candidate {
	var dirs []string
	byDir := map[string][]candidate{}
	for _, c := range cands {
		d := path.Dir(c.rel)
		if _, ok := byDir[d]; !ok {
			dirs = append(dirs, d)
		}
		byDir[d] = append(byDir[d], c)
	}
	if len(dirs) < 2 {
		return cands
	}
	out := make([]candidate, 0, len(cands))
	for len(out) < len(cands) {
		for _, d := range dirs {
			if q := byDir[d]; len(q) > 0 {
				out = append(out, q[0])
				byDir[d] = q[1:]
			}
		}
	}
	return out
}
