package objstore_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/objstore"
	"genesissync/tests/harness"
)

// These tests pin down what the transfer manager and the server actually do,
// the facts Put relies on (see Put and the package documentation).

var factsBucketSeq atomic.Int64

// newFactsS3 returns a store on a new bucket of the server m.
func newFactsS3(t *testing.T, m harness.S3Server, prefix string) *objstore.S3 {
	t.Helper()
	s, err := objstore.NewS3(context.Background(), objstore.S3Options{
		Endpoint:        m.Endpoint,
		Bucket:          fmt.Sprintf("gs-facts-%d", factsBucketSeq.Add(1)),
		Prefix:          prefix,
		PathStyle:       true,
		AccessKeyID:     m.AccessKey,
		SecretAccessKey: m.SecretKey,
		PartSize:        objstore.MinPartSize,
		PartConcurrency: 2,
	}, zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel))
	require.NoError(t, err)
	require.NoError(t, s.EnsureBucket(testCtx(t)))
	return s
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func body(n int) ([]byte, string) {
	b := bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n]
	h := sha256.Sum256(b)
	return b, hex.EncodeToString(h[:])
}

// failAfter yields n bytes of r, then fails.
type failAfter struct {
	r io.Reader
	n int
}

var errDisk = errors.New("disk read failed")

func (f *failAfter) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errDisk
	}
	p = p[:min(len(p), f.n)]
	n, err := f.r.Read(p)
	f.n -= n
	return n, err
}

// serverFacts are what runFacts expects where S3 servers differ in ways
// the appliance does not depend on.
type serverFacts struct {
	// SinglePartChecksumType is the x-amz-checksum-type HEAD returns for
	// a single-part object: FULL_OBJECT on S3 and MinIO. Nothing in the
	// store reads it.
	SinglePartChecksumType s3types.ChecksumType
}

// s3Facts are AWS S3's (and MinIO's) answers.
var s3Facts = serverFacts{SinglePartChecksumType: s3types.ChecksumTypeFullObject}

