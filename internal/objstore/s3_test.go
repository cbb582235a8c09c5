package objstore_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"genesissync/internal/objstore"
	"genesissync/internal/objstore/storetest"
	"genesissync/tests/harness"
)

var bucketSeq atomic.Int64

// newBucket returns the name of a bucket not used before; EnsureBucket
// creates it.
func newBucket() string {
	return fmt.Sprintf("gs-test-%d", bucketSeq.Add(1))
}

// s3Options are the store's options for bucket on the test server srv.
func s3Options(srv harness.S3Server, bucket string) objstore.S3Options {
	return objstore.S3Options{
		Endpoint:        srv.Endpoint,
		Region:          "us-east-1",
		Bucket:          bucket,
		PathStyle:       true,
		AccessKeyID:     srv.AccessKey,
		SecretAccessKey: srv.SecretKey,
		PartSize:        objstore.MinPartSize, // the suite's 12 MiB objects span 3 parts
		PartConcurrency: 2,
	}
}

// newBucketS3 returns a store under prefix on a new bucket of srv.
func newBucketS3(t *testing.T, srv harness.S3Server, prefix string) *objstore.S3 {
	t.Helper()
	opts := s3Options(srv, newBucket())
	opts.Prefix = prefix
	s := newS3(t, opts)
	require.NoError(t, s.EnsureBucket(ctxT(t)))
	return s
}

// runServerSuite runs, against srv, what every S3 server next to MinIO
// (versitygw, SeaweedFS) is held to the same way: the conformance suite,
// copies, metadata replacement, multipart copy (stores under
// multipartPrefix) and version listings on a versioned bucket.
func runServerSuite(t *testing.T, srv harness.S3Server, multipartPrefix string) {
	t.Run("Conformance", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) objstore.Store {
			s := newBucketS3(t, srv, "studio")
			require.Equal(t, "studio/", s.Prefix())
			return s
		})
	})

	t.Run("CopyAndContentType", func(t *testing.T) { runCopyAndContentType(t, newBucketS3(t, srv, "")) })
	t.Run("ReplaceMetadata", func(t *testing.T) { runReplaceMetadata(t, newBucketS3(t, srv, "")) })
	t.Run("MultipartCopy", func(t *testing.T) {
		runMultipartCopy(t, func(t *testing.T) *objstore.S3 { return newBucketS3(t, srv, multipartPrefix) })
	})

	t.Run("Versions", func(t *testing.T) {
		s := newBucketS3(t, srv, "studio")
		require.NoError(t, s.EnableVersioning(ctxT(t)))
		on, err := s.Versioning(ctxT(t))
		require.NoError(t, err)
		require.True(t, on)
		runListVersions(t, s)
	})
}

func newS3(t *testing.T, opts objstore.S3Options) *objstore.S3 {
	t.Helper()
	s, err := objstore.NewS3(context.Background(), opts, zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel))
	require.NoError(t, err)
	return s
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func putInput(key string, b []byte) objstore.PutInput {
	h := sha256.Sum256(b)
	return objstore.PutInput{Key: key, Body: bytes.NewReader(b), Size: int64(len(b)), SHA256: hex.EncodeToString(h[:])}
}

