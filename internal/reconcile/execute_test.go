package reconcile

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/index"
	"genesissync/internal/keymap"
	"genesissync/internal/layout"
	"genesissync/internal/objstore"
	"genesissync/internal/transfer"
)

// memBucket is the in-memory store as everything the pipeline talks to
// (remote, uploader, downloader, trash), with the server-side copy and
// the versioning answer that objstore.Memory does not have.
type memBucket struct {
	*objstore.Memory
	versioned bool
	copyErr   error                  // set: every Copy fails with it
	putErr    func(key string) error // set: a Put of a key fails with what it returns
	copies    int
}

func (b *memBucket) Put(ctx context.Context, in objstore.PutInput) (objstore.Object, error) {
	if b.putErr != nil {
		if err := b.putErr(in.Key); err != nil {
			return objstore.Object{}, err
		}
	}
	return b.Memory.Put(ctx, in)
}

// Copy copies src to dst with src's metadata, if src still has the ETag
// ifMatch, as S3's CopyObject does.
func (b *memBucket) Copy(ctx context.Context, src, dst, ifMatch string) (objstore.Object, error) {
	if b.copyErr != nil {
		return objstore.Object{}, b.copyErr
	}
	rc, o, err := b.Get(ctx, src)
	if err != nil {
		return objstore.Object{}, err
	}
	defer rc.Close()
	if ifMatch != "" && o.ETag != ifMatch {
		return objstore.Object{}, objstore.ErrPreconditionFailed
	}
	data, err := io.ReadAll(rc)
	if err != nil {
		return objstore.Object{}, err
	}
	b.copies++
	return b.Memory.Put(ctx, objstore.PutInput{Key: dst, Body: bytes.NewReader(data), Size: int64(len(data)), SHA256: o.SHA256, Mtime: o.Mtime})
}

func (b *memBucket) Versioning(context.Context) (bool, error) { return b.versioned, nil }

// body is the object at key's bytes.
func (b *memBucket) body(t *testing.T, key string) string {
	t.Helper()
	rc, _, err := b.Get(context.Background(), key)
	require.NoError(t, err, key)
	defer rc.Close()
	data, err := io.ReadAll(rc)
	require.NoError(t, err)
	return string(data)
}

func (b *memBucket) has(key string) bool {
	_, err := b.Head(context.Background(), key)
	return err == nil
}

// countingUploader counts the uploads that went through it.
type countingUploader struct {
	uploader
	n int
}

func (c *countingUploader) Upload(ctx context.Context, rel string, base *index.Entry, pre transfer.Precondition) (transfer.Result, error) {
	c.n++
	return c.uploader.Upload(ctx, rel, base, pre)
}

// execShare is a share on t.TempDir whose root holds its marker, over an
// in-memory bucket, with the real uploader, downloader and trash.
func execShare(t *testing.T) (*Share, *memBucket) {
	t.Helper()
	s, _, m := pollShare(t, time.Hour)
	b := &memBucket{Memory: m}
	s.opts.Remote = b
	s.opts.Uploader = transfer.NewUploader(s.opts.Root, b, 0)
	s.opts.Downloader = transfer.NewDownloader(s.opts.Root, b, -1, -1)
	s.opts.Trash = transfer.NewTrash(s.opts.Root, b)
	require.NoError(t, os.WriteFile(filepath.Join(s.opts.Root, layout.ShareMarker), []byte("marker"), 0o444))
	return s, b
}

// syncFile makes rel a synced file holding data: on the share, in the
// bucket and in the index, uploaded by the pipeline.
func syncFile(t *testing.T, s *Share, rel string, data []byte) {
	t.Helper()
	writeAged(t, s.opts.Root, rel, data)
	r := s.process(context.Background(), job{rel: rel})
	require.NoError(t, r.err)
	require.Equal(t, outUploaded, r.out)
}

func readLocal(t *testing.T, s *Share, rel string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(s.opts.Root, filepath.FromSlash(rel)))
	require.NoError(t, err, rel)
	return string(data)
}

func localExists(s *Share, rel string) bool {
	_, err := os.Lstat(filepath.Join(s.opts.Root, filepath.FromSlash(rel)))
	return err == nil
}