// runFacts runs as TestS3/Facts, on TestS3's MinIO, and as
// TestSeaweedFS/Facts (the providers build tag); want says where the
// server differs from S3.
func runFacts(t *testing.T, m harness.S3Server, want serverFacts) {
	const large = 12 << 20 // three 5 MiB parts

	t.Run("ServerVerifiesSingleSHA256", func(t *testing.T) {
		s := newFactsS3(t, m, "")
		s.SetVerifyLocally(false) // reach the server with a wrong checksum
		b, _ := body(1000)
		_, wrong := body(999)
		_, err := s.Put(testCtx(t), objstore.PutInput{Key: "k", Body: bytes.NewReader(b), Size: int64(len(b)), SHA256: wrong})
		require.ErrorIs(t, err, objstore.ErrChecksumMismatch)
		var apiErr smithy.APIError
		require.ErrorAs(t, err, &apiErr)
		require.True(t, objstore.IsChecksumCode(apiErr.ErrorCode()), "code %s", apiErr.ErrorCode())
		t.Logf("the server rejects a wrong x-amz-checksum-sha256 with %s", apiErr.ErrorCode())
		require.False(t, objstore.IsRetryable(err))
		_, err = s.Head(testCtx(t), "k")
		require.ErrorIs(t, err, objstore.ErrNotFound)
	})

	t.Run("MultipartNeedsLocalVerification", func(t *testing.T) {
		// Without the verifying reader a multipart upload with a wrong
		// SHA-256 succeeds: the server checks each part against the
		// checksum the SDK computed from the same bytes, not against ours.
		s := newFactsS3(t, m, "")
		s.SetVerifyLocally(false)
		b, _ := body(large)
		_, wrong := body(1)
		o, err := s.Put(testCtx(t), objstore.PutInput{Key: "k", Body: bytes.NewReader(b), Size: large, SHA256: wrong})
		require.NoError(t, err)
		require.Equal(t, wrong, o.SHA256)
	})

	t.Run("StoredChecksums", func(t *testing.T) {
		s := newFactsS3(t, m, "p")
		tests := []struct {
			name       string
			size       int
			wantType   s3types.ChecksumType
			wantSuffix string // composite checksums end in -<parts>
		}{
			{"single", 1 << 20, want.SinglePartChecksumType, ""},
			{"multipart", large, s3types.ChecksumTypeComposite, "-3"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				b, sum := body(tc.size)
				o, err := s.Put(testCtx(t), objstore.PutInput{Key: tc.name, Body: bytes.NewReader(b), Size: int64(tc.size), SHA256: sum})
				require.NoError(t, err)
				head, err := s.RawClient().HeadObject(testCtx(t), &s3.HeadObjectInput{
					Bucket: aws.String(s.Bucket()), Key: aws.String(s.FullKey(tc.name)),
					ChecksumMode: s3types.ChecksumModeEnabled,
				})
				require.NoError(t, err)
				require.Equal(t, tc.wantType, head.ChecksumType)
				if tc.wantSuffix == "" {
					got := aws.ToString(head.ChecksumSHA256)
					require.Equal(t, objstore.SHA256Base64(sum), got, "the server holds our whole-object SHA-256")
					require.NotContains(t, o.ETag, "-")
				} else {
					got := aws.ToString(head.ChecksumCRC32C)
					require.Empty(t, aws.ToString(head.ChecksumSHA256), "parts carry CRC32C, not a second SHA-256")
					require.True(t, strings.HasSuffix(got, tc.wantSuffix), "composite CRC32C checksum %q", got)
					require.True(t, strings.HasSuffix(o.ETag, tc.wantSuffix), "multipart ETag %q", o.ETag)
				}
			})
		}
	})

	t.Run("TransferManagerAbortsOnBodyError", func(t *testing.T) {
		// The transfer manager by itself (no second abort from Put): a body
		// error after the first part has gone up aborts the upload.
		s := newFactsS3(t, m, "")
		b, _ := body(large)
		_, err := s.TransferManager().UploadObject(testCtx(t), &transfermanager.UploadObjectInput{
			Bucket: aws.String(s.Bucket()), Key: aws.String("k"),
			Body: &failAfter{r: bytes.NewReader(b), n: 7 << 20},
		})
		require.ErrorIs(t, err, errDisk)
		var mpErr transfermanager.MultipartUploadError
		require.ErrorAs(t, err, &mpErr)
		require.NotEmpty(t, mpErr.UploadID())
		ups, err := s.ListMultipartUploads(testCtx(t))
		require.NoError(t, err)
		require.Empty(t, ups)
	})

	t.Run("TransferManagerWithoutFailTimeoutLeaksOnCancel", func(t *testing.T) {
		// Without FailTimeout the transfer manager aborts on the caller's
		// context; once that is cancelled the abort fails and the upload
		// stays open. NewS3 sets FailTimeout and Put aborts again on a fresh
		// context; AbortStale is the janitor for anything left anyway.
		s := newFactsS3(t, m, "")
		b, _ := body(large)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		_, err := s.TransferManager().UploadObject(ctx, &transfermanager.UploadObjectInput{
			Bucket: aws.String(s.Bucket()), Key: aws.String("k"),
			Body: &cancelAfter{r: bytes.NewReader(b), n: 7 << 20, cancel: cancel},
		}, func(o *transfermanager.Options) { o.FailTimeout = 0 })
		// The failed abort replaces the error, formatting the cause with %v:
		// context.Canceled is not in the chain (Put restores it).
		require.ErrorContains(t, err, "failed to abort multipart upload")
		require.NotErrorIs(t, err, context.Canceled)
		ups, err := s.ListMultipartUploads(testCtx(t))
		require.NoError(t, err)
		require.Len(t, ups, 1, "the upload is left open")

		n, err := s.AbortStale(testCtx(t), 0)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		ups, err = s.ListMultipartUploads(testCtx(t))
		require.NoError(t, err)
		require.Empty(t, ups)
	})

	t.Run("TransferManagerDefaultChecksumIsCRC32", func(t *testing.T) {
		s := newFactsS3(t, m, "")
		tm := transfermanager.New(s.RawClient(), func(o *transfermanager.Options) { o.PartSizeBytes = objstore.MinPartSize })
		b, _ := body(large)
		_, err := tm.UploadObject(testCtx(t), &transfermanager.UploadObjectInput{
			Bucket: aws.String(s.Bucket()), Key: aws.String("k"), Body: bytes.NewReader(b),
		})
		require.NoError(t, err)
		head, err := s.RawClient().HeadObject(testCtx(t), &s3.HeadObjectInput{
			Bucket: aws.String(s.Bucket()), Key: aws.String("k"), ChecksumMode: s3types.ChecksumModeEnabled,
		})
		require.NoError(t, err)
		require.NotEmpty(t, aws.ToString(head.ChecksumCRC32))
		require.Empty(t, aws.ToString(head.ChecksumSHA256))
	})

	t.Run("PayloadSigning", func(t *testing.T) {
		// Over http:// the SDK signs each PUT body's SHA-256 unless told
		// otherwise; SignPayload false sends UNSIGNED-PAYLOAD and spares
		// that pass. Either way the server gets a checksum header it
		// verifies, and the object arrives with its crc32c metadata.
		for _, sign := range []bool{false, true} {
			t.Run(fmt.Sprintf("SignPayload=%v", sign), func(t *testing.T) {
				var mu sync.Mutex
				seen := map[string][]string{} // operation -> x-amz-content-sha256 values
				target, err := url.Parse(m.Endpoint)
				require.NoError(t, err)
				proxy := httputil.NewSingleHostReverseProxy(target)
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.Method == http.MethodPut && strings.Count(strings.Trim(r.URL.Path, "/"), "/") > 0 { // an object, not the bucket
						op := "PutObject"
						if r.URL.Query().Has("partNumber") {
							op = "UploadPart"
						}
						mu.Lock()
						seen[op] = append(seen[op], r.Header.Get("X-Amz-Content-Sha256"))
						mu.Unlock()
					}
					proxy.ServeHTTP(w, r)
				}))
				t.Cleanup(srv.Close)
				s, err := objstore.NewS3(context.Background(), objstore.S3Options{
					Endpoint: srv.URL, Bucket: fmt.Sprintf("gs-facts-%d", factsBucketSeq.Add(1)), PathStyle: true,
					AccessKeyID: m.AccessKey, SecretAccessKey: m.SecretKey,
					PartSize: objstore.MinPartSize, SignPayload: sign,
				}, zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel))
				require.NoError(t, err)
				require.NoError(t, s.EnsureBucket(testCtx(t)))
				for _, n := range []int{1000, large} {
					b, sum := body(n)
					crc := fmt.Sprintf("%08x", crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
					key := fmt.Sprintf("k%d", n)
					_, err := s.Put(testCtx(t), objstore.PutInput{Key: key, Body: bytes.NewReader(b), Size: int64(n), SHA256: sum, CRC32C: crc})
					require.NoError(t, err)
					o, err := s.Head(testCtx(t), key)
					require.NoError(t, err)
					require.Equal(t, sum, o.SHA256)
					require.Equal(t, crc, o.CRC32C)
				}
				mu.Lock()
				defer mu.Unlock()
				require.Len(t, seen["PutObject"], 1)
				require.Len(t, seen["UploadPart"], 3)
				for op, hashes := range seen {
					for _, h := range hashes {
						if sign {
							require.Len(t, h, 64, "%s signs the body's SHA-256", op)
						} else {
							require.Equal(t, "UNSIGNED-PAYLOAD", h, op)
						}
					}
				}
			})
		}
		t.Run("ServerStillVerifiesUnsigned", func(t *testing.T) {
			s := newFactsS3(t, m, "") // SignPayload false
			s.SetVerifyLocally(false)
			b, _ := body(1000)
			_, wrong := body(999)
			_, err := s.Put(testCtx(t), objstore.PutInput{Key: "k", Body: bytes.NewReader(b), Size: 1000, SHA256: wrong})
			require.ErrorIs(t, err, objstore.ErrChecksumMismatch)
		})
	})

	t.Run("AbortStale", func(t *testing.T) {
		s := newFactsS3(t, m, "mine")
		other, err := objstore.NewS3(context.Background(), objstore.S3Options{
			Endpoint: m.Endpoint, Bucket: s.Bucket(), Prefix: "theirs", PathStyle: true,
			AccessKeyID: m.AccessKey, SecretAccessKey: m.SecretKey,
		}, zerolog.Nop())
		require.NoError(t, err)
		for _, key := range []string{"mine/a b.wav", "theirs/c.wav"} {
			_, err := s.RawClient().CreateMultipartUpload(testCtx(t), &s3.CreateMultipartUploadInput{
				Bucket: aws.String(s.Bucket()), Key: aws.String(key),
			})
			require.NoError(t, err)
		}
		ups, err := s.ListMultipartUploads(testCtx(t))
		require.NoError(t, err)
		require.Len(t, ups, 1)
		require.Equal(t, "a b.wav", ups[0].Key)
		require.WithinDuration(t, time.Now(), ups[0].Initiated, time.Minute)

		n, err := s.AbortStale(testCtx(t), time.Hour)
		require.NoError(t, err)
		require.Zero(t, n, "young uploads may belong to a running Put")

		time.Sleep(10 * time.Millisecond)
		n, err = s.AbortStale(testCtx(t), 5*time.Millisecond)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		ups, err = s.ListMultipartUploads(testCtx(t))
		require.NoError(t, err)
		require.Empty(t, ups)

		theirs, err := other.ListMultipartUploads(testCtx(t))
		require.NoError(t, err)
		require.Len(t, theirs, 1, "other prefixes are left alone")
		n, err = other.AbortStale(testCtx(t), 0)
		require.NoError(t, err)
		require.Equal(t, 1, n)
	})
}

