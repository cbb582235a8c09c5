package restore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/index"
	"genesissync/internal/objstore"
)

func put(t *testing.T, s *objstore.Memory, key, body string, mtime time.Time) {
	t.Helper()
	sum := sha256.Sum256([]byte(body))
	_, err := s.Put(context.Background(), objstore.PutInput{Key: key, Body: bytes.NewReader([]byte(body)),
		Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:]), Mtime: mtime})
	require.NoError(t, err)
}

func seeded(t *testing.T) *objstore.Memory {
	s := objstore.NewMemory()
	mt := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	put(t, s, "a.wav", "alpha", mt)
	put(t, s, "jingles/b.wav", "bravo", mt)
	put(t, s, "jingles/c.mp3", "charlie", mt)
	put(t, s, "news/d.wav", "delta", mt)
	put(t, s, ".genesissync-share", "marker", mt)
	put(t, s, ".genesissync-trash/x", "trash", mt)
	put(t, s, "bad/CON.wav", "refused", mt)
	return s
}

func files(t *testing.T, root string) map[string]string {
	t.Helper()
	got := map[string]string{}
	require.NoError(t, filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		require.NoError(t, err)
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(root, p)
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			got[filepath.ToSlash(rel)] = string(b)
		}
		return nil
	}))
	return got
}

func TestRestoreFullRerunAndVerify(t *testing.T) {
	ctx := context.Background()
	s := seeded(t)
	root := t.TempDir()
	res, err := Restore(ctx, Options{Root: root, Bucket: s, UID: -1, GID: -1})
	require.NoError(t, err)
	require.Equal(t, 4, res.Files)
	require.Equal(t, 4, res.Restored)
	require.Equal(t, 1, res.Counts[Refused])
	require.Equal(t, map[string]string{"a.wav": "alpha", "jingles/b.wav": "bravo", "jingles/c.mp3": "charlie", "news/d.wav": "delta"}, files(t, root))
	fi, err := os.Stat(filepath.Join(root, "a.wav"))
	require.NoError(t, err)
	require.True(t, fi.ModTime().Equal(time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)), "mtime from metadata, got %s", fi.ModTime())

	// A rerun finds everything present and verified.
	res, err = Restore(ctx, Options{Root: root, Bucket: s, UID: -1, GID: -1})
	require.NoError(t, err)
	require.Equal(t, 0, res.Restored)
	require.Equal(t, 4, res.Present)

	rep, err := Verify(ctx, VerifyOptions{Root: root, Bucket: s})
	require.NoError(t, err)
	require.True(t, rep.Clean(), "%+v", rep.Problems)
	require.Equal(t, 4, rep.Checked)
	rep, err = Verify(ctx, VerifyOptions{Root: root, Bucket: s, Deep: true})
	require.NoError(t, err)
	require.True(t, rep.Clean(), "%+v", rep.Problems)
	require.Equal(t, int64(2*len("alphabravocharliedelta")), rep.Bytes)
}

