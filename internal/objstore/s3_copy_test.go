package objstore_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"genesissync/internal/etag"
	"genesissync/internal/objstore"
)

func TestCopyPartSize(t *testing.T) {
	const (
		miB = int64(1) << 20
		giB = int64(1) << 30
		tiB = int64(1) << 40
	)
	tests := []struct {
		name            string
		size, preferred int64
		want            int64
		wantErr         bool
	}{
		{"just over one CopyObject", 5*giB + 1, 512 * miB, 512 * miB, false},
		{"6 GiB recording", 6 * giB, 512 * miB, 512 * miB, false},
		{"10,000 parts of 512 MiB exactly", 10000 * 512 * miB, 512 * miB, 512 * miB, false},
		{"one byte more needs bigger parts", 10000*512*miB + 1, 512 * miB, 512*miB + 1, false},
		{"5 TiB, S3's largest object", 5 * tiB, 512 * miB, (5*tiB + 9999) / 10000, false},
		{"tests' 5 MiB parts", 12 * miB, 5 * miB, 5 * miB, false},
		{"never under 5 MiB", 12 * miB, 1, 5 * miB, false},
		{"over 10,000 parts of 5 GiB", 10000*5*giB + 1, 512 * miB, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := objstore.CopyPartSize(tc.size, tc.preferred)
			if tc.wantErr {
				require.ErrorIs(t, err, objstore.ErrInvalidInput)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
			parts := (tc.size + got - 1) / got
			require.LessOrEqual(t, parts, int64(10000))
			require.GreaterOrEqual(t, got, objstore.MinPartSize)
			require.LessOrEqual(t, got, objstore.MaxPartSize)
		})
	}
}

// Multipart copies with the threshold lowered from 5 GiB to 10 MiB and
// 5 MiB parts: a 12 MiB object is copied in parts of 5, 5 and 2 MiB.
const (
	copyThreshold = 10 << 20
	copyPart      = 5 << 20
	copySize      = 12 << 20
)

