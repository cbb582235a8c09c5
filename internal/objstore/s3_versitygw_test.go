package objstore_test

import (
	"context"
	"fmt"
	"io"
	"sort"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/require"

	"genesissync/internal/objstore"
	"genesissync/internal/objstore/storetest"
	"genesissync/tests/harness"
)

// versitygw (Versity S3 Gateway, posix backend) is the second, independent
// S3 implementation the store runs against: a station may point the
// appliance at one in front of its own NAS. What it does differently from
// MinIO is pinned here.

// TestVersityGW runs everything that needs a real versitygw against one
// gateway with a versioning directory.
func TestVersityGW(t *testing.T) {
	g := harness.StartVersityGW(t, harness.WithVersioning())

	runServerSuite(t, g.S3Server, "")
	t.Run("ConditionalDelete", func(t *testing.T) { storetest.RunConditionalDelete(t, newBucketS3(t, g.S3Server, "")) })

	// versitygw v1.8.0 accepts encoding-type=url and ignores it: every
	// listing answers with an empty EncodingType and the keys raw. The
	// store decodes only when the response says "url"; a client that
	// decoded because it asked would turn "+" into a space and fail on
	// "100%".
	t.Run("ListingsIgnoreURLEncoding", func(t *testing.T) {
		s := newBucketS3(t, g.S3Server, "studio")
		c, bucket := s.RawClient(), aws.String(s.Bucket())
		const key = "enc/a+b 100%.txt é"
		full := s.FullKey(key)
		_, err := s.Put(ctxT(t), putInput(key, []byte("x")))
		require.NoError(t, err)
		up, err := c.CreateMultipartUpload(ctxT(t), &s3.CreateMultipartUploadInput{Bucket: bucket, Key: aws.String(full)})
		require.NoError(t, err)
		t.Cleanup(func() {
			_, _ = c.AbortMultipartUpload(context.Background(), &s3.AbortMultipartUploadInput{Bucket: bucket, Key: aws.String(full), UploadId: up.UploadId})
		})

		tests := []struct {
			name string
			list func(ctx context.Context) (s3types.EncodingType, []string, error)
		}{
			{"ListObjectsV2", func(ctx context.Context) (s3types.EncodingType, []string, error) {
				out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: bucket, EncodingType: s3types.EncodingTypeUrl})
				if err != nil {
					return "", nil, err
				}
				var keys []string
				for _, o := range out.Contents {
					keys = append(keys, aws.ToString(o.Key))
				}
				return out.EncodingType, keys, nil
			}},
			{"ListObjectVersions", func(ctx context.Context) (s3types.EncodingType, []string, error) {
				out, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: bucket, EncodingType: s3types.EncodingTypeUrl})
				if err != nil {
					return "", nil, err
				}
				var keys []string
				for _, v := range out.Versions {
					keys = append(keys, aws.ToString(v.Key))
				}
				return out.EncodingType, keys, nil
			}},
			{"ListMultipartUploads", func(ctx context.Context) (s3types.EncodingType, []string, error) {
				out, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: bucket, EncodingType: s3types.EncodingTypeUrl})
				if err != nil {
					return "", nil, err
				}
				var keys []string
				for _, u := range out.Uploads {
					keys = append(keys, aws.ToString(u.Key))
				}
				return out.EncodingType, keys, nil
			}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				enc, keys, err := tc.list(ctxT(t))
				require.NoError(t, err)
				require.Empty(t, enc, "EncodingType")
				require.Equal(t, []string{full}, keys, "raw keys")
			})
		}

		ups, err := s.ListMultipartUploads(ctxT(t))
		require.NoError(t, err)
		require.Len(t, ups, 1)
		require.Equal(t, key, ups[0].Key)
	})

	// versitygw v1.8.0 resumes a version listing at the marker version
	// instead of after it, when that version is its key's current one
	// (versity/versitygw#2178): every page after the first starts with
	// the last entry of the page before. ListVersions sees one duplicate
	// per 1000 versions (Versions/Paging), and a listing one key per page
	// never ends.
	t.Run("ListObjectVersionsRepeatsMarker", func(t *testing.T) {
		s := newBucketS3(t, g.S3Server, "")
		require.NoError(t, s.EnableVersioning(ctxT(t)))
		for _, k := range []string{"m/1", "m/2"} {
			_, err := s.Put(ctxT(t), putInput(k, []byte(k)))
			require.NoError(t, err)
		}
		c, bucket := s.RawClient(), aws.String(s.Bucket())
		first, err := c.ListObjectVersions(ctxT(t), &s3.ListObjectVersionsInput{Bucket: bucket, MaxKeys: aws.Int32(1)})
		require.NoError(t, err)
		require.True(t, aws.ToBool(first.IsTruncated))
		require.Len(t, first.Versions, 1)
		require.Equal(t, "m/1", aws.ToString(first.NextKeyMarker))
		next, err := c.ListObjectVersions(ctxT(t), &s3.ListObjectVersionsInput{
			Bucket: bucket, MaxKeys: aws.Int32(1), KeyMarker: first.NextKeyMarker, VersionIdMarker: first.NextVersionIdMarker,
		})
		require.NoError(t, err)
		require.Len(t, next.Versions, 1)
		require.Equal(t, "m/1", aws.ToString(next.Versions[0].Key), "S3 would list m/2 here")
		require.Equal(t, aws.ToString(first.Versions[0].VersionId), aws.ToString(next.Versions[0].VersionId))
		require.Equal(t, first.NextKeyMarker, next.NextKeyMarker, "and it would never move on")
	})

	// The posix backend maps "/" to directories, so a key cannot also be
	// a "folder" of another key (MinIO does not list both either). Both
	// refusals are 409s that no retry fixes; a directory is no object.
	t.Run("DirectoryConflicts", func(t *testing.T) {
		s := newBucketS3(t, g.S3Server, "")
		tests := []struct {
			name, first, second, code string
		}{
			{"file then child", "d/a", "d/a/b", "ObjectParentIsFile"},
			{"child then file", "e/a/b", "e/a", "ExistingObjectIsDirectory"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, err := s.Put(ctxT(t), putInput(tc.first, []byte("first")))
				require.NoError(t, err)
				_, err = s.Put(ctxT(t), putInput(tc.second, []byte("second")))
				require.ErrorContains(t, err, tc.code)
				require.ErrorContains(t, err, "StatusCode: 409")
				require.False(t, objstore.IsRetryable(err))
			})
		}
		_, err := s.Head(ctxT(t), "e/a")
		require.ErrorIs(t, err, objstore.ErrNotFound, "a directory is not an object")
	})

	t.Run("VersioningNeedsDir", func(t *testing.T) {
		plain := harness.StartVersityGW(t)
		s := newBucketS3(t, plain.S3Server, "")
		err := s.EnableVersioning(ctxT(t))
		require.ErrorContains(t, err, "VersioningNotConfigured")
		require.ErrorContains(t, err, "StatusCode: 501")
		require.False(t, objstore.IsRetryable(err))
		on, err := s.Versioning(ctxT(t))
		require.NoError(t, err)
		require.False(t, on)
	})
}