// runResult hands r to the loop as a worker would, for the status.
func runResult(s *Share, r result) {
	if s.pend[r.rel] == nil {
		s.pend[r.rel] = &pending{since: time.Now()}
	}
	s.inflight[r.rel] = time.Now()
	s.finish(r)
	s.publish()
}

var conflictCopyName = regexp.MustCompile(`^Music/a \(conflict (\d{4}-\d{2}-\d{2} \d{4}) from bucket\)\.mp3$`)

// TestConflictKeepsBothVersions: both sides changed since the base. The
// bucket's version is saved under a dated conflict name on both sides,
// and the share's version goes to the path; nothing is lost. With
// conditional writes the small local change is first tried as a guess,
// which the bucket refuses.
func TestConflictKeepsBothVersions(t *testing.T) {
	for _, conditions := range []int32{condUnknown, condHonored} {
		s, b := execShare(t)
		s.conditions.Store(conditions)
		syncFile(t, s, "Music/a.mp3", []byte("the synced version"))
		putObject(t, b.Memory, "Music/a.mp3", "the web app's version")
		writeAged(t, s.opts.Root, "Music/a.mp3", []byte("the studio's version, longer"))

		before := time.Now()
		r := s.process(context.Background(), job{rel: "Music/a.mp3"})
		require.NoError(t, r.err)
		require.Equal(t, Conflict, r.action)
		require.Equal(t, outConflict, r.out)
		m := conflictCopyName.FindStringSubmatch(r.conflictCopy)
		require.NotNil(t, m, "a visible, dated conflict name: %q", r.conflictCopy)
		stamp, err := time.ParseInLocation("2006-01-02 1504", m[1], time.Local)
		require.NoError(t, err)
		require.WithinDuration(t, before, stamp, 2*time.Minute, "dated now")

		require.Equal(t, "the studio's version, longer", readLocal(t, s, "Music/a.mp3"))
		require.Equal(t, "the web app's version", readLocal(t, s, r.conflictCopy), "the bucket's version is kept beside the file")
		require.Equal(t, "the studio's version, longer", b.body(t, "Music/a.mp3"))
		require.Equal(t, "the web app's version", b.body(t, r.conflictCopy), "and in the bucket under the same name")
		for _, rel := range []string{"Music/a.mp3", r.conflictCopy} {
			e, ok, err := s.opts.Index.Get(rel)
			require.NoError(t, err)
			require.True(t, ok, rel)
			o, err := b.Head(context.Background(), rel)
			require.NoError(t, err)
			require.Equal(t, o.ETag, e.ETag, "%s: the index records what the bucket holds", rel)
			require.Equal(t, o.SHA256, e.SHA256)
		}

		runResult(s, r)
		st := s.Status()
		require.Len(t, st.Conflicts, 1)
		require.Equal(t, ConflictCopy{Path: "Music/a.mp3", Copy: r.conflictCopy, At: st.Conflicts[0].At}, st.Conflicts[0])
	}
}

// TestConflictCopyNamesTheOtherAppliance: the bucket's version written by
// another appliance on the prefix is kept under a name that says which;
// this appliance's own older version, and another tool's, say "bucket".
func TestConflictCopyNamesTheOtherAppliance(t *testing.T) {
	for _, tc := range []struct{ writer, from string }{
		{"studio-b", "studio-b"},
		{"studio-a", "bucket"}, // its own (after the index was lost)
		{"", "bucket"},         // a web app's
	} {
		s, b := execShare(t)
		s.opts.Writer = "studio-a"
		syncFile(t, s, "Music/a.mp3", []byte("the synced version"))
		data := []byte("the other side's version")
		sum := sha256.Sum256(data)
		_, err := b.Put(context.Background(), objstore.PutInput{Key: "Music/a.mp3", Body: bytes.NewReader(data), Size: int64(len(data)),
			SHA256: hex.EncodeToString(sum[:]), Writer: tc.writer})
		require.NoError(t, err)
		writeAged(t, s.opts.Root, "Music/a.mp3", []byte("the studio's version, longer"))
		r := s.process(context.Background(), job{rel: "Music/a.mp3"})
		require.NoError(t, r.err)
		require.Equal(t, outConflict, r.out)
		require.Regexp(t, `^Music/a \(conflict \d{4}-\d{2}-\d{2} \d{4} from `+tc.from+`\)\.mp3$`, r.conflictCopy, "writer %q", tc.writer)
		require.True(t, IsConflictCopy(r.conflictCopy))
		require.Equal(t, "the other side's version", readLocal(t, s, r.conflictCopy))
	}
}