// runMultipartCopy checks Copy and ReplaceMetadata of an object over the
// (lowered) threshold on a real server: the bytes, metadata, headers and
// multipart ETag of the result, conditions on the source at every step
// (HEAD, each part, completion), cancellation, and that no multipart
// upload is left open by any failure. newStore returns a store on a new
// bucket, without copy tuning.
func runMultipartCopy(t *testing.T, newStore func(t *testing.T) *objstore.S3) {
	body := randomBytes(copySize, 1)
	sum := sha256Hex(body)
	const wrongETag = "0123456789abcdef0123456789abcdef"

	tuned := func(t *testing.T) *objstore.S3 {
		s := newStore(t)
		s.SetMultipartCopy(copyThreshold, copyPart)
		return s
	}

	t.Run("Copy", func(t *testing.T) {
		s := tuned(t)
		const src, dst = "Music/Simon + Garfunkel 100%.flac", "copies/Simon + Garfunkel 100% (2).flac"
		c, bucket := s.RawClient(), aws.String(s.Bucket())
		// As another tool writes it: one PutObject, our sha256 and a
		// foreign field, headers MetadataDirective COPY keeps.
		_, err := c.PutObject(ctxT(t), &s3.PutObjectInput{
			Bucket: bucket, Key: aws.String(s.FullKey(src)), Body: bytes.NewReader(body),
			Metadata:           map[string]string{"sha256": sum, "origin": "azuracast"},
			ContentType:        aws.String("audio/flac"),
			CacheControl:       aws.String("max-age=60"),
			ContentDisposition: aws.String(`attachment; filename="a.flac"`),
			ContentLanguage:    aws.String("de"),
		})
		require.NoError(t, err)
		srcHead, err := c.HeadObject(ctxT(t), &s3.HeadObjectInput{Bucket: bucket, Key: aws.String(s.FullKey(src))})
		require.NoError(t, err)
		srcETag := strings.Trim(aws.ToString(srcHead.ETag), `"`)
		require.NotContains(t, srcETag, "-", "the source is single-part")

		_, err = s.Copy(ctxT(t), src, dst, wrongETag)
		require.ErrorIs(t, err, objstore.ErrPreconditionFailed)
		_, err = s.Head(ctxT(t), dst)
		require.ErrorIs(t, err, objstore.ErrNotFound, "nothing written on a wrong ETag")
		requireNoUploads(t, s)

		o, err := s.Copy(ctxT(t), src, dst, srcETag)
		require.NoError(t, err)
		requireNoUploads(t, s)
		requireMultipartETag(t, body, copyPart, o.ETag)
		require.Equal(t, dst, o.Key)
		require.Equal(t, int64(copySize), o.Size)
		require.Equal(t, "audio/flac", o.ContentType)
		require.Equal(t, sum, o.SHA256)

		h, err := s.Head(ctxT(t), dst)
		require.NoError(t, err)
		require.Equal(t, o.ETag, h.ETag, "the ETag Copy returned is the copy's")
		require.Equal(t, o.VersionID, h.VersionID)
		require.Equal(t, int64(copySize), h.Size)
		dstHead, err := c.HeadObject(ctxT(t), &s3.HeadObjectInput{Bucket: bucket, Key: aws.String(s.FullKey(dst))})
		require.NoError(t, err)
		require.Equal(t, srcHead.Metadata, dstHead.Metadata, "user metadata copied, foreign fields too")
		require.Equal(t, aws.ToString(srcHead.ContentType), aws.ToString(dstHead.ContentType))
		require.Equal(t, aws.ToString(srcHead.CacheControl), aws.ToString(dstHead.CacheControl))
		require.Equal(t, aws.ToString(srcHead.ContentDisposition), aws.ToString(dstHead.ContentDisposition))
		require.Equal(t, aws.ToString(srcHead.ContentLanguage), aws.ToString(dstHead.ContentLanguage))
		require.Equal(t, sum, readSHA256(t, s, dst), "the copy holds the source's bytes")
		require.Equal(t, sum, readSHA256(t, s, src), "the source is untouched")
	})

	t.Run("ReplaceMetadata", func(t *testing.T) {
		s := tuned(t)
		const key = "Music/long set & co.flac"
		c, bucket := s.RawClient(), aws.String(s.Bucket())
		_, err := c.PutObject(ctxT(t), &s3.PutObjectInput{
			Bucket: bucket, Key: aws.String(s.FullKey(key)), Body: bytes.NewReader(body),
			ContentType: aws.String("binary/octet-stream"),
		})
		require.NoError(t, err)
		foreign, err := s.Head(ctxT(t), key)
		require.NoError(t, err)
		require.Empty(t, foreign.SHA256)
		mtime := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
		md := objstore.Metadata{SHA256: sum, CRC32C: "0a1b2c3d", Mtime: mtime}

		_, err = s.ReplaceMetadata(ctxT(t), key, wrongETag, copySize, md)
		require.ErrorIs(t, err, objstore.ErrPreconditionFailed, "another object than the one proven")
		_, err = s.ReplaceMetadata(ctxT(t), key, foreign.ETag, copySize-1, md)
		require.ErrorIs(t, err, objstore.ErrInvalidInput, "parts cut to a wrong size would truncate it")
		requireUnchanged(t, s, key, foreign)
		requireNoUploads(t, s)

		o, err := s.ReplaceMetadata(ctxT(t), key, foreign.ETag, copySize, md)
		require.NoError(t, err)
		requireNoUploads(t, s)
		requireMultipartETag(t, body, copyPart, o.ETag)
		require.Equal(t, int64(copySize), o.Size)
		require.Equal(t, sum, o.SHA256)
		require.Equal(t, "audio/flac", o.ContentType)
		h, err := s.Head(ctxT(t), key)
		require.NoError(t, err)
		require.Equal(t, o.ETag, h.ETag, "the ETag ReplaceMetadata returned is the object's")
		require.Equal(t, o.VersionID, h.VersionID)
		require.Equal(t, int64(copySize), h.Size)
		require.Equal(t, sum, h.SHA256)
		require.Equal(t, "0a1b2c3d", h.CRC32C)
		require.True(t, mtime.Equal(h.Mtime))
		require.Equal(t, "audio/flac", h.ContentType)
		require.Equal(t, sum, readSHA256(t, s, key), "the bytes are unchanged")
	})

	// Every part is conditional on the source's ETag: a source replaced
	// after the first part fails the copy, and the replacement stays.
	t.Run("SourceReplacedMidCopy", func(t *testing.T) {
		for _, op := range []string{"Copy", "ReplaceMetadata"} {
			t.Run(op, func(t *testing.T) {
				s := tuned(t)
				const key, dst = "Music/replaced.flac", "copies/replaced.flac"
				put := putForeignSingle(t, s, key, body)
				other := randomBytes(copySize, 2)
				var once sync.Once
				var putErr error
				s.SetCopyHooks(func(int32) {
					once.Do(func() { _, putErr = s.Put(context.Background(), putInput(key, other)) })
				}, nil)
				var err error
				if op == "Copy" {
					_, err = s.Copy(ctxT(t), key, dst, put.ETag)
				} else {
					_, err = s.ReplaceMetadata(ctxT(t), key, put.ETag, copySize, objstore.Metadata{SHA256: sum})
				}
				require.NoError(t, putErr)
				require.ErrorIs(t, err, objstore.ErrPreconditionFailed)
				requireNoUploads(t, s)
				_, err = s.Head(ctxT(t), dst)
				require.ErrorIs(t, err, objstore.ErrNotFound)
				require.Equal(t, sha256Hex(other), readSHA256(t, s, key), "the replacement stays")
			})
		}
	})

	// ReplaceMetadata completes with If-Match: an object replaced after
	// the last part is copied is not overwritten with the old bytes.
	t.Run("ReplacedBeforeComplete", func(t *testing.T) {
		s := tuned(t)
		const key = "Music/raced.flac"
		put := putForeignSingle(t, s, key, body)
		other := randomBytes(copySize, 3)
		var putErr error
		s.SetCopyHooks(nil, func() { _, putErr = s.Put(context.Background(), putInput(key, other)) })
		_, err := s.ReplaceMetadata(ctxT(t), key, put.ETag, copySize, objstore.Metadata{SHA256: sum})
		require.NoError(t, putErr)
		require.ErrorIs(t, err, objstore.ErrPreconditionFailed)
		requireNoUploads(t, s)
		h, err := s.Head(ctxT(t), key)
		require.NoError(t, err)
		require.Equal(t, sha256Hex(other), h.SHA256)
		require.Equal(t, sha256Hex(other), readSHA256(t, s, key), "the newer object stays")
	})

	t.Run("Cancelled", func(t *testing.T) {
		s := tuned(t)
		const key, dst = "Music/cancelled.flac", "copies/cancelled.flac"
		put := putForeignSingle(t, s, key, body)
		ctx, cancel := context.WithCancel(ctxT(t))
		defer cancel()
		s.SetCopyHooks(func(int32) { cancel() }, nil)
		_, err := s.Copy(ctx, key, dst, put.ETag)
		require.ErrorIs(t, err, context.Canceled)
		require.False(t, objstore.IsRetryable(err))
		requireNoUploads(t, s) // aborted on a fresh context
		_, err = s.Head(ctxT(t), dst)
		require.ErrorIs(t, err, objstore.ErrNotFound)
	})

	// At or under the threshold a copy is one CopyObject: a single-part
	// ETag, the MD5 of the bytes.
	t.Run("UnderThreshold", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			s    *objstore.S3
			body []byte
		}{
			{"lowered", tuned(t), randomBytes(copyThreshold, 4)},
			{"default", newStore(t), body}, // 12 MiB is far under 5 GiB
		} {
			t.Run(tc.name, func(t *testing.T) {
				sum := md5.Sum(tc.body)
				put := putForeignSingle(t, tc.s, "Music/small.flac", tc.body)
				o, err := tc.s.Copy(ctxT(t), "Music/small.flac", "copies/small.flac", put.ETag)
				require.NoError(t, err)
				require.Equal(t, hex.EncodeToString(sum[:]), o.ETag)
				o, err = tc.s.ReplaceMetadata(ctxT(t), "Music/small.flac", put.ETag, int64(len(tc.body)), objstore.Metadata{SHA256: sha256Hex(tc.body)})
				require.NoError(t, err)
				require.Equal(t, hex.EncodeToString(sum[:]), o.ETag)
			})
		}
	})
}

