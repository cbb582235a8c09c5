package reconcile

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/objstore"
	"genesissync/internal/scan"
	"genesissync/internal/transfer"
)

// racingRemote replaces the object at race once, right after a HEAD of
// it: a web app saving in the window between the worker's HEAD and its
// upload.
type racingRemote struct {
	memRemote
	race string // armed when set
	once sync.Once
	t    *testing.T
}

func (r *racingRemote) Head(ctx context.Context, key string) (objstore.Object, error) {
	o, err := r.memRemote.Head(ctx, key)
	if key == r.race && r.race != "" {
		r.once.Do(func() { putObject(r.t, r.Memory, key, "the web app's save") })
	}
	return o, err
}

// HeadLatest is the decision's HEAD (Share.head): the race follows it too.
func (r *racingRemote) HeadLatest(ctx context.Context, key string, _ objstore.Known) (objstore.Object, error) {
	return r.Head(ctx, key)
}

// writeAged writes a file whose mtime is past the settle window.
func writeAged(t *testing.T, root, rel string, data []byte) {
	t.Helper()
	p := filepath.Join(root, rel)
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, data, 0o644))
	old := time.Now().Add(-time.Minute)
	require.NoError(t, os.Chtimes(p, old, old))
}

// TestUploadIsConditionalOnWhatThePlanSaw: a file too large to skip the
// HEAD is uploaded only over the object the HEAD saw. (A small file's
// refused guess is TestConflictKeepsBoth, end to end.)
func TestUploadIsConditionalOnWhatThePlanSaw(t *testing.T) {
	const size = smallFileMax + 1
	for _, conditions := range []int32{condHonored, condUnsupported} {
		s, idx, m := pollShare(t, time.Hour)
		root := s.opts.Root
		rr := &racingRemote{memRemote: memRemote{m}, t: t}
		s.opts.Remote = rr
		s.opts.Uploader = transfer.NewUploader(root, m, 0)
		s.conditions.Store(conditions)

		// Synced once, then edited on the share.
		writeAged(t, root, "song.mp3", bytes.Repeat([]byte("a"), size))
		r := s.process(context.Background(), job{rel: "song.mp3"})
		require.NoError(t, r.err)
		require.Equal(t, outUploaded, r.out)
		writeAged(t, root, "song.mp3", bytes.Repeat([]byte("b"), size))
		f, err := scan.Stat(root, "song.mp3")
		require.NoError(t, err)
		require.NoError(t, os.Chtimes(filepath.Join(root, "song.mp3"), f.Mtime.Add(time.Second), f.Mtime.Add(time.Second)))

		// The web app saves between the worker's look and its upload.
		rr.race = "song.mp3"
		r = s.process(context.Background(), job{rel: "song.mp3"})
		if conditions != condHonored {
			// A store not known to honor conditions gets none: the save
			// in the window is overwritten, as before conditional writes.
			require.NoError(t, r.err)
			continue
		}
		require.ErrorIs(t, r.err, objstore.ErrPreconditionFailed)
		rc, _, err := m.Get(context.Background(), "song.mp3")
		require.NoError(t, err)
		var got bytes.Buffer
		_, _ = got.ReadFrom(rc)
		rc.Close()
		require.Equal(t, "the web app's save", got.String(), "the save made in the window is not overwritten")

		// Asked again, the worker sees the bucket changed since the
		// index's version (both sides changed: a conflict keeps both).
		e, ok, err := idx.Get("song.mp3")
		require.NoError(t, err)
		require.True(t, ok)
		o, err := m.Head(context.Background(), "song.mp3")
		require.NoError(t, err)
		require.True(t, remoteChanged(&e, &o))
	}
}