// TestConflictSavesTheBucketsVersionFirst: the path's object is replaced
// only once the bucket's version is safe under its conflict name; when
// that fails, the bucket still holds its version at the path.
func TestConflictSavesTheBucketsVersionFirst(t *testing.T) {
	s, b := execShare(t)
	syncFile(t, s, "Music/a.mp3", []byte("the synced version"))
	putObject(t, b.Memory, "Music/a.mp3", "the web app's version")
	writeAged(t, s.opts.Root, "Music/a.mp3", []byte("the studio's version, longer"))
	b.putErr = func(key string) error {
		if strings.Contains(key, "(conflict ") {
			return errors.New("put: 503 SlowDown")
		}
		return nil
	}
	r := s.process(context.Background(), job{rel: "Music/a.mp3"})
	require.ErrorContains(t, r.err, "upload the copy")
	require.Equal(t, "the web app's version", b.body(t, "Music/a.mp3"), "not overwritten before its copy was safe")
	require.Equal(t, "the studio's version, longer", readLocal(t, s, "Music/a.mp3"))
}

func TestConflictNameIsFreeAndVisible(t *testing.T) {
	s, _ := execShare(t)
	at := time.Date(2026, 11, 21, 23, 10, 0, 0, time.Local)
	name, err := conflictName(s.opts.Root, "Music/Jingle.mp3", at, "bucket")
	require.NoError(t, err)
	require.Equal(t, "Music/Jingle (conflict 2026-11-21 2310 from bucket).mp3", name)

	writeAged(t, s.opts.Root, name, []byte("an earlier conflict's copy"))
	name, err = conflictName(s.opts.Root, "Music/Jingle.mp3", at, "bucket")
	require.NoError(t, err)
	require.Equal(t, "Music/Jingle (conflict 2026-11-21 2310 from bucket 2).mp3", name, "an existing copy is never overwritten")

	name, err = conflictName(s.opts.Root, "README", at, "bucket")
	require.NoError(t, err)
	require.Equal(t, "README (conflict 2026-11-21 2310 from bucket)", name)
	require.True(t, IsConflictCopy(name), "IsConflictCopy knows every name conflictName makes")
	require.True(t, IsConflictCopy("Music/Jingle (conflict 2026-11-21 2310 from bucket 2).mp3"))

	// Another appliance's version is named after it.
	name, err = conflictName(s.opts.Root, "Music/Jingle.mp3", at, "studio-b")
	require.NoError(t, err)
	require.Equal(t, "Music/Jingle (conflict 2026-11-21 2310 from studio-b).mp3", name)
	require.True(t, IsConflictCopy(name))
	for _, plain := range []string{"Music/Jingle.mp3", "Music/Jingle (conflict).mp3", "Music/Jingle (conflict 2026-11-21 2310 from bucket).mp3/x.mp3", "Live (conflict 2026-11-21 2310 from Studio B).mp3"} {
		require.False(t, IsConflictCopy(plain), plain)
	}
}

// renameSize is a file large enough to be checked for a rename.
const renameSize = RenameMinSize