// TestS3 runs everything that needs a real server against one MinIO.
func TestS3(t *testing.T) {
	m := harness.StartMinIO(t)

	t.Run("Conformance", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) objstore.Store {
			s := newBucketS3(t, m.S3Server, "studio")
			require.Equal(t, "studio/", s.Prefix())
			return s
		})
	})

	t.Run("NoPrefix", func(t *testing.T) {
		s := newBucketS3(t, m.S3Server, "")
		_, err := s.Put(ctxT(t), putInput("top.mp3", []byte("top")))
		require.NoError(t, err)
		var keys []string
		require.NoError(t, s.List(ctxT(t), "", func(o objstore.Object) error {
			keys = append(keys, o.Key)
			return nil
		}))
		require.Equal(t, []string{"top.mp3"}, keys)
	})

	t.Run("PrefixIsolation", func(t *testing.T) {
		bucket := newBucket()
		a, b := s3Options(m.S3Server, bucket), s3Options(m.S3Server, bucket)
		a.Prefix, b.Prefix = "/a", "a2/"
		sa, sb := newS3(t, a), newS3(t, b)
		require.NoError(t, sa.EnsureBucket(ctxT(t)))
		_, err := sa.Put(ctxT(t), putInput("x", []byte("a")))
		require.NoError(t, err)
		_, err = sb.Head(ctxT(t), "x")
		require.ErrorIs(t, err, objstore.ErrNotFound)
		require.NoError(t, sb.List(ctxT(t), "", func(o objstore.Object) error {
			return fmt.Errorf("unexpected %q", o.Key)
		}))
	})

	t.Run("EnsureBucketAndPing", func(t *testing.T) {
		s := newS3(t, s3Options(m.S3Server, newBucket()))
		require.Equal(t, m.Endpoint, s.Endpoint())
		err := s.Ping(ctxT(t))
		require.Error(t, err)
		require.False(t, objstore.IsRetryable(err), "missing bucket: %v", err)
		require.NoError(t, s.EnsureBucket(ctxT(t)))
		require.NoError(t, s.EnsureBucket(ctxT(t)), "idempotent")
		require.NoError(t, s.Ping(ctxT(t)))
	})

	t.Run("BadCredentials", func(t *testing.T) {
		bucket := newBucket()
		require.NoError(t, newS3(t, s3Options(m.S3Server, bucket)).EnsureBucket(ctxT(t)))
		tests := []struct {
			name, id, secret, code string
		}{
			{"wrong secret", m.AccessKey, "not-the-secret", "SignatureDoesNotMatch"},
			{"unknown key", "nobody", "not-the-secret", "InvalidAccessKeyId"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				opts := s3Options(m.S3Server, bucket)
				opts.AccessKeyID, opts.SecretAccessKey = tc.id, tc.secret
				s := newS3(t, opts)
				_, err := s.Put(ctxT(t), putInput("k", []byte("x")))
				require.ErrorContains(t, err, tc.code)
				require.False(t, objstore.IsRetryable(err))
				require.NotContains(t, err.Error(), tc.secret, "errors must not carry secrets")
				require.NotContains(t, err.Error(), m.SecretKey)
			})
		}
	})

	t.Run("CredentialSources", func(t *testing.T) {
		bucket := newBucket()
		require.NoError(t, newS3(t, s3Options(m.S3Server, bucket)).EnsureBucket(ctxT(t)))
		credFile := filepath.Join(t.TempDir(), "credentials")
		require.NoError(t, os.WriteFile(credFile, []byte(fmt.Sprintf(
			"[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n\n[studio]\naws_access_key_id = %s\naws_secret_access_key = %s\n",
			m.AccessKey, m.SecretKey, m.AccessKey, m.SecretKey)), 0o600))
		// Wrong keys in the environment must not win over a chosen file.
		t.Setenv("AWS_ACCESS_KEY_ID", "from-env")
		t.Setenv("AWS_SECRET_ACCESS_KEY", "from-env-secret")

		tests := []struct {
			name       string
			file, prof string
			wantErr    string
		}{
			{"file and profile", credFile, "studio", ""},
			{"file default profile", credFile, "", ""},
			{"missing profile", credFile, "nope", "nope"},
			{"environment", "", "", "StatusCode: 403"}, // the env keys are used, and wrong
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				opts := s3Options(m.S3Server, bucket)
				opts.AccessKeyID, opts.SecretAccessKey = "", ""
				opts.CredentialsFile, opts.Profile = tc.file, tc.prof
				s, err := objstore.NewS3(context.Background(), opts, zerolog.Nop())
				if err == nil {
					err = s.Ping(ctxT(t))
				}
				if tc.wantErr != "" {
					require.ErrorContains(t, err, tc.wantErr)
					return
				}
				require.NoError(t, err)
			})
		}
	})

	t.Run("CancelledMultipartIsAborted", func(t *testing.T) {
		s := newBucketS3(t, m.S3Server, "")
		b := bytes.Repeat([]byte("radio"), storetest.LargeSize/5)
		in := putInput("cancelled.wav", b)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		in.Body = &cancellingReader{r: bytes.NewReader(b), after: 7 << 20, cancel: cancel}
		_, err := s.Put(ctx, in)
		require.ErrorIs(t, err, context.Canceled)
		require.False(t, objstore.IsRetryable(err))
		ups, err := s.ListMultipartUploads(ctxT(t))
		require.NoError(t, err)
		require.Empty(t, ups)
		_, err = s.Head(ctxT(t), "cancelled.wav")
		require.ErrorIs(t, err, objstore.ErrNotFound)
	})

	t.Run("CopyAndContentType", func(t *testing.T) { runCopyAndContentType(t, newBucketS3(t, m.S3Server, "")) })
	t.Run("ReplaceMetadata", func(t *testing.T) { runReplaceMetadata(t, newBucketS3(t, m.S3Server, "")) })

	t.Run("MultipartCopy", func(t *testing.T) {
		runMultipartCopy(t, func(t *testing.T) *objstore.S3 { return newBucketS3(t, m.S3Server, "studio") })
	})

	t.Run("Versions", func(t *testing.T) {
		s := newBucketS3(t, m.S3Server, "")
		require.NoError(t, s.EnableVersioning(ctxT(t)))
		runListVersions(t, s)
	})

	t.Run("Facts", func(t *testing.T) {
		runFacts(t, m.S3Server, s3Facts)
	})

	// Last: it stops the server.
	t.Run("StopAndRestart", func(t *testing.T) {
		opts := s3Options(m.S3Server, newBucket())
		opts.MaxAttempts = 1 // classify the first failure, don't wait out backoff
		s := newS3(t, opts)
		require.NoError(t, s.EnsureBucket(ctxT(t)))
		_, err := s.Put(ctxT(t), putInput("survivor.mp3", []byte("still here")))
		require.NoError(t, err)

		m.Stop()
		_, err = s.Head(ctxT(t), "survivor.mp3")
		require.Error(t, err)
		require.True(t, objstore.IsRetryable(err), "server down must be retryable: %v", err)
		require.Error(t, s.Ping(ctxT(t)))

		m.Restart(t)
		o, err := s.Head(ctxT(t), "survivor.mp3")
		require.NoError(t, err)
		require.Equal(t, int64(len("still here")), o.Size)
	})
}

