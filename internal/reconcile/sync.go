package reconcile

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"genesissync/internal/index"
	"genesissync/internal/keymap"
	"genesissync/internal/objstore"
	"genesissync/internal/scan"
	"genesissync/internal/transfer"
)

// remote is what the pipeline needs from the bucket directly: fresh
// state of one object and the listing. Transfers go through transfer.
type remote interface {
	Put(ctx context.Context, in objstore.PutInput) (objstore.Object, error)
	Copy(ctx context.Context, src, dst, ifMatch string) (objstore.Object, error)
	Head(ctx context.Context, key string) (objstore.Object, error)
	// HeadLatest is the object's state as the target's endpoints agree
	// (objstore.S3.HeadLatest), known the index's record of it.
	HeadLatest(ctx context.Context, key string, known objstore.Known) (objstore.Object, error)
	List(ctx context.Context, prefix string, fn func(objstore.Object) error) error
}

// downloader is what the pipeline needs from transfer for the way down.
type downloader interface {
	Download(ctx context.Context, rel string, expect *scan.File) (index.Entry, error)
	DownloadAs(ctx context.Context, key, rel string, expect *scan.File) (index.Entry, error)
	DownloadSeen(ctx context.Context, rel string, seen objstore.Object, expect *scan.File) (index.Entry, error)
	HashObject(ctx context.Context, key string, want objstore.Object) (string, error)
}

var _ downloader = (*transfer.Downloader)(nil)

// outcome is what one job did, for status and logs.
type outcome int

const (
	outNone outcome = iota
	outUploaded
	outDownloaded
	outAdopted
	outForgotten
	outKeptDeleted
	outConflict
	outHeldDelete
	outDeleted
	outRenamed
	outRefused
	outHeldTripwire
)

// errOpen marks a path that an SMB client holds open: the change waits.
var errOpen = errors.New("held open by an SMB client")

// process brings one path in line from fresh local, base and remote
// states. Only the far side's confirmation is recorded in the index.
func (s *Share) process(ctx context.Context, j job) result {
	r, in, key, ok := s.gather(j)
	if !ok {
		return r
	}
	if pre, ok := optimistic(in); ok && s.conditions.Load() == condHonored {
		s.upload(ctx, &r, in, key, pre)
		if !errors.Is(r.err, objstore.ErrPreconditionFailed) {
			return r
		}
		r = result{job: j, base: r.base}
	}
	a, ok := s.decide(ctx, &r, &in, key)
	if !ok {
		return r
	}
	s.execute(ctx, &r, a, in, key)
	return r
}

// gather reads the local and base states of j's path. ok is false when
// r already says why nothing can be done now (not settled, a refused
// name, an error).
func (s *Share) gather(j job) (r result, in Input, key string, ok bool) {
	r = result{job: j}
	if s.opts.Matcher.ExcludedPath(j.rel) {
		// Excluded names are never synced (an event or listing may predate the exclude).
		return r, in, "", false
	}
	var local *scan.File
	f, err := scan.Stat(s.opts.Root, j.rel)
	switch {
	case err == nil:
		local = &f
		if age := time.Since(f.Mtime); age >= 0 && age < s.opts.Settle {
			r.err = errNotSettled
			return r, in, "", false
		}
	case errors.Is(err, fs.ErrNotExist):
	default:
		r.err = err
		return r, in, "", false
	}
	key, err = keymap.Key(j.rel)
	if err != nil {
		r.out, r.err = outRefused, err
		return r, in, "", false
	}
	b, found, err := s.opts.Index.Get(j.rel)
	if err != nil {
		r.err = err
		return r, in, "", false
	}
	if found {
		r.base = &b
	}
	return r, Input{Local: local, Base: r.base, Policy: s.opts.Policy}, key, true
}

