package objstore_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"genesissync/internal/objstore"
	"genesissync/tests/harness"
)

// TestCopyFrom copies another bucket's object, written without our
// metadata, into a store's prefix server-side: the bytes arrive, the
// metadata is ours, and the conditions hold on a real MinIO (a changed
// source and an occupied destination both refuse the copy, leaving
// what is there).
func TestCopyFrom(t *testing.T) {
	m := harness.StartMinIO(t)
	ctx := ctxT(t)
	srcOpts := s3Options(m.S3Server, newBucket())
	src := newS3(t, srcOpts)
	require.NoError(t, src.EnsureBucket(ctx))
	dstOpts := s3Options(m.S3Server, newBucket())
	dstOpts.Prefix = "studio"
	dst := newS3(t, dstOpts)
	require.NoError(t, dst.EnsureBucket(ctx))

	body := bytes.Repeat([]byte("Simon + Garfunkel "), 5000)
	const srcKey = "old station/Simon + Garfunkel (live) 100%.mp3"
	_, err := src.RawClient().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(src.Bucket()), Key: aws.String(srcKey), Body: bytes.NewReader(body)})
	require.NoError(t, err)
	h, err := src.Head(ctx, srcKey)
	require.NoError(t, err)
	sum := md5.Sum(body)
	require.Equal(t, hex.EncodeToString(sum[:]), h.ETag)

	mtime := time.Date(2019, 4, 1, 9, 30, 0, 123, time.UTC)
	md := objstore.Metadata{SHA256: putInput("", body).SHA256, CRC32C: "0a0b0c0d", Mtime: mtime}
	const dstKey = "Music/Simon + Garfunkel (live) 100%.mp3"

	_, err = dst.CopyFrom(ctx, src.Bucket(), srcKey, "0123456789abcdef0123456789abcdef", dstKey, h.Size, md)
	require.ErrorIs(t, err, objstore.ErrPreconditionFailed, "the source is not at that ETag")
	_, err = dst.Head(ctx, dstKey)
	require.ErrorIs(t, err, objstore.ErrNotFound)

	o, err := dst.CopyFrom(ctx, src.Bucket(), srcKey, h.ETag, dstKey, h.Size, md)
	require.NoError(t, err)
	require.Equal(t, md.SHA256, o.SHA256)
	got, err := dst.Head(ctx, dstKey)
	require.NoError(t, err)
	require.Equal(t, md.SHA256, got.SHA256)
	require.Equal(t, md.CRC32C, got.CRC32C)
	require.True(t, got.Mtime.Equal(mtime), "%s", got.Mtime)
	require.Equal(t, "audio/mpeg", got.ContentType)
	rc, _, err := dst.Get(ctx, dstKey)
	require.NoError(t, err)
	b, err := io.ReadAll(rc)
	rc.Close()
	require.NoError(t, err)
	require.Equal(t, body, b)

	// Something at the destination: a server that honours If-None-Match
	// on CopyObject refuses the copy and leaves it; one that ignores it
	// (the pinned MinIO build) replaces it, which is why
	// callers HEAD the destination first.
	other := putInput(dstKey, []byte("the daemon's upload"))
	require.NoError(t, dst.Delete(ctx, dstKey))
	_, err = dst.Put(ctx, other)
	require.NoError(t, err)
	_, err = dst.CopyFrom(ctx, src.Bucket(), srcKey, h.ETag, dstKey, h.Size, md)
	got, herr := dst.Head(ctx, dstKey)
	require.NoError(t, herr)
	if err == nil {
		t.Log("this server ignores If-None-Match on CopyObject: the copy replaced the object")
		require.Equal(t, md.SHA256, got.SHA256)
	} else {
		require.ErrorIs(t, err, objstore.ErrPreconditionFailed)
		require.Equal(t, other.SHA256, got.SHA256, "what was there is left alone")
	}

	_, err = dst.CopyFrom(ctx, src.Bucket(), "absent", h.ETag, "x", 1, md)
	require.ErrorIs(t, err, objstore.ErrNotFound)
	_, err = dst.CopyFrom(ctx, src.Bucket(), srcKey, h.ETag, dstKey, objstore.MaxCopySize+1, md)
	require.ErrorContains(t, err, "over the")
	_, err = dst.CopyFrom(ctx, src.Bucket(), srcKey, h.ETag, dstKey, h.Size, objstore.Metadata{SHA256: "nope"})
	require.ErrorIs(t, err, objstore.ErrInvalidInput)
}
