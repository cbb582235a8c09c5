package transfer_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/index"
	"genesissync/internal/objstore"
	"genesissync/internal/scan"
	"genesissync/internal/transfer"
	"genesissync/internal/tripwire"
	"genesissync/tests/harness"
)

// midway wraps a real store and runs hook once the store has read `after`
// bytes of the body: the file is then changed under a running upload.
type midway struct {
	objstore.Store
	after int64
	hook  func()
}

func (m *midway) Put(ctx context.Context, in objstore.PutInput) (objstore.Object, error) {
	in.Body = &hookReader{r: in.Body, left: m.after, hook: m.hook}
	return m.Store.Put(ctx, in)
}

type hookReader struct {
	r    io.Reader
	left int64
	hook func()
}

func (h *hookReader) Read(p []byte) (int, error) {
	if h.hook != nil && int64(len(p)) > h.left {
		p = p[:max(h.left, 1)]
	}
	n, err := h.r.Read(p)
	h.left -= int64(n)
	if h.hook != nil && h.left <= 0 {
		h.hook()
		h.hook = nil
	}
	return n, err
}

func writeFile(t *testing.T, p string, seed uint64, size int) []byte {
	t.Helper()
	b := make([]byte, size)
	var s [32]byte
	s[0] = byte(seed)
	rand.NewChaCha8(s).Read(b)
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, b, 0o644))
	old := time.Now().Add(-time.Minute)
	require.NoError(t, os.Chtimes(p, old, old))
	return b
}

func newStore(t *testing.T) *objstore.S3 {
	m := harness.StartMinIO(t)
	s, err := objstore.NewS3(context.Background(), objstore.S3Options{
		Endpoint: m.Endpoint, Region: "us-east-1", Bucket: "transfer", PathStyle: true,
		AccessKeyID: m.AccessKey, SecretAccessKey: m.SecretKey, PartSize: objstore.MinPartSize,
	}, zerolog.Nop())
	require.NoError(t, err)
	require.NoError(t, s.EnsureBucket(context.Background()))
	return s
}

