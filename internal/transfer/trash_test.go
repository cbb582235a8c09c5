package transfer_test

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

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/objstore"
	"genesissync/internal/scan"
	"genesissync/internal/transfer"
	"genesissync/tests/harness"
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

func TestTrashExpire(t *testing.T) {
	store := newStore(t)
	root := t.TempDir()
	ctx := context.Background()
	old := time.Now().AddDate(0, 0, -40).UTC().Format("2006-01-02")
	recent := time.Now().AddDate(0, 0, -3).UTC().Format("2006-01-02")
	for _, day := range []string{old, recent} {
		writeFile(t, filepath.Join(root, ".genesissync-trash", day, "a/x.mp3"), 1, 10)
		put(t, store, ".genesissync-trash/"+day+"/a/x.mp3", []byte("x"))
	}
	put(t, store, "a/live.mp3", []byte("live")) // share content is never touched
	folders, objects, err := transfer.NewTrash(root, store).Expire(ctx, 30*24*time.Hour)
	require.NoError(t, err)
	require.Equal(t, 1, folders)
	require.Equal(t, 1, objects)
	_, err = os.Stat(filepath.Join(root, ".genesissync-trash", old))
	require.True(t, os.IsNotExist(err))
	_, err = os.Stat(filepath.Join(root, ".genesissync-trash", recent, "a/x.mp3"))
	require.NoError(t, err)
	_, err = store.Head(ctx, ".genesissync-trash/"+old+"/a/x.mp3")
	require.ErrorIs(t, err, objstore.ErrNotFound)
	_, err = store.Head(ctx, ".genesissync-trash/"+recent+"/a/x.mp3")
	require.NoError(t, err)
	_, err = store.Head(ctx, "a/live.mp3")
	require.NoError(t, err)
}

func TestTrashRemoteVersioned(t *testing.T) {
	store := newStore(t)
	ctx := context.Background()
	require.NoError(t, store.EnableVersioning(ctx))
	o := put(t, store, "v/x.mp3", []byte("versioned"))
	require.NotEmpty(t, o.VersionID)
	where, err := transfer.NewTrash(t.TempDir(), store).TrashRemote(ctx, "v/x.mp3", o.ETag)
	require.NoError(t, err)
	require.Equal(t, "version "+o.VersionID, where, "a versioned bucket keeps the version; no trash copy")
	_, err = store.Head(ctx, "v/x.mp3")
	require.ErrorIs(t, err, objstore.ErrNotFound)
	n := 0
	require.NoError(t, store.List(ctx, ".genesissync-trash/", func(objstore.Object) error { n++; return nil }))
	require.Zero(t, n)
}

// racingTrasher is a real store that, right after the trash's copy of
// race (the HEAD and the copy are conditional on the ETag already),
// replaces the object: a web app saving just before the delete.
type racingTrasher struct {
	*objstore.S3
	t    *testing.T
	race string
}

func (r *racingTrasher) Copy(ctx context.Context, src, dst, ifMatch string) (objstore.Object, error) {
	o, err := r.S3.Copy(ctx, src, dst, ifMatch)
	if src == r.race {
		r.race = ""
		put(r.t, r.S3, src, []byte("the web app's save"))
	}
	return o, err
}

// TestTrashRemoteDeletesOnlyTheVersionSeen: on a server that honors
// If-Match on DeleteObject (versitygw), a save between the trash's copy
// and its delete is not deleted.
func TestTrashRemoteDeletesOnlyTheVersionSeen(t *testing.T) {
	g := harness.StartVersityGW(t)
	store, err := objstore.NewS3(context.Background(), objstore.S3Options{
		Endpoint: g.Endpoint, Region: "us-east-1", Bucket: "transfer", PathStyle: true,
		AccessKeyID: g.AccessKey, SecretAccessKey: g.SecretKey,
	}, zerolog.Nop())
	require.NoError(t, err)
	require.NoError(t, store.EnsureBucket(context.Background()))
	o := put(t, store, "a/show.mp3", []byte("the synced version"))
	tr := transfer.NewTrash(t.TempDir(), &racingTrasher{S3: store, t: t, race: "a/show.mp3"})
	_, err = tr.TrashRemote(context.Background(), "a/show.mp3", o.ETag)
	require.ErrorIs(t, err, transfer.ErrChanged)
	r, _, err := store.Get(context.Background(), "a/show.mp3")
	require.NoError(t, err, "the save is still there")
	got, _ := io.ReadAll(r)
	r.Close()
	require.Equal(t, "the web app's save", string(got))
}
