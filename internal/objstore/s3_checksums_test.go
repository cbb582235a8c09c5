package objstore_test

import (
	"bytes"
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"genesissync/internal/objstore"
	"genesissync/tests/harness"
)

// TestChecksumHeadersRefused: a server that refuses every request with a
// checksum header (Backblaze B2 until mid-2025, emulated by a proxy in
// front of MinIO) costs one failed request, after which the store sends
// none and uploads, multipart ones too, and downloads work; the probe
// finds out before the first upload does.
func TestChecksumHeadersRefused(t *testing.T) {
	m := harness.StartMinIO(t)
	p := harness.StartChecksumRefusingProxy(t, m.Endpoint)
	bucket := newBucket()
	opts := s3Options(m.S3Server, bucket)
	require.NoError(t, newS3(t, opts).EnsureBucket(ctxT(t)))
	opts.Endpoint = p.Endpoint

	t.Run("LearnedFromAnUpload", func(t *testing.T) {
		s := newS3(t, opts)
		on, _ := s.ChecksumHeaders()
		require.True(t, on)
		small := bytes.Repeat([]byte("jingle "), 1000)
		_, err := s.Put(ctxT(t), putInput("a.mp3", small))
		require.ErrorIs(t, err, objstore.ErrChecksumHeadersRefused)
		on, why := s.ChecksumHeaders()
		require.False(t, on)
		require.Contains(t, why, "Unsupported header")
		refused := p.Refused()

		_, err = s.Put(ctxT(t), putInput("a.mp3", small))
		require.NoError(t, err, "tried again without checksum headers")
		big := bytes.Repeat([]byte("long track "), 12<<20/11) // 3 parts
		_, err = s.Put(ctxT(t), putInput("b.mp3", big))
		require.NoError(t, err, "multipart without checksum headers")
		for key, want := range map[string][]byte{"a.mp3": small, "b.mp3": big} {
			rc, o, err := s.Get(ctxT(t), key)
			require.NoError(t, err)
			got, err := io.ReadAll(rc)
			rc.Close()
			require.NoError(t, err)
			require.Equal(t, want, got)
			require.NotEmpty(t, o.SHA256, "our metadata still carries the sha256")
		}
		require.Equal(t, refused, p.Refused(), "nothing refused once the headers were dropped")
	})

	t.Run("LearnedFromADownload", func(t *testing.T) {
		s := newS3(t, opts)
		_, _, err := s.Get(ctxT(t), "a.mp3") // x-amz-checksum-mode
		require.ErrorIs(t, err, objstore.ErrChecksumHeadersRefused)
		rc, _, err := s.Get(ctxT(t), "a.mp3")
		require.NoError(t, err)
		rc.Close()
	})

	t.Run("LearnedFromTheProbe", func(t *testing.T) {
		s := newS3(t, opts)
		caps, err := s.Probe(ctxT(t))
		require.NoError(t, err)
		require.Equal(t, objstore.TriNo, caps.ChecksumSHA256.State, caps.ChecksumSHA256.Reason)
		require.Equal(t, objstore.TriNo, caps.ChecksumCRC32C.State, caps.ChecksumCRC32C.Reason)
		require.Equal(t, objstore.TriYes, caps.ConditionalCreate.State, "the rest of the probe is unaffected: %s", caps.ConditionalCreate.Reason)
		on, why := s.ChecksumHeaders()
		require.False(t, on)
		require.Contains(t, why, "capability probe")
		refused := p.Refused()
		_, err = s.Put(ctxT(t), putInput("c.mp3", []byte("after the probe")))
		require.NoError(t, err, "the first upload goes without checksum headers")
		require.Equal(t, refused, p.Refused())
	})
}