func TestUpload(t *testing.T) {
	store := newStore(t)
	root := t.TempDir()
	ctx := context.Background()

	t.Run("uploads and reports the hash", func(t *testing.T) {
		data := writeFile(t, filepath.Join(root, "a/ok.mp3"), 1, 300<<10)
		res, err := transfer.NewUploader(root, store, 0).Upload(ctx, "a/ok.mp3", nil, transfer.Precondition{})
		require.NoError(t, err)
		sum := sha256.Sum256(data)
		require.Equal(t, transfer.Uploaded, res.Outcome)
		require.Equal(t, hex.EncodeToString(sum[:]), res.Entry.SHA256)
		require.EqualValues(t, len(data), res.Bytes)
		o, err := store.Head(ctx, "a/ok.mp3")
		require.NoError(t, err)
		require.Equal(t, res.Entry.SHA256, o.SHA256)
		require.Equal(t, fmt.Sprintf("%08x", crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli))), o.CRC32C,
			"the hash pass's CRC-32C is stored for downloads to check")
		require.Equal(t, res.Entry.ETag, o.ETag)

		// Same content again (a touch): nothing is sent.
		res2, err := transfer.NewUploader(root, store, 0).Upload(ctx, "a/ok.mp3", &res.Entry, transfer.Precondition{})
		require.NoError(t, err)
		require.Equal(t, transfer.Unchanged, res2.Outcome)
		require.Zero(t, res2.Bytes)
	})

	changes := []struct {
		name string
		size int
		mod  func(t *testing.T, p string)
	}{
		{"rewritten in place, same size", 256 << 10, func(t *testing.T, p string) {
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			require.NoError(t, err)
			_, err = f.WriteAt([]byte("CHANGED"), 10)
			require.NoError(t, err)
			require.NoError(t, f.Close())
		}},
		{"appended during a multipart upload", 12 << 20, func(t *testing.T, p string) {
			f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
			require.NoError(t, err)
			_, err = f.Write([]byte("more audio"))
			require.NoError(t, err)
			require.NoError(t, f.Close())
		}},
		// Same size, same inode, mtime put back (a tool that preserves
		// timestamps): only the checksum of the streamed bytes, a CRC-32C
		// from the hash pass, tells.
		{"rewritten in place, mtime restored", 256 << 10, rewriteKeepMtime},
		{"rewritten in place during a multipart upload, mtime restored", 12 << 20, rewriteKeepMtime},
		{"replaced by a rename", 256 << 10, func(t *testing.T, p string) {
			writeFile(t, p+".new", 99, 256<<10)
			require.NoError(t, os.Rename(p+".new", p))
		}},
		{"truncated during a multipart upload", 12 << 20, func(t *testing.T, p string) {
			require.NoError(t, os.Truncate(p, 1<<20))
		}},
	}
	for i, tc := range changes {
		t.Run(tc.name, func(t *testing.T) {
			rel := "changed/" + string(rune('a'+i)) + ".wav"
			p := filepath.Join(root, rel)
			writeFile(t, p, uint64(10+i), tc.size)
			hooked := &midway{Store: store, after: int64(tc.size / 2), hook: func() { tc.mod(t, p) }}
			_, err := transfer.NewUploader(root, hooked, 0).Upload(ctx, rel, nil, transfer.Precondition{})
			require.ErrorIs(t, err, scan.ErrChangedWhileReading)
			_, err = store.Head(ctx, rel)
			require.ErrorIs(t, err, objstore.ErrNotFound, "no object may be published for a file that changed while it was read")
			ups, err := store.ListMultipartUploads(ctx)
			require.NoError(t, err)
			require.Empty(t, ups, "no multipart upload may be left open")
		})
	}

	t.Run("deleted during the upload", func(t *testing.T) {
		rel := "changed/deleted.wav"
		p := filepath.Join(root, rel)
		writeFile(t, p, 77, 12<<20)
		hooked := &midway{Store: store, after: 6 << 20, hook: func() { require.NoError(t, os.Remove(p)) }}
		_, err := transfer.NewUploader(root, hooked, 0).Upload(ctx, rel, nil, transfer.Precondition{})
		require.ErrorIs(t, err, fs.ErrNotExist, "a file deleted while it was read is gone, not uploaded")
		_, err = store.Head(ctx, rel)
		require.ErrorIs(t, err, objstore.ErrNotFound, "no object may be published for a file deleted while it was read")
		ups, err := store.ListMultipartUploads(ctx)
		require.NoError(t, err)
		require.Empty(t, ups, "no multipart upload may be left open")
	})

	t.Run("conditional upload", func(t *testing.T) {
		rel := "cond/a.mp3"
		p := filepath.Join(root, rel)
		writeFile(t, p, 5, 10<<10)
		u := transfer.NewUploader(root, store, 0)
		_, err := u.Upload(ctx, rel, nil, transfer.Precondition{ETag: "0123456789abcdef0123456789abcdef"})
		require.ErrorIs(t, err, objstore.ErrPreconditionFailed)
		require.NotErrorIs(t, err, scan.ErrChangedWhileReading, "the file did not change; the bucket did not match")
		_, err = store.Head(ctx, rel)
		require.ErrorIs(t, err, objstore.ErrNotFound)
		first, err := u.Upload(ctx, rel, nil, transfer.Precondition{Absent: true})
		require.NoError(t, err)
		writeFile(t, p, 6, 10<<10)
		_, err = u.Upload(ctx, rel, &first.Entry, transfer.Precondition{Absent: true})
		require.ErrorIs(t, err, objstore.ErrPreconditionFailed)
		second, err := u.Upload(ctx, rel, &first.Entry, transfer.Precondition{ETag: first.Entry.ETag})
		require.NoError(t, err)
		require.Equal(t, transfer.Uploaded, second.Outcome)
	})

	t.Run("the inspector sees the head before any byte leaves", func(t *testing.T) {
		rel := "inspect/a.mp3"
		data := writeFile(t, filepath.Join(root, rel), 8, 300<<10)
		insp := &recordingInspector{err: errors.New("held: not audio")}
		u := transfer.NewUploader(root, store, 0).WithInspector(insp)
		_, err := u.Upload(ctx, rel, nil, transfer.Precondition{})
		require.ErrorIs(t, err, insp.err)
		require.Equal(t, data[:tripwire.HeadSize], insp.head, "the first bytes the hash pass read")
		require.Nil(t, insp.base)
		_, err = store.Head(ctx, rel)
		require.ErrorIs(t, err, objstore.ErrNotFound, "a refused change sends nothing")

		insp.err = nil
		first, err := u.Upload(ctx, rel, nil, transfer.Precondition{})
		require.NoError(t, err)
		require.Equal(t, transfer.Uploaded, first.Outcome)

		// Unchanged content sends nothing, so it is not inspected.
		insp.calls = 0
		_, err = u.Upload(ctx, rel, &first.Entry, transfer.Precondition{})
		require.NoError(t, err)
		require.Zero(t, insp.calls)

		// A short file's head is all of it; a rewrite passes its base.
		writeFile(t, filepath.Join(root, rel), 9, 100)
		_, err = u.Upload(ctx, rel, &first.Entry, transfer.Precondition{})
		require.NoError(t, err)
		require.Len(t, insp.head, 100)
		require.Equal(t, first.Entry.SHA256, insp.base.SHA256)
	})

	t.Run("missing file", func(t *testing.T) {
		_, err := transfer.NewUploader(root, store, 0).Upload(ctx, "nope.mp3", nil, transfer.Precondition{})
		require.True(t, errors.Is(err, fs.ErrNotExist), err)
	})
}

// recordingInspector keeps what it was last asked and answers err.
type recordingInspector struct {
	err   error
	head  []byte
	base  *index.Entry
	calls int
}

func (r *recordingInspector) Inspect(rel string, head []byte, base *index.Entry) error {
	r.calls++
	r.head, r.base = append([]byte(nil), head...), base
	return r.err
}

// rewriteKeepMtime changes bytes near the end of p (not yet streamed when
// it runs midway) and restores p's mtime.
func rewriteKeepMtime(t *testing.T, p string) {
	st, err := os.Stat(p)
	require.NoError(t, err)
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteAt([]byte("CHANGED"), st.Size()-100)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.NoError(t, os.Chtimes(p, st.ModTime(), st.ModTime()))
}
