package transfer_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/objstore"
	"genesissync/internal/scan"
	"genesissync/internal/transfer"
)

func put(t *testing.T, s *objstore.S3, key string, data []byte) objstore.Object {
	t.Helper()
	sum := sha256.Sum256(data)
	o, err := s.Put(context.Background(), objstore.PutInput{Key: key, Body: bytes.NewReader(data), Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), Mtime: time.Now()})
	require.NoError(t, err)
	return o
}

func TestTrashRemote(t *testing.T) {
	store := newStore(t)
	ctx := context.Background()
	day := time.Now().UTC().Format("2006-01-02")

	o := put(t, store, "a/x.mp3", []byte("first"))
	tr := transfer.NewTrash(t.TempDir(), store)
	where, err := tr.TrashRemote(ctx, "a/x.mp3", o.ETag)
	require.NoError(t, err)
	require.Equal(t, ".genesissync-trash/"+day+"/a/x.mp3", where)
	_, err = store.Head(ctx, "a/x.mp3")
	require.ErrorIs(t, err, objstore.ErrNotFound)
	kept, err := store.Head(ctx, where)
	require.NoError(t, err)
	require.Equal(t, o.ETag, kept.ETag)

	// An object that changed since the delete was decided stays.
	put(t, store, "a/y.mp3", []byte("one"))
	_, err = tr.TrashRemote(ctx, "a/y.mp3", "not-the-etag")
	require.ErrorIs(t, err, transfer.ErrChanged)
	_, err = store.Head(ctx, "a/y.mp3")
	require.NoError(t, err)

	// Already gone: nothing to do.
	_, err = tr.TrashRemote(ctx, "never", "x")
	require.NoError(t, err)
}

func TestTrashLocal(t *testing.T) {
	root := t.TempDir()
	p := filepath.Join(root, "d", "take.wav")
	writeFile(t, p, 1, 1000)
	f, err := scan.Stat(root, "d/take.wav")
	require.NoError(t, err)
	tr := transfer.NewTrash(root, nil)

	// Changed since the delete was decided: refused.
	stale := f
	stale.Size++
	_, err = tr.TrashLocal(context.Background(), "d/take.wav", stale)
	require.ErrorIs(t, err, transfer.ErrChanged)

	where, err := tr.TrashLocal(context.Background(), "d/take.wav", f)
	require.NoError(t, err)
	require.Equal(t, filepath.Join(".genesissync-trash", time.Now().Format("2006-01-02"), "d/take.wav"), where)
	_, err = os.Stat(p)
	require.True(t, os.IsNotExist(err))
	_, err = os.Stat(filepath.Join(root, where))
	require.NoError(t, err)

	// A second file of the same name gets a free name beside the first.
	writeFile(t, p, 2, 10)
	f, _ = scan.Stat(root, "d/take.wav")
	where2, err := tr.TrashLocal(context.Background(), "d/take.wav", f)
	require.NoError(t, err)
	require.Equal(t, where+".1", where2)
}