// TestRenameIsACopyAndAProvenDelete: a synced file renamed on the share is
// copied in the bucket to its new key (not uploaded again), and the old
// key is deleted only as a proven delete released by the guard, into the
// trash.
func TestRenameIsACopyAndAProvenDelete(t *testing.T) {
	s, b := execShare(t)
	data := bytes.Repeat([]byte("track"), renameSize/5+1)
	syncFile(t, s, "Old/track.wav", data)
	up := &countingUploader{uploader: s.opts.Uploader}
	s.opts.Uploader = up
	require.NoError(t, os.Mkdir(filepath.Join(s.opts.Root, "New"), 0o755))
	require.NoError(t, os.Rename(filepath.Join(s.opts.Root, "Old", "track.wav"), filepath.Join(s.opts.Root, "New", "track.wav")))

	r := s.process(context.Background(), job{rel: "New/track.wav"})
	require.NoError(t, r.err)
	require.Equal(t, outRenamed, r.out)
	require.Equal(t, "Old/track.wav", r.renamedFrom)
	require.Zero(t, up.n, "nothing uploaded")
	require.Equal(t, 1, b.copies)
	require.Equal(t, string(data), b.body(t, "New/track.wav"))
	o, err := b.Head(context.Background(), "New/track.wav")
	require.NoError(t, err)
	e, ok, err := s.opts.Index.Get("New/track.wav")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, o.ETag, e.ETag)
	require.Equal(t, o.SHA256, e.SHA256)
	require.True(t, b.has("Old/track.wav"), "the old key waits for its own, proven delete")

	// The old path: gone on the share, unchanged in the bucket. The
	// delete waits in the guard's batch until released.
	r = s.process(context.Background(), job{rel: "Old/track.wav"})
	require.NoError(t, r.err)
	require.Equal(t, DeleteRemote, r.action)
	require.Equal(t, outHeldDelete, r.out)
	require.True(t, b.has("Old/track.wav"))

	r = s.process(context.Background(), job{rel: "Old/track.wav", allowDelete: true})
	require.NoError(t, r.err)
	require.Equal(t, outDeleted, r.out)
	require.False(t, b.has("Old/track.wav"))
	require.True(t, strings.HasPrefix(r.trashedTo, layout.TrashDir+"/"), r.trashedTo)
	require.Equal(t, string(data), b.body(t, r.trashedTo), "recoverable from the trash")
	_, ok, err = s.opts.Index.Get("Old/track.wav")
	require.NoError(t, err)
	require.False(t, ok)
	require.Zero(t, up.n)
}

// TestRenameFallsBackToUpload: when the server-side copy fails, the new
// name is uploaded.
func TestRenameFallsBackToUpload(t *testing.T) {
	s, b := execShare(t)
	data := bytes.Repeat([]byte("track"), renameSize/5+1)
	syncFile(t, s, "track.wav", data)
	require.NoError(t, os.Rename(filepath.Join(s.opts.Root, "track.wav"), filepath.Join(s.opts.Root, "renamed.wav")))
	b.copyErr = errors.New("copy: 501 NotImplemented")

	r := s.process(context.Background(), job{rel: "renamed.wav"})
	require.NoError(t, r.err)
	require.Equal(t, outUploaded, r.out)
	require.Equal(t, int64(len(data)), r.bytes)
	require.Equal(t, string(data), b.body(t, "renamed.wav"))
}

// TestRenameOfAnObjectChangedInTheBucketDeletesNothing: the old key
// changed in the bucket after the rename's base was recorded: the copy
// (conditional on the base's ETag) is refused, the new name is uploaded,
// and the old path's delete is not proven, so the bucket's new version
// comes down to the share instead.
func TestRenameOfAnObjectChangedInTheBucketDeletesNothing(t *testing.T) {
	s, b := execShare(t)
	data := bytes.Repeat([]byte("track"), renameSize/5+1)
	syncFile(t, s, "track.wav", data)
	require.NoError(t, os.Rename(filepath.Join(s.opts.Root, "track.wav"), filepath.Join(s.opts.Root, "renamed.wav")))
	putObject(t, b.Memory, "track.wav", "re-encoded in the bucket")

	r := s.process(context.Background(), job{rel: "renamed.wav"})
	require.NoError(t, r.err)
	require.Equal(t, outUploaded, r.out)
	require.Zero(t, b.copies)

	r = s.process(context.Background(), job{rel: "track.wav", allowDelete: true})
	require.NoError(t, r.err)
	require.Equal(t, Download, r.action)
	require.Equal(t, outDownloaded, r.out)
	require.Equal(t, "re-encoded in the bucket", b.body(t, "track.wav"))
	require.Equal(t, "re-encoded in the bucket", readLocal(t, s, "track.wav"))
}