func TestRestoreSelectiveAndOverwrite(t *testing.T) {
	ctx := context.Background()
	s := seeded(t)
	for _, tc := range []struct {
		name, prefix, glob string
		want               []string
	}{
		{"prefix", "jingles/", "", []string{"jingles/b.wav", "jingles/c.mp3"}},
		{"base glob", "", "*.wav", []string{"a.wav", "jingles/b.wav", "news/d.wav"}},
		{"path glob", "", "news/*", []string{"news/d.wav"}},
		{"both", "jingles/", "*.mp3", []string{"jingles/c.mp3"}},
		{"path", "", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			o := Options{Root: root, Bucket: s, Prefix: tc.prefix, Glob: tc.glob, UID: -1, GID: -1}
			if tc.name == "path" {
				put(t, s, "jingles2/x.wav", "x", time.Time{})
				o.Path, tc.want = "jingles", []string{"jingles/b.wav", "jingles/c.mp3"}
			}
			res, err := Restore(ctx, o)
			require.NoError(t, err)
			require.Equal(t, len(tc.want), res.Restored)
			var got []string
			for k := range files(t, root) {
				got = append(got, k)
			}
			require.ElementsMatch(t, tc.want, got)
		})
	}

	root := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, "a.wav"), []byte("studio edit"), 0o644))
	res, err := Restore(ctx, Options{Root: root, Bucket: s, Glob: "a.wav", UID: -1, GID: -1})
	require.NoError(t, err)
	require.Equal(t, 1, res.Skipped)
	require.Equal(t, Skipped, res.Problems[0].Kind)
	require.Equal(t, "studio edit", files(t, root)["a.wav"])

	res, err = Restore(ctx, Options{Root: root, Bucket: s, Glob: "a.wav", Overwrite: true, OpenFiles: openSet{"a.wav": true}, UID: -1, GID: -1})
	require.NoError(t, err)
	require.Equal(t, 1, res.Skipped, "an open file is never replaced")
	require.Equal(t, "studio edit", files(t, root)["a.wav"])

	res, err = Restore(ctx, Options{Root: root, Bucket: s, Glob: "a.wav", Overwrite: true, DryRun: true, UID: -1, GID: -1})
	require.NoError(t, err)
	require.Equal(t, 1, res.Restored)
	require.Equal(t, "studio edit", files(t, root)["a.wav"], "dry run writes nothing")

	res, err = Restore(ctx, Options{Root: root, Bucket: s, Glob: "a.wav", Overwrite: true, UID: -1, GID: -1})
	require.NoError(t, err)
	require.Equal(t, 1, res.Restored)
	require.Equal(t, "alpha", files(t, root)["a.wav"])

	_, err = Restore(ctx, Options{Root: root, Bucket: s, Glob: "[", UID: -1, GID: -1})
	require.Error(t, err)
}

type openSet map[string]bool

func (o openSet) Open(_ context.Context, rel string) bool { return o[rel] }

func TestRestoreColdBootIndex(t *testing.T) {
	ctx := context.Background()
	s := seeded(t)
	root := t.TempDir()
	ix, err := index.Open(filepath.Join(t.TempDir(), "index.db"))
	require.NoError(t, err)
	defer ix.Close()
	sh := ix.Share("studio")
	res, err := Restore(ctx, Options{Root: root, Bucket: s, Index: sh, Share: "studio", UID: -1, GID: -1, CleanTemp: true})
	require.NoError(t, err)
	require.Equal(t, 4, res.Indexed)
	marker, err := os.ReadFile(filepath.Join(root, ".genesissync-share"))
	require.NoError(t, err)
	require.Contains(t, string(marker), `"studio"`)
	e, ok, err := sh.Get("jingles/b.wav")
	require.NoError(t, err)
	require.True(t, ok)
	obj, err := s.Head(ctx, "jingles/b.wav")
	require.NoError(t, err)
	require.Equal(t, obj.SHA256, e.SHA256)
	require.Equal(t, obj.ETag, e.ETag)
	fi, err := os.Stat(filepath.Join(root, "jingles/b.wav"))
	require.NoError(t, err)
	require.True(t, e.Mtime.Equal(fi.ModTime()))

	// With the index, the restored share verifies clean in both modes.
	for _, deep := range []bool{false, true} {
		rep, err := Verify(ctx, VerifyOptions{Root: root, Bucket: s, Index: sh, Deep: deep})
		require.NoError(t, err)
		require.True(t, rep.Clean(), "%+v", rep.Problems)
		require.Equal(t, 4, rep.Checked)
		require.Zero(t, rep.Pending)
	}

	// A non-empty index is not touched again.
	require.NoError(t, os.Remove(filepath.Join(root, "a.wav")))
	require.NoError(t, sh.Delete("a.wav"))
	res, err = Restore(ctx, Options{Root: root, Bucket: s, Index: sh, UID: -1, GID: -1})
	require.NoError(t, err)
	require.Equal(t, 1, res.Restored)
	require.Zero(t, res.Indexed)
}