// decide asks the bucket (HEAD) and plans, reading the local file or the
// object when the plan needs their bytes, until the planner decides. ok is
// false when r.err says why it could not.
func (s *Share) decide(ctx context.Context, r *result, in *Input, key string) (Action, bool) {
	var err error
	var known objstore.Known
	if in.Base != nil {
		known = objstore.Known{ETag: in.Base.ETag, At: in.Base.SyncedAt}
	}
	if in.Remote, err = s.head(ctx, key, known); err != nil {
		r.err = err
		return Nothing, false
	}
	for range 3 {
		a := Plan(*in)
		switch a {
		case NeedLocalHash:
			// One read gives the SHA-256 and, for a foreign object, the ETag proof.
			p, err := s.proveLocal(ctx, r.rel, *in.Local, in.Remote)
			if err != nil {
				r.err = err
				return Nothing, false
			}
			in.LocalSHA256, in.ETagMatch, r.localCRC = p.sha256, p.etagMatch, p.crc32c
			if in.Base == nil && in.Remote != nil {
				r.hashedBytes += in.Local.Size // an adoption's proof
			}
			continue
		case NeedRemoteHash:
			// Neither our metadata nor the ETag proved equality: read the bytes.
			sum, err := s.opts.Downloader.HashObject(ctx, key, *in.Remote)
			if err != nil {
				r.err = err
				return Nothing, false
			}
			in.RemoteReadSHA256, r.readBytes = sum, in.Remote.Size
			continue
		}
		r.proof = proofOf(*in, a)
		return a, true
	}
	r.err = fmt.Errorf("plan %q: no decision after hashing", r.rel)
	return Nothing, false
}

// proofOf is how an Adopt of a path on both sides was proven.
func proofOf(in Input, a Action) proof {
	switch {
	case a != Adopt || in.Remote == nil:
		return proofNone
	case in.Remote.SHA256 != "":
		return proofMetadata
	case in.ETagMatch:
		return proofETag
	case in.RemoteReadSHA256 != "":
		return proofReading
	}
	return proofNone
}

// optimistic decides whether process may skip the HEAD: for a small local
// file whose plan, guessing the bucket holds what the index recorded, is
// an upload (the common save: one request instead of two). The upload
// carries the guess as its precondition (If-None-Match: *, or If-Match on
// the recorded ETag), so a wrong guess is refused and process asks the
// bucket. Large files always HEAD first: it is cheap beside their upload,
// and a new large file may be a rename.
func optimistic(in Input) (transfer.Precondition, bool) {
	l, b := in.Local, in.Base
	if l == nil || l.Size > smallFileMax {
		return transfer.Precondition{}, false
	}
	var pre transfer.Precondition
	switch {
	case b == nil:
		pre.Absent = true
	case b.LocalGone || b.ETag == "":
		return pre, false
	default:
		in.Remote = &objstore.Object{Size: b.Size, ETag: b.ETag, VersionID: b.VersionID, SHA256: b.SHA256, Mtime: b.Mtime}
		pre.ETag = b.ETag
	}
	return pre, Plan(in) == Upload
}

// preconditionOf makes an upload planned on remote require that the bucket
// still holds it (nothing, if nil): it closes the HEAD-to-upload window.
func preconditionOf(remote *objstore.Object) transfer.Precondition {
	if remote == nil {
		return transfer.Precondition{Absent: true}
	}
	return transfer.Precondition{ETag: remote.ETag}
}

// only returns pre if the store honors conditional writes, else none: a
// store that does not know the headers may reject them (501).
func (s *Share) only(pre transfer.Precondition) transfer.Precondition {
	if s.conditions.Load() != condHonored {
		return transfer.Precondition{}
	}
	return pre
}