// cancelAfter cancels a context after n bytes and keeps reading.
type cancelAfter struct {
	r      io.Reader
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n -= n
	if c.n <= 0 {
		c.cancel()
	}
	return n, err
}

// TestMinIOIgnoresConditionalDeletes pins down what the pinned MinIO does
// with If-Match on DeleteObject: it deletes whatever is there. The
// appliance's remote deletes therefore HEAD the key just before and
// compare the ETag (transfer.Trash.TrashRemote); on servers that honor
// the header (versitygw, the memory store) DeleteIfMatch closes the
// window left between that HEAD and the delete. When this fails, MinIO
// has started to honor it: run storetest.RunConditionalDelete on it too.
func TestMinIOIgnoresConditionalDeletes(t *testing.T) {
	m := harness.StartMinIO(t)
	s := newFactsS3(t, m.S3Server, "")
	b := []byte("probe")
	sum := sha256.Sum256(b)
	_, err := s.Put(testCtx(t), objstore.PutInput{Key: "k.mp3", Body: bytes.NewReader(b), Size: int64(len(b)), SHA256: hex.EncodeToString(sum[:])})
	require.NoError(t, err)
	require.NoError(t, s.DeleteIfMatch(testCtx(t), "k.mp3", "0123456789abcdef0123456789abcdef"))
	_, err = s.Head(testCtx(t), "k.mp3")
	require.ErrorIs(t, err, objstore.ErrNotFound, "MinIO deleted the object despite a wrong If-Match")
	ok, why := s.ConditionalDeletes()
	require.True(t, ok, "the header was not refused, only ignored: %s", why)
}
