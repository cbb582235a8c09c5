package transfer_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/layout"
	"genesissync/internal/objstore"
	"genesissync/internal/scan"
	"genesissync/internal/transfer"
	"genesissync/tests/audio"
)

// serviceUser is the owner downloads get in these tests: nobody when the
// tests run as root (they can chown), else -1 (leave as is).
func serviceUser() int {
	if os.Geteuid() == 0 {
		return 65534
	}
	return -1
}

// putObject uploads data under key through the real store, with our
// metadata (sha256, mtime), and returns the stored object's description.
func putObject(t *testing.T, store *objstore.S3, key string, data []byte, mtime time.Time) objstore.Object {
	t.Helper()
	sum := sha256.Sum256(data)
	_, err := store.Put(context.Background(), objstore.PutInput{
		Key: key, Body: bytes.NewReader(data), Size: int64(len(data)),
		SHA256: hex.EncodeToString(sum[:]), Mtime: mtime,
	})
	require.NoError(t, err)
	o, err := store.Head(context.Background(), key)
	require.NoError(t, err)
	return o
}

// randomData returns size reproducible pseudo-random bytes.
func randomData(seed uint64, size int) []byte {
	b := make([]byte, size)
	var s uint64 = seed*0x9e3779b97f4a7c15 + 1
	for i := range b {
		s ^= s << 13
		s ^= s >> 7
		s ^= s << 17
		b[i] = byte(s)
	}
	return b
}

// hookGetter wraps a real store's Get and runs hook once `after` bytes of
// the body have been read: the share changes under a running download.
type hookGetter struct {
	store *objstore.S3
	after int64
	hook  func()
}

func (h *hookGetter) Get(ctx context.Context, key string) (io.ReadCloser, objstore.Object, error) {
	rc, o, err := h.store.Get(ctx, key)
	if err != nil {
		return nil, o, err
	}
	return struct {
		io.Reader
		io.Closer
	}{&hookReader{r: rc, left: h.after, hook: h.hook}, rc}, o, nil
}

// countingGetter counts Get calls on a real store.
type countingGetter struct {
	store *objstore.S3
	calls atomic.Int32
}

func (c *countingGetter) Get(ctx context.Context, key string) (io.ReadCloser, objstore.Object, error) {
	c.calls.Add(1)
	return c.store.Get(ctx, key)
}

// requireNoTemp fails if any layout.TempPrefix name is left under dir.
func requireNoTemp(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		require.False(t, strings.HasPrefix(d.Name(), layout.TempPrefix), "temp file left behind: %s", p)
		return nil
	})
	require.NoError(t, err)
}

// requireOwner checks uid and gid of p when the tests can chown.
func requireOwner(t *testing.T, p string, id int) {
	t.Helper()
	fi, err := os.Lstat(p)
	require.NoError(t, err)
	if id == -1 {
		return
	}
	st := fi.Sys().(*syscall.Stat_t)
	require.EqualValues(t, id, st.Uid, "uid of %s", p)
	require.EqualValues(t, id, st.Gid, "gid of %s", p)
}

func requireMode(t *testing.T, p string, want os.FileMode) {
	t.Helper()
	fi, err := os.Lstat(p)
	require.NoError(t, err)
	require.Equal(t, want, fi.Mode().Perm(), "mode of %s", p)
}