func TestVerifyFindsProblems(t *testing.T) {
	ctx := context.Background()
	s := seeded(t)
	root := t.TempDir()
	ix, err := index.Open(filepath.Join(t.TempDir(), "index.db"))
	require.NoError(t, err)
	defer ix.Close()
	sh := ix.Share("studio")
	_, err = Restore(ctx, Options{Root: root, Bucket: s, Index: sh, UID: -1, GID: -1})
	require.NoError(t, err)

	// Bit rot: same size and mtime, other bytes.
	p := filepath.Join(root, "jingles/b.wav")
	fi, err := os.Stat(p)
	require.NoError(t, err)
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteAt([]byte("X"), 0)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.NoError(t, os.Chtimes(p, fi.ModTime(), fi.ModTime()))
	// Missing object, missing local file.
	require.NoError(t, s.Delete(ctx, "news/d.wav"))
	require.NoError(t, os.Remove(filepath.Join(root, "a.wav")))
	// Not synced yet: pending, not a problem.
	require.NoError(t, os.WriteFile(filepath.Join(root, "new.wav"), []byte("new"), 0o644))
	put(t, s, "remote-new.wav", "rn", time.Now())
	// Changed since the sync: pending.
	require.NoError(t, os.WriteFile(filepath.Join(root, "jingles/c.mp3"), []byte("charlie edited"), 0o644))

	rep, err := Verify(ctx, VerifyOptions{Root: root, Bucket: s, Index: sh})
	require.NoError(t, err)
	require.Equal(t, map[Kind]int{MissingRemote: 1, MissingLocal: 1, Refused: 1}, rep.Counts)
	require.Equal(t, 2, rep.Mismatches)
	require.Equal(t, 3, rep.Pending)

	rep, err = Verify(ctx, VerifyOptions{Root: root, Bucket: s, Index: sh, Deep: true})
	require.NoError(t, err)
	require.Equal(t, map[Kind]int{MissingRemote: 1, MissingLocal: 1, LocalCorrupt: 1, Refused: 1}, rep.Counts)
	require.Equal(t, 3, rep.Mismatches)
	var paths []string
	for _, p := range rep.Problems {
		paths = append(paths, string(p.Kind)+" "+p.Path)
	}
	require.Equal(t, []string{"missing-local a.wav", "refused bad/CON.wav", "local-corrupt jingles/b.wav", "missing-remote news/d.wav"}, paths)

	// Strict (no index): every difference is a mismatch.
	rep, err = Verify(ctx, VerifyOptions{Root: root, Bucket: s})
	require.NoError(t, err)
	require.Equal(t, 2, rep.Counts[MissingRemote], "news/d.wav and new.wav")
	require.Equal(t, 2, rep.Counts[MissingLocal], "a.wav and remote-new.wav")
	require.Equal(t, 2, rep.Counts[HashMismatch]+rep.Counts[SizeMismatch], "b.wav (hash), c.mp3 (size)")
}

func TestVerifySample(t *testing.T) {
	ctx := context.Background()
	s := objstore.NewMemory()
	root := t.TempDir()
	for i := range 200 {
		body := string(rune('a'+i%26)) + "x"
		key := "f" + string(rune('A'+i/26)) + string(rune('a'+i%26))
		put(t, s, key, body, time.Time{})
		require.NoError(t, os.WriteFile(filepath.Join(root, key), []byte(body), 0o644))
	}
	rep, err := Verify(ctx, VerifyOptions{Root: root, Bucket: s, SamplePercent: 10})
	require.NoError(t, err)
	require.True(t, rep.Clean())
	require.Greater(t, rep.Checked, 5)
	require.Less(t, rep.Checked, 50)
}

func TestMatchGlob(t *testing.T) {
	for _, tc := range []struct {
		glob, rel string
		want      bool
	}{
		{"", "a/b.wav", true},
		{"*.wav", "a/b.wav", true},
		{"*.wav", "a/b.mp3", false},
		{"a/*.wav", "a/b.wav", true},
		{"/a/*.wav", "a/b.wav", true},
		{"a/*.wav", "x/a/b.wav", false},
	} {
		require.Equal(t, tc.want, matchGlob(tc.glob, tc.rel), "%q %q", tc.glob, tc.rel)
	}
}

// fakeVersions is a version history for the pure selection logic.
type fakeVersions struct {
	on bool
	vs []objstore.Version
}

func (f fakeVersions) Versioning(context.Context) (bool, error) { return f.on, nil }
func (f fakeVersions) ListVersions(_ context.Context, _ string, fn func(objstore.Version) error) error {
	for _, v := range f.vs {
		if err := fn(v); err != nil {
			return err
		}
	}
	return nil
}
func (f fakeVersions) GetVersion(context.Context, string, string) (io.ReadCloser, objstore.Object, error) {
	panic("not used")
}
func (f fakeVersions) HeadVersion(context.Context, string, string) (objstore.Object, error) {
	panic("not used")
}
func (f fakeVersions) Bucket() string { return "station" }

