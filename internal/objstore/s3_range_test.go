package objstore_test

import (
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"genesissync/internal/objstore"
	"genesissync/tests/harness"
)

// TestS3GetUnchecked reads current and older versions through
// GetUnchecked against MinIO: same bytes and description as Get and
// GetVersion, ErrNotFound for a missing key or version.
func TestS3GetUnchecked(t *testing.T) {
	m := harness.StartMinIO(t)
	s := newS3(t, s3Options(m.S3Server, newBucket()))
	ctx := ctxT(t)
	require.NoError(t, s.EnsureBucket(ctx))
	require.NoError(t, s.EnableVersioning(ctx))
	old, err := s.Put(ctx, putInput("jingles/a.wav", []byte("first take")))
	require.NoError(t, err)
	cur, err := s.Put(ctx, putInput("jingles/a.wav", []byte("second take")))
	require.NoError(t, err)
	require.NotEqual(t, old.VersionID, cur.VersionID)

	read := func(id string) (string, objstore.Object) {
		body, obj, err := s.GetUnchecked(ctx, "jingles/a.wav", id)
		require.NoError(t, err)
		defer body.Close()
		b, err := io.ReadAll(body)
		require.NoError(t, err)
		return string(b), obj
	}
	got, obj := read("")
	require.Equal(t, "second take", got)
	require.Equal(t, cur.SHA256, obj.SHA256)
	require.Equal(t, cur.VersionID, obj.VersionID)
	require.EqualValues(t, len("second take"), obj.Size)
	head, err := s.Head(ctx, "jingles/a.wav")
	require.NoError(t, err)
	require.Equal(t, head, obj)

	got, obj = read(old.VersionID)
	require.Equal(t, "first take", got)
	require.Equal(t, old.SHA256, obj.SHA256)
	require.Equal(t, old.VersionID, obj.VersionID)

	_, _, err = s.GetUnchecked(ctx, "jingles/missing.wav", "")
	require.ErrorIs(t, err, objstore.ErrNotFound)
	_, _, err = s.GetUnchecked(ctx, "", "")
	require.ErrorIs(t, err, objstore.ErrInvalidKey)
}