func TestDownload(t *testing.T) {
	store := newStore(t)
	ctx := context.Background()
	owner := serviceUser()
	mtime := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)

	t.Run("records whether the content is valid in its format", func(t *testing.T) {
		// The tripwire judges a later rewrite by it (index.Entry.NotFormat).
		root := t.TempDir()
		for _, tc := range []struct {
			rel       string
			data      []byte
			notFormat bool
		}{
			{"real.mp3", audio.MP3("Station ID", 40, 1), false},
			{"real.wav", audio.WAV(4800, 2), false},
			{"noise.mp3", randomData(3, 64<<10), true},
			{"noise.wav", randomData(4, 64<<10), true},
			{"notes.bin", randomData(5, 1000), false}, // no rule: no opinion
		} {
			putObject(t, store, "format/"+tc.rel, tc.data, mtime)
			e, err := transfer.NewDownloader(root, store, owner, owner).DownloadAs(ctx, "format/"+tc.rel, tc.rel, nil)
			require.NoError(t, err)
			require.Equal(t, tc.notFormat, e.NotFormat, tc.rel)
		}
	})

	t.Run("round trip", func(t *testing.T) {
		for _, tc := range []struct {
			name      string
			size      int
			multipart bool
		}{
			{"small", 100 << 10, false},
			{"12 MiB multipart", 12 << 20, true},
			{"empty", 0, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				root := t.TempDir()
				rel := "Jingles/" + strings.ReplaceAll(tc.name, " ", "-") + ".wav"
				require.NoError(t, os.Mkdir(filepath.Join(root, "Jingles"), 0o755))
				data := randomData(uint64(tc.size), tc.size)
				o := putObject(t, store, rel, data, mtime)
				require.Equal(t, tc.multipart, strings.Contains(o.ETag, "-"), "etag %s", o.ETag)

				before := time.Now()
				e, err := transfer.NewDownloader(root, store, owner, owner).Download(ctx, rel, nil)
				require.NoError(t, err)

				p := filepath.Join(root, rel)
				got, err := os.ReadFile(p)
				require.NoError(t, err)
				require.True(t, bytes.Equal(data, got), "content differs")
				st, err := scan.Stat(root, rel)
				require.NoError(t, err)
				require.True(t, st.Mtime.Equal(mtime), "mtime %s, want %s", st.Mtime, mtime)
				requireMode(t, p, 0o664)
				requireOwner(t, p, owner)

				sum := sha256.Sum256(data)
				require.Equal(t, hex.EncodeToString(sum[:]), e.SHA256)
				require.EqualValues(t, len(data), e.Size)
				require.True(t, e.Mtime.Equal(st.Mtime))
				require.Equal(t, st.Inode, e.Inode)
				require.Equal(t, o.ETag, e.ETag)
				require.Equal(t, o.VersionID, e.VersionID)
				require.False(t, e.HashedAt.Before(before))
				require.False(t, e.SyncedAt.Before(e.HashedAt))
				requireNoTemp(t, root)
			})
		}
	})

	t.Run("creates nested directories, leaves existing ones alone", func(t *testing.T) {
		root := t.TempDir()
		require.NoError(t, os.Mkdir(filepath.Join(root, "Music"), 0o750))
		rel := "Music/2024/May/song.mp3"
		data := randomData(7, 4096)
		putObject(t, store, rel, data, mtime)
		_, err := transfer.NewDownloader(root, store, owner, owner).Download(ctx, rel, nil)
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(root, rel))
		require.NoError(t, err)
		require.Equal(t, data, got)
		requireMode(t, filepath.Join(root, "Music"), 0o750)
		requireOwner(t, filepath.Join(root, "Music"), 0)
		for _, d := range []string{"Music/2024", "Music/2024/May"} {
			requireMode(t, filepath.Join(root, d), 0o775)
			requireOwner(t, filepath.Join(root, d), owner)
		}
	})

	t.Run("replacing keeps readers of the old inode intact", func(t *testing.T) {
		root := t.TempDir()
		rel := "Adverts/spot.mp3"
		old := writeFile(t, filepath.Join(root, rel), 3, 2<<20)
		expect, err := scan.Stat(root, rel)
		require.NoError(t, err)
		reader, err := os.Open(filepath.Join(root, rel))
		require.NoError(t, err)
		defer reader.Close()
		head := make([]byte, 1000)
		_, err = io.ReadFull(reader, head) // a player that started reading
		require.NoError(t, err)

		data := randomData(4, 3<<20)
		putObject(t, store, rel, data, mtime)
		e, err := transfer.NewDownloader(root, store, owner, owner).Download(ctx, rel, &expect)
		require.NoError(t, err)
		require.NotEqual(t, expect.Inode, e.Inode)

		rest, err := io.ReadAll(reader)
		require.NoError(t, err)
		require.True(t, bytes.Equal(old, append(head, rest...)), "the open reader must see the old content to its end")
		got, err := os.ReadFile(filepath.Join(root, rel))
		require.NoError(t, err)
		require.True(t, bytes.Equal(data, got))
		requireNoTemp(t, root)
	})

	t.Run("local change between plan and publish", func(t *testing.T) {
		const size = 1 << 20
		for i, tc := range []struct {
			name string
			// setup runs before the download and returns the
			// expectation; change runs halfway through the body.
			setup  func(t *testing.T, p string) *scan.File
			change func(t *testing.T, p string)
			// check runs after the refused download.
			check func(t *testing.T, p string)
		}{
			{
				name:  "a file appeared",
				setup: func(t *testing.T, p string) *scan.File { return nil },
				change: func(t *testing.T, p string) {
					require.NoError(t, os.WriteFile(p, []byte("saved by the studio"), 0o644))
				},
				check: func(t *testing.T, p string) {
					got, err := os.ReadFile(p)
					require.NoError(t, err)
					require.Equal(t, "saved by the studio", string(got))
				},
			},
			{
				name: "the file was rewritten in place",
				setup: func(t *testing.T, p string) *scan.File {
					writeFile(t, p, 5, 1000)
					f, err := scan.Stat(filepath.Dir(p), filepath.Base(p))
					require.NoError(t, err)
					return &f
				},
				change: func(t *testing.T, p string) {
					require.NoError(t, os.WriteFile(p, []byte("edited"), 0o644))
				},
				check: func(t *testing.T, p string) {
					got, err := os.ReadFile(p)
					require.NoError(t, err)
					require.Equal(t, "edited", string(got))
				},
			},
			{
				name: "the file was deleted",
				setup: func(t *testing.T, p string) *scan.File {
					writeFile(t, p, 6, 1000)
					f, err := scan.Stat(filepath.Dir(p), filepath.Base(p))
					require.NoError(t, err)
					return &f
				},
				change: func(t *testing.T, p string) { require.NoError(t, os.Remove(p)) },
				check: func(t *testing.T, p string) {
					_, err := os.Lstat(p)
					require.ErrorIs(t, err, fs.ErrNotExist)
				},
			},
			{
				name: "a directory appeared",
				setup: func(t *testing.T, p string) *scan.File {
					return nil
				},
				change: func(t *testing.T, p string) { require.NoError(t, os.Mkdir(p, 0o755)) },
				check: func(t *testing.T, p string) {
					fi, err := os.Lstat(p)
					require.NoError(t, err)
					require.True(t, fi.IsDir())
				},
			},
			{
				name: "stale plan: a file was already there",
				setup: func(t *testing.T, p string) *scan.File {
					require.NoError(t, os.WriteFile(p, []byte("already here"), 0o644))
					return nil
				},
				change: func(t *testing.T, p string) {},
				check: func(t *testing.T, p string) {
					got, err := os.ReadFile(p)
					require.NoError(t, err)
					require.Equal(t, "already here", string(got))
				},
			},
			{
				name:  "the parent directory was renamed",
				setup: func(t *testing.T, p string) *scan.File { return nil },
				change: func(t *testing.T, p string) {
					dir := filepath.Dir(p)
					require.NoError(t, os.Rename(dir, dir+"-old"))
				},
				check: func(t *testing.T, p string) {
					_, err := os.Lstat(p)
					require.ErrorIs(t, err, fs.ErrNotExist)
					entries, err := os.ReadDir(filepath.Dir(p) + "-old")
					require.NoError(t, err)
					require.Empty(t, entries, "nothing may be published in the moved directory")
				},
			},
		} {
			t.Run(tc.name, func(t *testing.T) {
				root := t.TempDir()
				rel := fmt.Sprintf("Studio/take%d.wav", i)
				p := filepath.Join(root, rel)
				require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
				putObject(t, store, rel, randomData(uint64(20+i), size), mtime)
				expect := tc.setup(t, p)
				g := &hookGetter{store: store, after: size / 2, hook: func() { tc.change(t, p) }}
				_, err := transfer.NewDownloader(root, g, owner, owner).Download(ctx, rel, expect)
				require.ErrorIs(t, err, transfer.ErrLocalChanged)
				tc.check(t, p)
				requireNoTemp(t, root)
			})
		}
	})

	t.Run("context cancelled mid-body", func(t *testing.T) {
		root := t.TempDir()
		rel := "Long/show.wav"
		putObject(t, store, rel, randomData(30, 12<<20), mtime)
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		g := &hookGetter{store: store, after: 1 << 20, hook: cancel}
		_, err := transfer.NewDownloader(root, g, owner, owner).Download(cctx, rel, nil)
		require.ErrorIs(t, err, context.Canceled)
		_, err = os.Lstat(filepath.Join(root, rel))
		require.ErrorIs(t, err, fs.ErrNotExist)
		requireNoTemp(t, root)
	})

	t.Run("download as another name", func(t *testing.T) {
		root := t.TempDir()
		key := "Studio/take.wav"
		rel := "Studio/take (conflict 2024-05-06).wav"
		data := randomData(60, 5000)
		o := putObject(t, store, key, data, mtime)
		e, err := transfer.NewDownloader(root, store, owner, owner).DownloadAs(ctx, key, rel, nil)
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(root, rel))
		require.NoError(t, err)
		require.Equal(t, data, got)
		require.Equal(t, o.ETag, e.ETag)
		_, err = os.Lstat(filepath.Join(root, key))
		require.ErrorIs(t, err, fs.ErrNotExist, "only rel is written")

		_, err = transfer.NewDownloader(root, store, owner, owner).DownloadAs(ctx, key, "../escape.wav", nil)
		require.ErrorIs(t, err, transfer.ErrUnsafePath, "rel is checked, not just the key")
	})

	t.Run("object not found", func(t *testing.T) {
		root := t.TempDir()
		_, err := transfer.NewDownloader(root, store, owner, owner).Download(ctx, "gone/nope.mp3", nil)
		require.ErrorIs(t, err, objstore.ErrNotFound)
		entries, err := os.ReadDir(root)
		require.NoError(t, err)
		require.Empty(t, entries, "nothing may be created for a missing object")
	})

	t.Run("hostile paths are refused", func(t *testing.T) {
		root := t.TempDir()
		outside := t.TempDir()
		require.NoError(t, os.Mkdir(filepath.Join(root, "real"), 0o755))
		require.NoError(t, os.Symlink(outside, filepath.Join(root, "out")))
		require.NoError(t, os.Symlink("../"+filepath.Base(outside), filepath.Join(root, "relout")))
		require.NoError(t, os.Symlink("real", filepath.Join(root, "in")))
		require.NoError(t, os.Mkdir(filepath.Join(root, "deep"), 0o755))
		require.NoError(t, os.Symlink(outside, filepath.Join(root, "deep", "out")))

		// Refused lexically, before any request.
		for _, rel := range []string{
			"../x", "/etc/x", "a/../../x", "a/..", "..", "", ".", "./x", "a//b", "a/./b", "a/",
			"x\x00y", layout.TempPrefix + "1-x.mp3", "d/.GenesisSync-marker",
		} {
			t.Run(fmt.Sprintf("%q", rel), func(t *testing.T) {
				g := &countingGetter{store: store}
				_, err := transfer.NewDownloader(root, g, owner, owner).Download(ctx, rel, nil)
				require.ErrorIs(t, err, transfer.ErrUnsafePath)
				require.Zero(t, g.calls.Load(), "no request for a refused path")
			})
		}

		// Refused at the symlinked directory component.
		for _, rel := range []string{"out/x.mp3", "out/new/x.mp3", "relout/x.mp3", "in/x.mp3", "deep/out/x.mp3"} {
			t.Run(rel, func(t *testing.T) {
				putObject(t, store, rel, []byte("payload"), mtime)
				_, err := transfer.NewDownloader(root, store, owner, owner).Download(ctx, rel, nil)
				require.ErrorIs(t, err, transfer.ErrUnsafePath)
			})
		}
		entries, err := os.ReadDir(outside)
		require.NoError(t, err)
		require.Empty(t, entries, "nothing may be written outside the share")
		entries, err = os.ReadDir(filepath.Join(root, "real"))
		require.NoError(t, err)
		require.Empty(t, entries, "nothing may be written through an in-share symlink")
		requireNoTemp(t, root)
	})
}