// head is the bucket's side of key for a decision, known the index's
// record of it: on a target with several endpoints, a replica that lags
// never overrules the newest version nor proves a delete
// (objstore.S3.HeadLatest).
func (s *Share) head(ctx context.Context, key string, known objstore.Known) (*objstore.Object, error) {
	o, err := s.opts.Remote.HeadLatest(ctx, key, known)
	if errors.Is(err, objstore.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &o, nil
}

func (s *Share) execute(ctx context.Context, r *result, a Action, in Input, key string) {
	r.action = a
	switch a {
	case Nothing:
	case Upload:
		s.upload(ctx, r, in, key, preconditionOf(in.Remote))
	case Download:
		if err := s.root.ok(ctx); err != nil {
			r.err = err
			return
		}
		if in.Local != nil && s.opts.OpenFiles != nil && s.opts.OpenFiles.Open(ctx, r.rel) {
			r.err = errOpen
			return
		}
		if in.Local == nil {
			// No case-only collisions: Windows clients cannot tell them
			// apart (bucket events bypass the listing's check).
			if err := caseCollision(s.opts.Root, r.rel); err != nil {
				r.out, r.err = outRefused, err
				return
			}
		}
		download := s.opts.Downloader.Download
		if in.Remote != nil {
			// The version the plan saw, not an older one a replica holds.
			seen := *in.Remote
			download = func(ctx context.Context, rel string, expect *scan.File) (index.Entry, error) {
				return s.opts.Downloader.DownloadSeen(ctx, rel, seen, expect)
			}
		}
		e, err := download(ctx, r.rel, in.Local)
		if err != nil {
			r.err = err
			return
		}
		r.out, r.bytes = outDownloaded, e.Size
		if in.Remote != nil && in.Remote.ETag == e.ETag {
			// The download hashed a foreign object: give it our metadata.
			e = s.backfill(ctx, r.rel, key, *in.Remote, e, "")
		}
		r.record(s, e)
	case Adopt:
		sum := in.LocalSHA256
		if sum == "" {
			var err error
			if sum, _, err = scan.HashFile(ctx, s.opts.Root, r.rel); err != nil {
				r.err = err
				return
			}
		}
		e := index.Entry{
			Size: in.Local.Size, Mtime: in.Local.Mtime, Inode: in.Local.Inode,
			SHA256: sum, HashedAt: time.Now(), SyncedAt: time.Now(),
			NotFormat: localNotFormat(s.opts.Root, r.rel),
		}
		if in.Remote != nil {
			e.ETag, e.VersionID = in.Remote.ETag, in.Remote.VersionID
			if r.proof != proofMetadata {
				e = s.backfill(ctx, r.rel, key, *in.Remote, e, r.localCRC)
			}
		}
		r.out = outAdopted
		r.record(s, e)
	case Forget:
		if r.err = s.opts.Index.Delete(r.rel); r.err == nil {
			r.out = outForgotten
		}
	case KeepDeleted:
		e := *in.Base
		e.LocalGone = true
		r.out = outKeptDeleted
		r.record(s, e)
	case Conflict:
		if in.Base == nil && !r.allowDelete {
			// A first pass's conflict joins the guard's batch like a delete:
			// a mass of conflict copies (wrong prefix, an old backup) stops
			// for a person.
			r.out = outHeldDelete
			return
		}
		if r.err = s.root.ok(ctx); r.err != nil {
			return
		}
		if s.trip != nil {
			// Judged before the bucket's version is saved: a held local
			// version must not leave a conflict copy on each attempt.
			err := s.trip.inspectLocal(s.opts.Root, r.rel, in.Base)
			if s.held(r, err) {
				return
			}
			if err != nil {
				r.err = err
				return
			}
		}
		s.conflict(ctx, r, in)
	case DeleteLocal, DeleteRemote:
		// Held until the guard releases it; never carried out without a
		// trash; and not sent while the tripwire holds the share.
		if !r.allowDelete || s.opts.Trash == nil || (a == DeleteRemote && s.trip.tripped()) {
			r.out = outHeldDelete
			return
		}
		s.executeDelete(ctx, r, a, in, key)
	}
}

// upload carries out an Upload; the bucket must hold what pre names.
func (s *Share) upload(ctx context.Context, r *result, in Input, key string, pre transfer.Precondition) {
	r.action = Upload
	if s.opts.OpenFiles != nil && s.opts.OpenFiles.Writing(ctx, r.rel) {
		r.err = errOpen
		return
	}
	if in.Base == nil && in.Remote == nil && in.Local.Size >= RenameMinSize {
		if done := s.renamed(ctx, r, *in.Local, key); done {
			return
		}
	}
	res, err := s.opts.Uploader.Upload(ctx, r.rel, in.Base, s.only(pre))
	if s.held(r, err) {
		return
	}
	if err != nil {
		r.err = err
		return
	}
	r.bytes = res.Bytes
	r.out = outAdopted
	if res.Outcome == transfer.Uploaded {
		r.out = outUploaded
	}
	r.record(s, res.Entry)
}

// held reports whether err is the tripwire's hold, and makes r say so.
func (s *Share) held(r *result, err error) bool {
	var h *heldError
	if !errors.As(err, &h) {
		return false
	}
	r.out, r.err, r.heldReason = outHeldTripwire, nil, h.change.Reason
	return true
}

// record writes the new base entry, after the far side confirmed.
func (r *result) record(s *Share, e index.Entry) {
	if err := s.opts.Index.Put(r.rel, e); err != nil {
		r.err = err
		return
	}
	r.entry = &e
}

// conflict keeps both versions: the bucket's version is downloaded under
// a visible, dated conflict name beside the file and uploaded under that
// name too; only then is the local version uploaded to the path, so the
// bucket's version is never overwritten before its copy is safe.
func (s *Share) conflict(ctx context.Context, r *result, in Input) {
	if in.Remote == nil || in.Local == nil {
		r.err = fmt.Errorf("conflict on %q without both versions", r.rel)
		return
	}
	name, err := conflictName(s.opts.Root, r.rel, time.Now(), s.otherWriter(*in.Remote))
	if err != nil {
		r.err = err
		return
	}
	saved, err := s.opts.Downloader.DownloadAs(ctx, r.rel, name, nil)
	if err != nil {
		r.err = fmt.Errorf("conflict %q: save the bucket's version as %q: %w", r.rel, name, err)
		return
	}
	// The copy goes to the bucket before the path's object is replaced.
	copyRes, err := s.opts.Uploader.Upload(ctx, name, nil, s.only(transfer.Precondition{Absent: true}))
	if err != nil {
		r.err = fmt.Errorf("conflict %q: upload the copy %q: %w", r.rel, name, err)
		return
	}
	if err := s.opts.Index.Put(name, copyRes.Entry); err != nil {
		r.err = err
		return
	}
	// Only over the version just saved: a newer one would be lost.
	res, err := s.opts.Uploader.Upload(ctx, r.rel, in.Base, s.only(preconditionOf(in.Remote)))
	if err != nil {
		r.err = fmt.Errorf("conflict %q: upload the local version: %w", r.rel, err)
		return
	}
	r.bytes, r.downBytes = res.Bytes+copyRes.Bytes, saved.Size
	r.record(s, res.Entry)
	if r.err != nil {
		return
	}
	s.log.Warn().Str("path", r.rel).Str("conflict_copy", name).Msg("conflict: both sides changed; the bucket's version is kept beside the local one, on the share and in the bucket")
	r.out, r.conflictCopy = outConflict, name
}

// otherWriter is what a conflict copy of the bucket's version o says it
// came from: the appliance that wrote it when that is another one, else
// "bucket" (another tool, or this appliance's own older version).
func (s *Share) otherWriter(o objstore.Object) string {
	if o.Writer != "" && o.Writer != s.opts.Writer {
		return o.Writer
	}
	return "bucket"
}

// conflictName returns a name for the bucket's version of rel that is
// visible, dated and free on the share at root, from naming where it
// came from: "Jingle (conflict 2026-11-21 2310 from bucket).mp3", or
// "… from studio-b)" for another appliance's version.
// conflictCopyRE matches the file names conflictName makes: the stem,
// then " (conflict YYYY-MM-DD HHMM from <bucket or an appliance>[ N])",
// then the extension.
var conflictCopyRE = regexp.MustCompile(` \(conflict \d{4}-\d{2}-\d{2} \d{4} from [a-z0-9][a-z0-9-]{0,62}( \d+)?\)(\.[^./]*)?$`)

// IsConflictCopy reports whether rel's file name is one conflictName
// makes: the bucket's side of a conflict, kept beside the local file.
func IsConflictCopy(rel string) bool {
	return conflictCopyRE.MatchString(path.Base(rel))
}

func conflictName(root, rel string, now time.Time, from string) (string, error) {
	dir, file := path.Split(rel)
	ext := path.Ext(file)
	stem := strings.TrimSuffix(file, ext)
	stamp := now.Format("2006-01-02 1504")
	for i := 1; i < 100; i++ {
		suffix := ""
		if i > 1 {
			suffix = fmt.Sprintf(" %d", i)
		}
		name := dir + stem + " (conflict " + stamp + " from " + from + suffix + ")" + ext
		if _, err := keymap.Key(name); err != nil {
			return "", fmt.Errorf("conflict name for %q: %w", rel, err)
		}
		if _, err := scan.Stat(root, name); errors.Is(err, fs.ErrNotExist) {
			return name, nil
		}
	}
	return "", fmt.Errorf("conflict name for %q: too many conflict copies", rel)
}

// RenameMinSize is the size from which a new local file is checked for
// being a rename: below it a re-upload costs less than the search.
const RenameMinSize = 8 << 20

// renamed copies the object server-side when a new local file is a synced
// file moved on the share, and reports whether it did. The old path's
// delete takes the normal, guarded way.
func (s *Share) renamed(ctx context.Context, r *result, f scan.File, key string) bool {
	if !s.trip.renameMayCopy(r.rel) {
		return false // the upload's inspection judges it
	}
	var from string
	var base index.Entry
	err := s.opts.Index.ForEach(func(p string, e index.Entry) error {
		if e.Inode == f.Inode && e.Size == f.Size && e.Mtime.Equal(f.Mtime) && !e.LocalGone && p != r.rel {
			if _, err := scan.Stat(s.opts.Root, p); errors.Is(err, fs.ErrNotExist) {
				from, base = p, e
				return errStop
			}
		}
		return nil
	})
	if (err != nil && !errors.Is(err, errStop)) || from == "" {
		return false
	}
	// The hash makes it certain: reading is far cheaper than uploading.
	sum, f2, err := scan.HashFile(ctx, s.opts.Root, r.rel)
	if err != nil || !f2.SameVersion(f) || sum != base.SHA256 {
		return false
	}
	fromKey, err := keymap.Key(from)
	if err != nil {
		return false
	}
	o, err := s.opts.Remote.Copy(ctx, fromKey, key, base.ETag)
	if err != nil {
		s.log.Warn().Str("path", r.rel).Str("from", from).Err(err).Msg("server-side copy of a renamed file failed; uploading it instead")
		return false
	}
	e := index.Entry{
		Size: f.Size, Mtime: f.Mtime, Inode: f.Inode, SHA256: sum, HashedAt: time.Now(),
		ETag: o.ETag, VersionID: o.VersionID, SyncedAt: time.Now(), NotFormat: base.NotFormat,
	}
	r.out, r.renamedFrom = outRenamed, from
	r.record(s, e)
	return true
}

// localNotFormat is transfer.NotFormat of the share file rel; false
// when it cannot be read (no opinion).
func localNotFormat(root, rel string) bool {
	f, err := os.Open(filepath.Join(root, filepath.FromSlash(rel)))
	if err != nil {
		return false
	}
	defer f.Close()
	return transfer.NotFormat(rel, f)
}

// errStop ends an index walk early.
var errStop = errors.New("stop")

// caseCollision reports a *keymap.RefusedError when a component of rel
// differs only by letter case from an existing entry of its directory on
// the share at root.
func caseCollision(root, rel string) error {
	dir := ""
	for _, seg := range strings.Split(rel, "/") {
		entries, err := os.ReadDir(filepath.Join(root, filepath.FromSlash(dir)))
		if errors.Is(err, fs.ErrNotExist) {
			return nil // the rest is new
		}
		if err != nil {
			return err
		}
		for _, e := range entries {
			if e.Name() != seg && strings.EqualFold(e.Name(), seg) {
				return &keymap.RefusedError{Key: rel, Reason: keymap.ReasonCaseCollision, Detail: fmt.Sprintf("collides with %q", path.Join(dir, e.Name()))}
			}
		}
		dir = path.Join(dir, seg)
	}
	return nil
}