// putForeignSingle writes body at key in one PutObject, without our
// metadata, and returns its Head.
func putForeignSingle(t *testing.T, s *objstore.S3, key string, body []byte) objstore.Object {
	t.Helper()
	_, err := s.RawClient().PutObject(ctxT(t), &s3.PutObjectInput{
		Bucket: aws.String(s.Bucket()), Key: aws.String(s.FullKey(key)), Body: bytes.NewReader(body),
	})
	require.NoError(t, err)
	o, err := s.Head(ctxT(t), key)
	require.NoError(t, err)
	return o
}

func requireUnchanged(t *testing.T, s *objstore.S3, key string, was objstore.Object) {
	t.Helper()
	h, err := s.Head(ctxT(t), key)
	require.NoError(t, err)
	require.Equal(t, was.ETag, h.ETag)
	require.Equal(t, was.SHA256, h.SHA256)
	require.Equal(t, was.ContentType, h.ContentType)
}

func requireNoUploads(t *testing.T, s *objstore.S3) {
	t.Helper()
	ups, err := s.ListMultipartUploads(ctxT(t))
	require.NoError(t, err)
	require.Empty(t, ups, "no multipart upload left open")
}

func readSHA256(t *testing.T, s *objstore.S3, key string) string {
	t.Helper()
	rc, _, err := s.Get(ctxT(t), key)
	require.NoError(t, err)
	defer rc.Close()
	h := sha256.New()
	_, err = io.Copy(h, rc)
	require.NoError(t, err)
	return hex.EncodeToString(h.Sum(nil))
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// randomBytes returns n reproducible pseudo-random bytes.
func randomBytes(n int, seed byte) []byte {
	b := make([]byte, n)
	var key [32]byte
	key[0] = seed
	_, _ = rand.NewChaCha8(key).Read(b)
	return b
}

// requireMultipartETag checks that etag is S3's multipart ETag of body in
// parts of part bytes (the MD5 of the parts' MD5s, "-", the part count),
// as adoption recomputes it (internal/etag): a copy stays provable.
func requireMultipartETag(t *testing.T, body []byte, part int64, got string) {
	t.Helper()
	e, err := etag.Parse(got)
	require.NoError(t, err)
	require.Equal(t, etag.Multipart, e.Kind, "multipart ETag %q", got)
	require.Equal(t, int((int64(len(body))+part-1)/part), e.Parts, "part count of %q", got)
	p := etag.NewProver(int64(len(body)), e, true)
	_, _ = p.Write(body)
	r := p.Result()
	require.Equal(t, etag.Equal, r.Verdict, "%q reproduced from the bytes: %s", got, r.Reason)
	require.Equal(t, part, r.PartSize)
}