func TestTempFileDuringDownload(t *testing.T) {
	root := t.TempDir()
	rel := "Adverts/spot.mp3"
	data := randomData(50, 256<<10)
	sum := sha256.Sum256(data)

	var seen []fs.DirEntry
	var seenMode fs.FileMode
	g := &fakeGetter{
		obj: objstore.Object{Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])},
		body: func() io.Reader {
			return &hookReader{r: bytes.NewReader(data), left: int64(len(data) / 2), hook: func() {
				var err error
				seen, err = os.ReadDir(filepath.Join(root, "Adverts"))
				require.NoError(t, err)
				if len(seen) == 1 {
					fi, err := seen[0].Info()
					require.NoError(t, err)
					seenMode = fi.Mode()
				}
			}}
		},
	}
	_, err := transfer.NewDownloader(root, g, -1, -1).Download(context.Background(), rel, nil)
	require.NoError(t, err)

	require.Len(t, seen, 1, "mid-download the directory holds exactly the temp file")
	name := seen[0].Name()
	require.True(t, strings.HasPrefix(name, layout.TempPrefix), name)
	require.True(t, strings.HasSuffix(name, "-spot.mp3"), name)
	require.True(t, seenMode.IsRegular())
	require.Equal(t, fs.FileMode(0o664), seenMode.Perm())
	_, err = os.Lstat(filepath.Join(root, "Adverts", name))
	require.ErrorIs(t, err, fs.ErrNotExist, "the temp name is gone after the rename")
}