// TestCaseCollisionIsRefusedVisibly: an object whose name differs from a
// share file's (or folder's) only by letter case is not written to the
// share, is not retried, and is listed with its reason.
func TestCaseCollisionIsRefusedVisibly(t *testing.T) {
	for _, tc := range []struct{ local, key, with string }{
		{local: "Music/Jingle.mp3", key: "Music/jingle.mp3", with: "Music/Jingle.mp3"},
		{local: "Music/Jingle.mp3", key: "music/new.mp3", with: "Music"},
	} {
		t.Run(tc.key, func(t *testing.T) {
			s, b := execShare(t)
			writeAged(t, s.opts.Root, tc.local, []byte("on the share"))
			putObject(t, b.Memory, tc.key, "from a web app") // reported by a bucket event

			r := s.process(context.Background(), job{rel: tc.key})
			require.Equal(t, Download, r.action)
			require.Equal(t, outRefused, r.out)
			var re *keymap.RefusedError
			require.ErrorAs(t, r.err, &re)
			require.Equal(t, keymap.ReasonCaseCollision, re.Reason)
			require.Contains(t, re.Detail, tc.with)
			require.False(t, localExists(s, tc.key), "nothing written beside the file")
			require.Equal(t, "on the share", readLocal(t, s, tc.local))

			runResult(s, r)
			st := s.Status()
			require.NotContains(t, s.pend, tc.key, "not retried")
			require.Len(t, st.RefusedPaths, 1)
			require.Equal(t, tc.key, st.RefusedPaths[0].Key)
			require.Equal(t, string(keymap.ReasonCaseCollision), st.RefusedPaths[0].Reason)
			require.Zero(t, st.Errors, "a refusal is not a failure to retry")
		})
	}
}

// TestListingRefusesCaseCollisions: of two keys that differ only by case,
// the one the share already tracks keeps its name; the other is refused
// on the status, never a candidate.
func TestListingRefusesCaseCollisions(t *testing.T) {
	s, b := execShare(t)
	syncFile(t, s, "Music/Jingle.mp3", []byte("synced"))
	putObject(t, b.Memory, "Music/JINGLE.mp3", "another tool's upload")
	foundc := make(chan found, 10)
	require.NoError(t, s.pollOnce(context.Background(), foundc))
	close(foundc)
	for f := range foundc {
		require.NotEqual(t, "Music/JINGLE.mp3", f.rel)
	}
	st := s.Status()
	require.Equal(t, 1, st.RefusedCount)
	require.Equal(t, Refused{Key: "Music/JINGLE.mp3", Reason: string(keymap.ReasonCaseCollision), Detail: st.Refused[0].Detail}, st.Refused[0])
}