func TestSelectAt(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	v := func(key, id string, min int, del bool) objstore.Version {
		return objstore.Version{Object: objstore.Object{Key: key, VersionID: id, Size: 1, LastModified: t0.Add(time.Duration(min) * time.Minute)}, DeleteMarker: del}
	}
	latest := func(v objstore.Version) objstore.Version { v.IsLatest = true; return v }
	fv := fakeVersions{on: true, vs: []objstore.Version{
		latest(v("a", "a3", 30, false)), v("a", "a2", 20, false), v("a", "a1", 5, false), // overwritten after
		latest(v("b", "b2", 15, true)), v("b", "b1", 5, false), // deleted after
		latest(v("c", "c2", 15, false)), v("c", "c1", 8, true), v("c", "c0", 1, false), // deleted before, re-created after
		latest(v("d", "d1", 12, false)), // created after
	}}
	at := t0.Add(10 * time.Minute)
	cands, warnings, err := selectObjects(context.Background(), Options{At: at, Versions: fv}, newProblems(0))
	require.NoError(t, err)
	require.Empty(t, warnings)
	require.Equal(t, []candidate{{key: "a", rel: "a", size: 1, versionID: "a1"}, {key: "b", rel: "b", size: 1, versionID: "b1"}}, cands)

	// Before anything existed: nothing to restore, and said so.
	cands, warnings, err = selectObjects(context.Background(), Options{At: t0, Versions: fv}, newProblems(0))
	require.NoError(t, err)
	require.Empty(t, cands)
	require.Len(t, warnings, 1)
	require.Contains(t, warnings[0], "nothing to restore at 2025-01-01T00:00:00Z: the bucket holds versions of 4 key(s)")
	require.Contains(t, warnings[0], "the oldest version is from 2025-01-01T00:01:00Z")

	_, _, err = selectObjects(context.Background(), Options{At: at, Versions: fakeVersions{}}, newProblems(0))
	require.ErrorIs(t, err, ErrNoVersioning)
	require.ErrorContains(t, err, "mc version enable ALIAS/station")

	// A server whose version list contradicts itself is not trusted.
	inconsistent := []struct {
		name string
		vs   []objstore.Version
		want string
	}{
		{"latest is not the newest by date", []objstore.Version{v("a", "a2", 30, false), latest(v("a", "a1", 5, false))},
			"version a1 of \"a\" is marked latest but dated 2025-01-01T00:05:00Z, older than another version dated 2025-01-01T00:30:00Z"},
		{"latest first, a newer one after it (versitygw)", []objstore.Version{latest(v("a", "a1", 5, true)), v("a", "a2", 30, false)},
			"version a1 of \"a\" is marked latest but dated 2025-01-01T00:05:00Z, older than another version dated 2025-01-01T00:30:00Z"},
		{"none marked latest", []objstore.Version{v("a", "a2", 30, false), v("a", "a1", 5, false), latest(v("b", "b1", 1, false))},
			"no version of \"a\" is marked latest"},
		{"none marked latest, last key", []objstore.Version{latest(v("a", "a1", 5, false)), v("b", "b1", 1, false)},
			"no version of \"b\" is marked latest"},
		{"two marked latest", []objstore.Version{latest(v("a", "a2", 30, false)), latest(v("a", "a1", 5, false))},
			"two versions of \"a\" are marked latest"},
		{"dated in the future", []objstore.Version{latest(v("a", "a1", int(time.Since(t0).Minutes())+60, false))},
			"in the future"},
	}
	for _, tc := range inconsistent {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := selectObjects(context.Background(), Options{At: at, Versions: fakeVersions{on: true, vs: tc.vs}}, newProblems(0))
			require.ErrorIs(t, err, ErrInconsistentVersions)
			require.ErrorContains(t, err, tc.want)
			require.ErrorContains(t, err, "restore without --at, or from a ZFS snapshot")
		})
	}
	// Equal dates are fine whichever of them is marked latest (servers
	// with one-second dates).
	_, _, err = selectObjects(context.Background(), Options{At: at, Versions: fakeVersions{on: true, vs: []objstore.Version{
		v("a", "a2", 5, false), latest(v("a", "a1", 5, false))}}}, newProblems(0))
	require.NoError(t, err)
}