// runListVersions checks ListVersions on a versioned bucket of s with
// awkward keys: each key's history in order (delete marker, newer, older),
// keys byte for byte and in byte order, and across a page boundary (S3
// pages at 1000 versions) that falls on keys a URL encoder changes. It
// found three bugs: ListVersions sorted a page's keys still URL-encoded
// (MinIO's order was wrong), the SDK's paginator sent the URL-encoded
// NextKeyMarker back as the raw KeyMarker (MinIO skipped versions after a
// page end), and versitygw repeats the marker version on the next page
// (see ListObjectVersionsRepeatsMarker).
func runListVersions(t *testing.T, s *objstore.S3) {
	t.Run("Order", func(t *testing.T) {
		keys := []string{"vo/a b", "vo/a!", "vo/a+b 100%.txt", "vo/a%2B", "vo/é"}
		var first []objstore.Object
		for _, k := range keys {
			o, err := s.Put(ctxT(t), putInput(k, []byte(k+" one")))
			require.NoError(t, err)
			first = append(first, o)
		}
		second, err := s.Put(ctxT(t), putInput("vo/a+b 100%.txt", []byte("two")))
		require.NoError(t, err)
		require.NoError(t, s.Delete(ctxT(t), "vo/a!"))

		var got []objstore.Version
		require.NoError(t, s.ListVersions(ctxT(t), "vo/", func(v objstore.Version) error {
			got = append(got, v)
			return nil
		}))
		var gotKeys []string
		for _, v := range got {
			gotKeys = append(gotKeys, v.Key)
		}
		want := []string{"vo/a b", "vo/a!", "vo/a!", "vo/a%2B", "vo/a+b 100%.txt", "vo/a+b 100%.txt", "vo/é"}
		require.Equal(t, want, gotKeys, "keys byte for byte, in byte order")
		require.True(t, sort.StringsAreSorted(gotKeys))

		require.True(t, got[1].DeleteMarker && got[1].IsLatest, "the delete marker is vo/a!'s latest")
		require.Equal(t, first[1].VersionID, got[2].VersionID)
		require.Equal(t, second.VersionID, got[4].VersionID)
		require.True(t, got[4].IsLatest)
		require.Equal(t, first[2].VersionID, got[5].VersionID)
		rc, _, err := s.GetVersion(ctxT(t), "vo/a+b 100%.txt", first[2].VersionID)
		require.NoError(t, err)
		b, err := io.ReadAll(rc)
		require.NoError(t, rc.Close())
		require.NoError(t, err)
		require.Equal(t, "vo/a+b 100%.txt one", string(b))
	})

	t.Run("Paging", func(t *testing.T) {
		const filler = 999 // the first page ends at "vp/a b"
		keys := make([]string, 0, filler+3)
		for i := range filler {
			keys = append(keys, fmt.Sprintf("vp/%04d", i))
		}
		keys = append(keys, "vp/a b", "vp/a%zz", "vp/a+b")
		putAll(t, s, keys)
		var got []string
		require.NoError(t, s.ListVersions(ctxT(t), "vp/", func(v objstore.Version) error {
			got = append(got, v.Key)
			return nil
		}))
		requireSameKeys(t, keys, got)
	})
}

// requireSameKeys fails with the first difference between two long key
// lists rather than both lists.
func requireSameKeys(t *testing.T, want, got []string) {
	t.Helper()
	for i := range min(len(want), len(got)) {
		if want[i] != got[i] {
			require.Failf(t, "keys differ", "at %d of %d listed (%d wanted): got %q, want %q; listed around it: %q",
				i, len(got), len(want), got[i], want[i], got[max(0, i-2):min(len(got), i+3)])
		}
	}
	require.Equal(t, len(want), len(got), "listed %d keys, want %d; the last listed: %q", len(got), len(want), got[max(0, len(got)-3):])
}

// putAll uploads small objects, the key as the body, with a few workers.
func putAll(t *testing.T, s objstore.Store, keys []string) {
	t.Helper()
	ctx := ctxT(t)
	jobs := make(chan string)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for k := range jobs {
				if _, err := s.Put(ctx, putInput(k, []byte(k))); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	for _, k := range keys {
		jobs <- k
	}
	close(jobs)
	wg.Wait()
	require.Empty(t, errs)
}