// TestDeleteIsCarriedOutOnlyWhenProven: a delete runs only when the base
// proves the surviving side is the synced version, only once the guard
// released it and a trash is there, and only on a healthy root; it goes
// to the trash (the share's trash folder, the bucket's trash prefix or
// the bucket's versions) and the path leaves the index.
func TestDeleteIsCarriedOutOnlyWhenProven(t *testing.T) {
	const synced = "the synced version"
	cases := []struct {
		name string
		// change makes the difference after the sync.
		change  func(t *testing.T, s *Share, b *memBucket)
		allowed bool
		noTrash bool
		// want
		action  Action
		out     outcome
		err     error
		deleted bool // the path is gone from both sides and the index
	}{
		{name: "local: released", change: deleteObject, allowed: true, action: DeleteLocal, out: outDeleted, deleted: true},
		{name: "local: not released", change: deleteObject, action: DeleteLocal, out: outHeldDelete},
		{name: "local: no trash", change: deleteObject, allowed: true, noTrash: true, action: DeleteLocal, out: outHeldDelete},
		{name: "local: changed on the share since the base", allowed: true, action: Upload, out: outUploaded,
			change: func(t *testing.T, s *Share, b *memBucket) {
				deleteObject(t, s, b)
				writeAged(t, s.opts.Root, "a.mp3", []byte("edited in the studio"))
			}},
		{name: "local: open on SMB", allowed: true, action: DeleteLocal, err: errOpen,
			change: func(t *testing.T, s *Share, b *memBucket) {
				deleteObject(t, s, b)
				s.opts.OpenFiles = openFiles{"a.mp3"}
			}},
		{name: "remote: released, unversioned bucket", change: deleteFile, allowed: true, action: DeleteRemote, out: outDeleted, deleted: true},
		{name: "remote: released, versioned bucket", allowed: true, action: DeleteRemote, out: outDeleted, deleted: true,
			change: func(t *testing.T, s *Share, b *memBucket) { deleteFile(t, s, b); b.versioned = true }},
		{name: "remote: not released", change: deleteFile, action: DeleteRemote, out: outHeldDelete},
		{name: "remote: changed in the bucket since the base", allowed: true, action: Download, out: outDownloaded,
			change: func(t *testing.T, s *Share, b *memBucket) {
				deleteFile(t, s, b)
				putObject(t, b.Memory, "a.mp3", "edited by a web app")
			}},
		{name: "remote: the share's root is not the share", allowed: true, err: errRootUnhealthy,
			change: func(t *testing.T, s *Share, b *memBucket) {
				deleteFile(t, s, b)
				require.NoError(t, os.Remove(filepath.Join(s.opts.Root, layout.ShareMarker))) // an empty mountpoint
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, b := execShare(t)
			syncFile(t, s, "a.mp3", []byte(synced))
			tc.change(t, s, b)
			if tc.noTrash {
				s.opts.Trash = nil
			}
			local, remote := localExists(s, "a.mp3"), b.has("a.mp3")

			r := s.process(context.Background(), job{rel: "a.mp3", allowDelete: tc.allowed})
			if tc.err != nil {
				require.ErrorIs(t, r.err, tc.err)
			} else {
				require.NoError(t, r.err)
				require.Equal(t, tc.out, r.out)
			}
			if tc.action != Nothing {
				require.Equal(t, tc.action, r.action)
			}
			_, tracked, err := s.opts.Index.Get("a.mp3")
			require.NoError(t, err)
			if !tc.deleted {
				require.True(t, tracked, "still tracked")
				if tc.out != outDownloaded && tc.out != outUploaded {
					require.Equal(t, local, localExists(s, "a.mp3"), "the share file is untouched")
					require.Equal(t, remote, b.has("a.mp3"), "the object is untouched")
				}
				return
			}
			require.False(t, tracked, "a carried out delete leaves the index")
			require.False(t, localExists(s, "a.mp3"))
			require.False(t, b.has("a.mp3"))
			switch {
			case tc.action == DeleteLocal:
				require.True(t, strings.HasPrefix(r.trashedTo, layout.TrashDir+"/"), r.trashedTo)
				require.Equal(t, synced, readLocal(t, s, r.trashedTo), "recoverable from the share's trash")
			case b.versioned:
				require.True(t, strings.HasPrefix(r.trashedTo, "version"), r.trashedTo)
				require.Zero(t, b.copies, "a versioned bucket keeps the version itself")
			default:
				require.True(t, strings.HasPrefix(r.trashedTo, layout.TrashDir+"/"), r.trashedTo)
				require.Equal(t, synced, b.body(t, r.trashedTo), "recoverable from the bucket's trash")
			}

			runResult(s, r)
			st := s.Status()
			require.Equal(t, int64(1), st.Deletes)
			require.Equal(t, "a.mp3", st.LastDelete.Path)
		})
	}
}

func deleteObject(t *testing.T, _ *Share, b *memBucket) {
	require.NoError(t, b.Delete(context.Background(), "a.mp3"))
}

func deleteFile(t *testing.T, s *Share, _ *memBucket) {
	require.NoError(t, os.Remove(filepath.Join(s.opts.Root, "a.mp3")))
}

// openFiles is an OpenFiles that holds the paths listed open for
// reading.
type openFiles []string

func (o openFiles) Writing(context.Context, string) bool { return false }
func (o openFiles) Open(_ context.Context, rel string) bool {
	for _, p := range o {
		if p == rel {
			return true
		}
	}
	return false
}