func TestSpreadDirs(t *testing.T) {
	c := func(rel string) candidate { return candidate{key: rel, rel: rel} }
	got := spreadDirs([]candidate{c("a/1"), c("a/2"), c("a/3"), c("b/1"), c("c/1"), c("c/2"), c("top")})
	var rels []string
	for _, x := range got {
		rels = append(rels, x.rel)
	}
	require.Equal(t, []string{"a/1", "b/1", "c/1", "top", "a/2", "c/2", "a/3"}, rels)
}

// uncheckedMemory is a Memory store with GetUnchecked, counting calls;
// the objects in foreign lose their sha256 metadata on the way out, as
// if another tool had written them.
type uncheckedMemory struct {
	*objstore.Memory
	foreign            map[string]bool
	unchecked, checked int
}

func (u *uncheckedMemory) get(ctx context.Context, key string) (io.ReadCloser, objstore.Object, error) {
	body, obj, err := u.Memory.Get(ctx, key)
	if u.foreign[key] {
		obj.SHA256 = ""
	}
	return body, obj, err
}

func (u *uncheckedMemory) GetUnchecked(ctx context.Context, key, _ string) (io.ReadCloser, objstore.Object, error) {
	u.unchecked++
	return u.get(ctx, key)
}

func (u *uncheckedMemory) Get(ctx context.Context, key string) (io.ReadCloser, objstore.Object, error) {
	u.checked++
	return u.get(ctx, key)
}

// TestRestoreUncheckedGet: objects with sha256 metadata are fetched
// without the store's own checksum validation (the downloader hashes
// them); an object without it is fetched again with it.
func TestRestoreUncheckedGet(t *testing.T) {
	ctx := context.Background()
	s := &uncheckedMemory{Memory: objstore.NewMemory(), foreign: map[string]bool{"foreign.wav": true}}
	mt := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	put(t, s.Memory, "a.wav", "alpha", mt)
	put(t, s.Memory, "news/b.wav", "bravo", mt)
	put(t, s.Memory, "foreign.wav", "foreign", mt)

	root := t.TempDir()
	res, err := Restore(ctx, Options{Root: root, Bucket: s, UID: -1, GID: -1})
	require.NoError(t, err)
	require.Equal(t, 3, res.Restored, res.Problems)
	require.Equal(t, 3, s.unchecked)
	require.Equal(t, 1, s.checked)
	require.Equal(t, map[string]string{"a.wav": "alpha", "news/b.wav": "bravo", "foreign.wav": "foreign"}, files(t, root))
}

// TestRestoreReservedKeys: the appliance's own objects (layout.IsInternal)
// are skipped silently, as the pipeline's listing skips them; any other key
// in the reserved namespace is refused and reported, as the pipeline
// refuses it, and never becomes a file.
func TestRestoreReservedKeys(t *testing.T) {
	ctx := context.Background()
	s := objstore.NewMemory()
	mt := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	put(t, s, "a.wav", "alpha", mt)
	for _, k := range []string{".genesissync-share", ".genesissync-trash/2024-05-01/b.wav", ".genesissync/probe/0123/race"} {
		put(t, s, k, "own", mt)
	}
	refused := []string{".GenesisSync-Trash/2024-05-01/b.wav", ".genesissync-tmp-0123-c.wav", "d/.genesissync-share"}
	for _, k := range refused {
		put(t, s, k, "reserved", mt)
	}
	root := t.TempDir()
	res, err := Restore(ctx, Options{Root: root, Bucket: s, UID: -1, GID: -1})
	require.NoError(t, err)
	require.Equal(t, 1, res.Restored)
	require.Equal(t, len(refused), res.Counts[Refused])
	require.Equal(t, map[string]string{"a.wav": "alpha"}, files(t, root))

	rep, err := Verify(ctx, VerifyOptions{Root: root, Bucket: s})
	require.NoError(t, err)
	require.Equal(t, len(refused), rep.Counts[Refused], "%+v", rep.Problems)
	require.Equal(t, 1, rep.Checked)
}
