package objstore_test

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/require"

	"genesissync/internal/objstore"
)

func TestCopySourceEncoding(t *testing.T) {
	tests := []struct {
		bucket, key, want string
	}{
		{"b", "plain/Track_01-a.b~c.mp3", "b/plain/Track_01-a.b~c.mp3"},
		// "+" must not reach the server bare: S3 reads it as a space.
		{"b", "Simon + Garfunkel.mp3", "b/Simon%20%2B%20Garfunkel.mp3"},
		{"b", "a+b.mp3", "b/a%2Bb.mp3"},
		{"b", "100%.txt", "b/100%25.txt"},
		{"b", "x&y=z,w;v:u@t$s.mp3", "b/x%26y%3Dz%2Cw%3Bv%3Au%40t%24s.mp3"},
		{"b", "(live) é ü.wav", "b/%28live%29%20%C3%A9%20%C3%BC.wav"},
		{"b", "dir/sub dir/f?#.mp3", "b/dir/sub%20dir/f%3F%23.mp3"},
		{"b", "studio/a/", "b/studio/a/"},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			require.Equal(t, tc.want, objstore.CopySource(tc.bucket, tc.key))
		})
	}
}

func TestDecodeListedKey(t *testing.T) {
	tests := []struct {
		name    string
		enc     s3types.EncodingType
		raw     string
		want    string
		wantErr bool
	}{
		{"encoded plus is a space", s3types.EncodingTypeUrl, "p+q.txt", "p q.txt", false},
		{"encoded %2B is a plus", s3types.EncodingTypeUrl, "p%2Bq.txt", "p+q.txt", false},
		{"encoded percent", s3types.EncodingTypeUrl, "100%25.txt", "100%.txt", false},
		{"encoded bad escape", s3types.EncodingTypeUrl, "100%.txt", "", true},
		// A server that ignored encoding-type=url (versitygw v1.8.0) says
		// so by leaving EncodingType empty: its keys are raw.
		{"raw plus stays", "", "p+q.txt", "p+q.txt", false},
		{"raw percent stays", "", "100%.txt", "100%.txt", false},
		{"raw %2B stays", "", "p%2Bq.txt", "p%2Bq.txt", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := objstore.DecodeKey(tc.enc, tc.raw)
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestContentType(t *testing.T) {
	tests := map[string]string{
		"Music/Track.mp3":   "audio/mpeg",
		"Music/TRACK.MP3":   "audio/mpeg",
		"spots/a.wav":       "audio/wav",
		"b.flac":            "audio/flac",
		"c.m4a":             "audio/mp4",
		"d.ogg":             "audio/ogg",
		"Playlists/x.m3u":   "audio/x-mpegurl",
		"Playlists/x.m3u8":  "application/vnd.apple.mpegurl",
		"Playlists/x.pls":   "audio/x-scpls",
		"cover.jpg":         "image/jpeg",
		"cover.png":         "image/png",
		"notes.txt":         "text/plain; charset=utf-8",
		"no-extension":      objstore.DefaultContentType,
		"archive.tar.zst":   objstore.DefaultContentType,
		"dir.mp3/file":      objstore.DefaultContentType,
		".genesissync-mark": objstore.DefaultContentType,
	}
	for key, want := range tests {
		require.Equal(t, want, objstore.ContentType(key), key)
	}
}

// runCopyAndContentType checks, on a real server, that uploads carry the
// Content-Type of their extension (single part and multipart), that a
// server-side copy keeps it and the metadata, and that keys with "+",
// "%" and other reserved characters copy to exactly themselves.
func runCopyAndContentType(t *testing.T, s *objstore.S3) {
	small := []byte("a spot")
	large := bytes.Repeat([]byte("radio"), (12<<20)/5) // 3 parts of 5 MiB

	for _, tc := range []struct {
		key, want string
		body      []byte
	}{
		{"Spots/a+b (live) é.mp3", "audio/mpeg", small},
		{"Music/Simon + Garfunkel.flac", "audio/flac", large},
		{"100%.wav", "audio/wav", small},
		{"x&y=z,w;v:u@t$s.bin", objstore.DefaultContentType, small},
	} {
		t.Run(tc.key, func(t *testing.T) {
			put, err := s.Put(ctxT(t), putInput(tc.key, tc.body))
			require.NoError(t, err)
			require.Equal(t, tc.want, put.ContentType)
			head, err := s.Head(ctxT(t), tc.key)
			require.NoError(t, err)
			require.Equal(t, tc.want, head.ContentType, "stored Content-Type")

			dst := "copies/" + tc.key
			_, err = s.Copy(ctxT(t), tc.key, dst, put.ETag)
			require.NoError(t, err, "copy of %q", tc.key)
			rc, o, err := s.Get(ctxT(t), dst)
			require.NoError(t, err)
			got, err := io.ReadAll(rc)
			require.NoError(t, rc.Close())
			require.NoError(t, err)
			require.True(t, bytes.Equal(tc.body, got), "the copy holds the source's bytes")
			require.Equal(t, tc.want, o.ContentType, "the copy keeps the Content-Type")
			require.Equal(t, put.SHA256, o.SHA256, "the copy keeps the metadata")

			var listed []string
			require.NoError(t, s.List(ctxT(t), "copies/", func(o objstore.Object) error {
				listed = append(listed, o.Key)
				return nil
			}))
			require.Contains(t, listed, dst, "listed back byte for byte")
		})
	}
}

// runReplaceMetadata checks the backfill of objects another tool wrote
// (no metadata, a generic Content-Type) on a real server: a copy onto
// itself gives them our metadata and the extension's Content-Type, keeps
// their bytes, and happens only while the object is the one proven.
func runReplaceMetadata(t *testing.T, s *objstore.S3) {
	for _, tc := range []struct {
		key  string
		size int
	}{
		{"Music/Simon + Garfunkel 100%.mp3", 30_000},
		{"Music/multipart.flac", 12 << 20}, // 3 parts through the transfer manager
	} {
		t.Run(tc.key, func(t *testing.T) {
			body := bytes.Repeat([]byte("x"), tc.size)
			foreign := putForeign(t, s, tc.key, body)
			require.Empty(t, foreign.SHA256)

			want := putInput(tc.key, body)
			mtime := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
			md := objstore.Metadata{SHA256: want.SHA256, CRC32C: "0a1b2c3d", Mtime: mtime}
			_, err := s.ReplaceMetadata(ctxT(t), tc.key, "0123456789abcdef0123456789abcdef", int64(tc.size), md)
			require.ErrorIs(t, err, objstore.ErrPreconditionFailed, "another object than the one proven")

			o, err := s.ReplaceMetadata(ctxT(t), tc.key, foreign.ETag, int64(tc.size), md)
			require.NoError(t, err)
			h, err := s.Head(ctxT(t), tc.key)
			require.NoError(t, err)
			require.Equal(t, o.ETag, h.ETag, "the copy's ETag is what ReplaceMetadata returned")
			require.Equal(t, want.SHA256, h.SHA256)
			require.Equal(t, "0a1b2c3d", h.CRC32C)
			require.True(t, mtime.Equal(h.Mtime))
			require.Equal(t, objstore.ContentType(tc.key), h.ContentType)
			rc, _, err := s.Get(ctxT(t), tc.key)
			require.NoError(t, err)
			got, err := io.ReadAll(rc)
			require.NoError(t, rc.Close())
			require.NoError(t, err)
			require.True(t, bytes.Equal(body, got), "the bytes are unchanged")
		})
	}
}

// putForeign uploads body at key the way another tool does: through the
// SDK's transfer manager with its default part size (multipart above
// it), no user metadata, the SDK's default Content-Type.
func putForeign(t *testing.T, s *objstore.S3, key string, body []byte) objstore.Object {
	t.Helper()
	_, err := s.TransferManager().UploadObject(ctxT(t), &transfermanager.UploadObjectInput{
		Bucket: aws.String(s.Bucket()), Key: aws.String(s.FullKey(key)), Body: bytes.NewReader(body),
	}, func(o *transfermanager.Options) { o.PartSizeBytes = 5 << 20; o.MultipartUploadThreshold = 5 << 20 })
	require.NoError(t, err)
	o, err := s.Head(ctxT(t), key)
	require.NoError(t, err)
	return o
}