// fakeGetter returns a crafted object and body. It is used only for the
// pure verification logic of Download (ETag and metadata combinations
// that objstore.S3.Put cannot produce, since it always sets our
// metadata, and bodies that lie); everything else runs against MinIO.
type fakeGetter struct {
	obj   objstore.Object
	body  func() io.Reader
	calls atomic.Int32
}

func (g *fakeGetter) Get(_ context.Context, key string) (io.ReadCloser, objstore.Object, error) {
	g.calls.Add(1)
	o := g.obj
	o.Key = key
	return io.NopCloser(g.body()), o, nil
}

func bodyOf(b []byte) func() io.Reader { return func() io.Reader { return bytes.NewReader(b) } }

func TestDownloadVerify(t *testing.T) {
	ctx := context.Background()
	data := randomData(40, 64<<10)
	sha := sha256.Sum256(data)
	sum := hex.EncodeToString(sha[:])
	md := md5.Sum(data)
	etag := hex.EncodeToString(md[:])
	other := bytes.Clone(data)
	other[100] ^= 1
	otherMD := md5.Sum(other)
	otherETag := hex.EncodeToString(otherMD[:])
	lastMod := time.Date(2023, 1, 2, 3, 4, 5, 0, time.UTC)
	mtime := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	size := int64(len(data))
	crcOf := func(b []byte) string {
		h := objstore.NewCRC32C()
		h.Write(b)
		return hex.EncodeToString(h.Sum(nil))
	}
	crc := crcOf(data)

	for _, tc := range []struct {
		name      string
		obj       objstore.Object
		body      []byte
		corrupt   bool
		wantMtime time.Time
	}{
		{"sha256 metadata matches", objstore.Object{Size: size, SHA256: sum, ETag: "whatever-2", Mtime: mtime, LastModified: lastMod}, data, false, mtime},
		{"sha256 metadata differs", objstore.Object{Size: size, SHA256: sum, ETag: etag, Mtime: mtime}, other, true, time.Time{}},
		{"sha256 metadata wins over a matching md5 etag", objstore.Object{Size: size, SHA256: sum, ETag: otherETag}, other, true, time.Time{}},
		{"crc32c and sha256 metadata match", objstore.Object{Size: size, SHA256: sum, CRC32C: crc, ETag: "whatever-2", Mtime: mtime}, data, false, mtime},
		{"crc32c metadata differs (one flipped bit)", objstore.Object{Size: size, SHA256: sum, CRC32C: crc, ETag: etag}, other, true, time.Time{}},
		{"crc32c wins over a matching md5 etag", objstore.Object{Size: size, SHA256: sum, CRC32C: crcOf(data), ETag: otherETag}, other, true, time.Time{}},
		{"crc32c: body shorter than the object", objstore.Object{Size: size, SHA256: sum, CRC32C: crc}, data[:len(data)-1], true, time.Time{}},
		{"crc32c: body longer than the object", objstore.Object{Size: size, SHA256: sum, CRC32C: crc}, append(bytes.Clone(data), 'x'), true, time.Time{}},
		{"body shorter than the object", objstore.Object{Size: size, SHA256: sum}, data[:len(data)-1], true, time.Time{}},
		{"body longer than the object", objstore.Object{Size: size, SHA256: sum}, append(bytes.Clone(data), 'x'), true, time.Time{}},
		{"foreign single-part: md5 etag matches", objstore.Object{Size: size, ETag: etag, LastModified: lastMod}, data, false, lastMod},
		{"foreign single-part: upper-case etag matches", objstore.Object{Size: size, ETag: strings.ToUpper(etag), LastModified: lastMod}, data, false, lastMod},
		{"foreign single-part: md5 etag differs", objstore.Object{Size: size, ETag: etag, LastModified: lastMod}, other, true, time.Time{}},
		{"foreign multipart: computed sha256 accepted", objstore.Object{Size: size, ETag: etag[:32] + "-3", LastModified: lastMod}, data, false, lastMod},
		// SSE-KMS and SSE-C ETags are not MD5s: not a corruption.
		{"foreign single-part, SSE-KMS: etag not an md5", objstore.Object{Size: size, ETag: otherETag, Encryption: "aws:kms", LastModified: lastMod}, data, false, lastMod},
		{"foreign single-part, SSE-C: etag not an md5", objstore.Object{Size: size, ETag: otherETag, Encryption: "SSE-C", LastModified: lastMod}, data, false, lastMod},
		{"foreign single-part, SSE-S3: etag is the md5", objstore.Object{Size: size, ETag: etag, Encryption: "AES256", LastModified: lastMod}, other, true, time.Time{}},
		{"foreign multipart: body shorter than the object", objstore.Object{Size: size, ETag: etag[:32] + "-3"}, data[:len(data)-1], true, time.Time{}},
		{"foreign multipart: body longer than the object", objstore.Object{Size: size, ETag: etag[:32] + "-3"}, append(bytes.Clone(data), 'x'), true, time.Time{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			rel := "v/file.mp3"
			g := &fakeGetter{obj: tc.obj, body: bodyOf(tc.body)}
			e, err := transfer.NewDownloader(root, g, -1, -1).Download(ctx, rel, nil)
			requireNoTemp(t, root)
			if tc.corrupt {
				require.ErrorIs(t, err, transfer.ErrCorrupt)
				_, err := os.Lstat(filepath.Join(root, rel))
				require.ErrorIs(t, err, fs.ErrNotExist, "nothing may be published")
				return
			}
			require.NoError(t, err)
			require.Equal(t, sum, e.SHA256)
			require.Equal(t, tc.obj.ETag, e.ETag)
			require.True(t, e.Mtime.Equal(tc.wantMtime), "mtime %s, want %s", e.Mtime, tc.wantMtime)
			got, err := os.ReadFile(filepath.Join(root, rel))
			require.NoError(t, err)
			require.Equal(t, data, got)
		})
	}

	t.Run("hash an object without writing it", func(t *testing.T) {
		root := t.TempDir()
		obj := objstore.Object{Size: size, ETag: etag[:32] + "-3"}
		d := transfer.NewDownloader(root, &fakeGetter{obj: obj, body: bodyOf(data)}, -1, -1)
		got, err := d.HashObject(ctx, "v/file.mp3", obj)
		require.NoError(t, err)
		require.Equal(t, sum, got)
		requireNoTemp(t, root)
		entries, err := os.ReadDir(root)
		require.NoError(t, err)
		require.Empty(t, entries, "nothing written")

		// Replaced since the plan: no hash of the wrong object.
		_, err = d.HashObject(ctx, "v/file.mp3", objstore.Object{Size: size, ETag: etag})
		require.ErrorIs(t, err, transfer.ErrRemoteChanged)
		// A short body is not a hash of the object.
		d = transfer.NewDownloader(root, &fakeGetter{obj: obj, body: bodyOf(data[:10])}, -1, -1)
		_, err = d.HashObject(ctx, "v/file.mp3", obj)
		require.ErrorIs(t, err, transfer.ErrCorrupt)
	})

	t.Run("panic while reading the body", func(t *testing.T) {
		root := t.TempDir()
		g := &fakeGetter{obj: objstore.Object{Size: size, SHA256: sum}, body: func() io.Reader {
			return io.MultiReader(bytes.NewReader(data[:1000]), panicReader{})
		}}
		require.Panics(t, func() {
			_, _ = transfer.NewDownloader(root, g, -1, -1).Download(ctx, "p/x.mp3", nil)
		})
		requireNoTemp(t, root)
		_, err := os.Lstat(filepath.Join(root, "p/x.mp3"))
		require.ErrorIs(t, err, fs.ErrNotExist)
	})

	t.Run("cancelled context stops a body that ignores it", func(t *testing.T) {
		root := t.TempDir()
		big := randomData(41, 8<<20)
		bigSum := sha256.Sum256(big)
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		var body *hookReader
		g := &fakeGetter{obj: objstore.Object{Size: int64(len(big)), SHA256: hex.EncodeToString(bigSum[:])}, body: func() io.Reader {
			body = &hookReader{r: bytes.NewReader(big), left: 1 << 20, hook: cancel}
			return body
		}}
		_, err := transfer.NewDownloader(root, g, -1, -1).Download(cctx, "c/x.wav", nil)
		require.ErrorIs(t, err, context.Canceled)
		require.Greater(t, body.left, int64(-(1 << 20)), "the body was read on long after the cancel")
		requireNoTemp(t, root)
		_, err = os.Lstat(filepath.Join(root, "c/x.wav"))
		require.ErrorIs(t, err, fs.ErrNotExist)
	})

	t.Run("a base name of 255 bytes", func(t *testing.T) {
		root := t.TempDir()
		rel := "long/" + strings.Repeat("é", 125) + "x.mp3" // 250 + 5 bytes
		require.Len(t, filepath.Base(rel), 255)
		g := &fakeGetter{obj: objstore.Object{Size: size, SHA256: sum}, body: bodyOf(data)}
		_, err := transfer.NewDownloader(root, g, -1, -1).Download(ctx, rel, nil)
		require.NoError(t, err)
		requireNoTemp(t, root)
	})

	t.Run("concurrent downloads into the same new directories", func(t *testing.T) {
		root := t.TempDir()
		d := transfer.NewDownloader(root, &fakeGetter{obj: objstore.Object{Size: size, SHA256: sum}, body: bodyOf(data)}, serviceUser(), serviceUser())
		var wg sync.WaitGroup
		errs := make([]error, 16)
		for i := range errs {
			wg.Go(func() {
				_, errs[i] = d.Download(ctx, fmt.Sprintf("new/deeper/still/%02d.mp3", i), nil)
			})
		}
		wg.Wait()
		require.NoError(t, errors.Join(errs...))
		entries, err := os.ReadDir(filepath.Join(root, "new/deeper/still"))
		require.NoError(t, err)
		require.Len(t, entries, 16)
	})
}

type panicReader struct{}

func (panicReader) Read([]byte) (int, error) { panic("body reader exploded") }