// cancellingReader cancels a context after `after` bytes and keeps reading,
// as a Put cancelled by shutdown would see.
type cancellingReader struct {
	r      io.Reader
	after  int64
	n      int64
	cancel context.CancelFunc
}

func (c *cancellingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n >= c.after {
		c.cancel()
	}
	return n, err
}

func TestNewS3Options(t *testing.T) {
	tests := []struct {
		name    string
		opts    objstore.S3Options
		wantErr string
	}{
		{"no bucket", objstore.S3Options{}, "bucket is required"},
		{"endpoint without scheme", objstore.S3Options{Bucket: "b", Endpoint: "127.0.0.1:9000"}, "want an http:// or https:// URL"},
		{"half credentials", objstore.S3Options{Bucket: "b", AccessKeyID: "id"}, "must be set together"},
		{"small parts", objstore.S3Options{Bucket: "b", PartSize: 1 << 20}, "part size"},
		{"missing credentials file", objstore.S3Options{Bucket: "b", CredentialsFile: "/nonexistent/creds"}, "credentials file"},
		{"ok", objstore.S3Options{Bucket: "b", Endpoint: "http://127.0.0.1:9000/", AccessKeyID: "id", SecretAccessKey: "secret"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := objstore.NewS3(context.Background(), tc.opts, zerolog.Nop())
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, "http://127.0.0.1:9000", s.Endpoint())
		})
	}
}
