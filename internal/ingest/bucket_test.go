package ingest

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/config"
	"genesissync/internal/objstore"
	"genesissync/internal/scan"
)

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// multipartETag is the ETag S3 gives body uploaded in parts of part bytes.
func multipartETag(body []byte, part int) string {
	outer := md5.New()
	n := 0
	for off := 0; off < len(body); off += part {
		s := md5.Sum(body[off:min(off+part, len(body))])
		outer.Write(s[:])
		n++
	}
	return fmt.Sprintf("%x-%d", outer.Sum(nil), n)
}

func pattern(seed byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7+i/251)
	}
	return b
}

func putOurs(t *testing.T, m *objstore.Memory, key string, data []byte, mtime time.Time) {
	t.Helper()
	_, err := m.Put(context.Background(), objstore.PutInput{Key: key, Body: bytes.NewReader(data), Size: int64(len(data)), SHA256: sha(data), Mtime: mtime})
	require.NoError(t, err)
}

// sourceBucket is a bucket as other tools and another appliance left it.
func sourceBucket(t *testing.T) (*objstore.Memory, map[string][]byte) {
	m := objstore.NewMemory()
	old := time.Date(2020, 2, 3, 4, 5, 6, 0, time.UTC)
	files := map[string][]byte{
		"Music/OURS.mp3":        pattern(1, 70_000),    // sha256 metadata
		"Music/mc single.mp3":   pattern(2, 50_000),    // single-part ETag
		"Music/rclone big.mp3":  pattern(3, 11<<20+17), // multipart, 5 MiB parts
		"Music/odd parts.mp3":   pattern(4, 3<<20),     // a multipart ETag no part size reproduces
		"Simon + Garfunkel.mp3": pattern(5, 1234),
	}
	putOurs(t, m, "Music/OURS.mp3", files["Music/OURS.mp3"], old)
	m.PutForeign("Music/mc single.mp3", files["Music/mc single.mp3"], "")
	m.PutForeign("Music/rclone big.mp3", files["Music/rclone big.mp3"], multipartETag(files["Music/rclone big.mp3"], 5<<20))
	m.PutForeign("Music/odd parts.mp3", files["Music/odd parts.mp3"], multipartETag(files["Music/odd parts.mp3"], 1<<20+3))
	m.PutForeign("Simon + Garfunkel.mp3", files["Simon + Garfunkel.mp3"], "")
	// Not share content, or not for this share.
	m.PutForeign(".genesissync/probe/x", []byte("probe"), "")
	m.PutForeign(".genesissync-trash/2024/old.mp3", []byte("trash"), "")
	m.PutForeign(".genesissync-share", []byte("marker"), "")
	m.PutForeign("Music/", nil, "")                    // a directory marker
	m.PutForeign("Music/Thumbs.db", []byte("x"), "")   // excluded
	m.PutForeign("Bad/CON.mp3", []byte("x"), "")       // refused
	m.PutForeign("Bad/a:b.mp3", []byte("x"), "")       // refused
	m.PutForeign("Music/Ours.mp3", []byte("case"), "") // a case collision on Windows
	return m, files
}

func TestImportFromBucket(t *testing.T) {
	src, files := sourceBucket(t)
	share := t.TempDir()
	o := Options{Bucket: &BucketSource{Objects: src, Bucket: "old", Prefix: "station/"}, Root: share,
		Matcher: scan.NewMatcher(config.DefaultExcludes), UID: -1, GID: -1}

	dry := o
	dry.DryRun = true
	plan, err := Import(context.Background(), dry)
	require.NoError(t, err)
	entries, _ := os.ReadDir(share)
	require.Empty(t, entries, "a dry run writes nothing")

	res, err := Import(context.Background(), o)
	require.NoError(t, err)
	for _, r := range []Result{plan, res} {
		require.Equal(t, len(files), r.Copied, "%+v", r)
		require.Equal(t, 3, r.Refused, "%+v", r.Refusals) // CON, a:b, the case collision
		require.Zero(t, r.Failed, "%+v", r.Failures)
		require.Zero(t, r.Collided, "%+v", r.Collisions)
	}
	reasons := map[string]string{}
	for _, r := range res.Refusals {
		reasons[r.Source] = r.Reason
	}
	require.Contains(t, reasons["s3://old/station/Bad/CON.mp3"], "windows-reserved-name")
	require.Contains(t, reasons["s3://old/station/Bad/a:b.mp3"], "windows-illegal-char")
	require.Contains(t, reasons["s3://old/station/Music/Ours.mp3"], "case-collision")

	require.Equal(t, map[string]int{"sha256": 1, "etag-md5": 2, "etag-multipart": 1}, res.VerifiedBy)
	require.Equal(t, 1, res.NotVerified)
	require.EqualValues(t, len(files["Music/odd parts.mp3"]), res.NotVerifiedBytes)
	require.Len(t, res.Unverified, 1)
	require.Equal(t, "s3://old/station/Music/odd parts.mp3", res.Unverified[0].Source)
	require.True(t, strings.HasPrefix(res.Unverified[0].Reason, "not verified: "), res.Unverified[0].Reason)

	for key, data := range files {
		require.Equal(t, data, read(t, share, key), key)
	}
	fi, err := os.Stat(filepath.Join(share, "Music", "OURS.mp3"))
	require.NoError(t, err)
	require.True(t, fi.ModTime().Equal(time.Date(2020, 2, 3, 4, 5, 6, 0, time.UTC)), "the mtime metadata kept: %s", fi.ModTime())
	for _, p := range []string{".genesissync", ".genesissync-trash", ".genesissync-share", "Music/Thumbs.db", "Bad"} {
		_, err := os.Lstat(filepath.Join(share, filepath.FromSlash(p)))
		require.ErrorIs(t, err, os.ErrNotExist, p)
	}
	noTemp(t, share)

	// A rerun finds everything done, without reading an object.
	again, err := Import(context.Background(), o)
	require.NoError(t, err)
	require.Zero(t, again.Copied)
	require.Equal(t, len(files), again.Identical)
	require.Equal(t, map[string]int{"size-mtime": len(files)}, again.VerifiedBy)
}

// TestImportFromBucketIntoExisting: files already on the share are
// identical only when proven to hold the object's bytes, whatever their
// mtime; other bytes of the same size are a collision, left alone.
func TestImportFromBucketIntoExisting(t *testing.T) {
	src, files := sourceBucket(t)
	share := t.TempDir()
	now := time.Now()
	for key, data := range files {
		write(t, share, key, data, now) // same bytes, another mtime
	}
	other := bytes.Clone(files["Music/mc single.mp3"])
	other[100] ^= 1
	write(t, share, "Music/mc single.mp3", other, now)

	res, err := Import(context.Background(), Options{Bucket: &BucketSource{Objects: src, Bucket: "old"}, Root: share,
		Matcher: scan.NewMatcher(config.DefaultExcludes), UID: -1, GID: -1})
	require.NoError(t, err)
	require.Zero(t, res.Copied)
	require.Equal(t, len(files)-1, res.Identical)
	require.Equal(t, 1, res.Collided)
	require.Equal(t, "Music/mc single.mp3", res.Collisions[0].Path)
	require.Equal(t, other, read(t, share, "Music/mc single.mp3"), "never overwritten")
	// The unprovable multipart ETag: the object was read to decide.
	require.Equal(t, map[string]int{"sha256": 1, "etag-md5": 1, "etag-multipart": 1, "read": 1}, res.VerifiedBy)
}

// corrupting flips one byte of the body of the keys named, as a broken
// proxy or connection would.
type corrupting struct {
	*objstore.Memory
	keys map[string]bool
}

func (c corrupting) Get(ctx context.Context, key string) (io.ReadCloser, objstore.Object, error) {
	body, o, err := c.Memory.Get(ctx, key)
	if err != nil || !c.keys[key] {
		return body, o, err
	}
	b, err := io.ReadAll(body)
	body.Close()
	if err != nil {
		return nil, o, err
	}
	b[len(b)/2] ^= 0x40
	return io.NopCloser(bytes.NewReader(b)), o, nil
}

// TestImportFromBucketRefusesCorruptBytes: bytes that differ from the
// object's sha256 or its ETag on the way in fail the object, and nothing
// is published under its name; a stored object whose ETag is wrong fails
// the same way. Where nothing can prove the bytes, the import says so.
func TestImportFromBucketRefusesCorruptBytes(t *testing.T) {
	src, files := sourceBucket(t)
	bad := pattern(9, 4096)
	src.PutForeign("Music/lying etag.mp3", bad, hex.EncodeToString(make([]byte, 16)))
	share := t.TempDir()
	o := Options{Bucket: &BucketSource{Objects: corrupting{src, map[string]bool{
		"Music/OURS.mp3": true, "Music/mc single.mp3": true, "Music/rclone big.mp3": true, "Music/odd parts.mp3": true,
	}}, Bucket: "old"}, Root: share, Matcher: scan.NewMatcher(config.DefaultExcludes), UID: -1, GID: -1}
	res, err := Import(context.Background(), o)
	require.NoError(t, err)
	failed := map[string]string{}
	for _, f := range res.Failures {
		failed[f.Source] = f.Reason
	}
	require.Len(t, failed, 3, "%+v", res.Failures)
	require.Contains(t, failed["s3://old/Music/OURS.mp3"], "sha256")
	require.Contains(t, failed["s3://old/Music/mc single.mp3"], "ETag")
	require.Contains(t, failed["s3://old/Music/lying etag.mp3"], "ETag")
	for _, key := range []string{"Music/OURS.mp3", "Music/mc single.mp3", "Music/lying etag.mp3"} {
		_, err := os.Lstat(filepath.Join(share, filepath.FromSlash(key)))
		require.ErrorIs(t, err, os.ErrNotExist, "published although corrupt: %s", key)
	}
	noTemp(t, share)
	// Where the ETag proves nothing, corruption cannot be caught: the
	// object is imported, and the result says so. A multipart ETag that
	// the bytes do not reproduce is such a case: another part size could
	// (internal/etag never calls a multipart mismatch a difference).
	require.Equal(t, 2, res.NotVerified)
	unverified := []string{res.Unverified[0].Source, res.Unverified[1].Source}
	require.ElementsMatch(t, []string{"s3://old/Music/odd parts.mp3", "s3://old/Music/rclone big.mp3"}, unverified)
	require.Equal(t, files["Simon + Garfunkel.mp3"], read(t, share, "Simon + Garfunkel.mp3"))
}

// memTarget is a share's target on the same endpoint as a Memory source:
// CopyFrom copies the source object's bytes with the metadata given.
type memTarget struct {
	*objstore.Memory
	src    *objstore.Memory
	prefix string // the source's
	mu     sync.Mutex
	copies []string
}

func (m *memTarget) CopyFrom(ctx context.Context, srcBucket, srcKey, srcETag, dstKey string, size int64, md objstore.Metadata) (objstore.Object, error) {
	body, o, err := m.src.Get(ctx, strings.TrimPrefix(srcKey, m.prefix))
	if err != nil {
		return objstore.Object{}, err
	}
	defer body.Close()
	if o.ETag != srcETag {
		return objstore.Object{}, objstore.ErrPreconditionFailed
	}
	m.mu.Lock()
	m.copies = append(m.copies, dstKey)
	m.mu.Unlock()
	return m.Put(ctx, objstore.PutInput{Key: dstKey, Body: body, Size: size, SHA256: md.SHA256, CRC32C: md.CRC32C, Mtime: md.Mtime, IfAbsent: true})
}

// TestImportFromBucketCopiesToTarget: on the same endpoint every verified
// object goes to the target's key server-side with the share file's
// sha256; an unverified one does not, nor does a key the target holds
// already; a rerun copies nothing more.
func TestImportFromBucketCopiesToTarget(t *testing.T) {
	src, files := sourceBucket(t)
	share := t.TempDir()
	tgt := &memTarget{Memory: objstore.NewMemory(), src: src, prefix: "station/"}
	o := Options{Bucket: &BucketSource{Objects: src, Bucket: "old", Prefix: "station/", Target: tgt}, Root: share, Into: "Old",
		Matcher: scan.NewMatcher(config.DefaultExcludes), UID: -1, GID: -1}
	// Uploaded by the daemon already.
	putOurs(t, tgt.Memory, "Old/Simon + Garfunkel.mp3", files["Simon + Garfunkel.mp3"], time.Now())

	res, err := Import(context.Background(), o)
	require.NoError(t, err)
	require.Equal(t, len(files), res.Copied)
	require.Equal(t, len(files)-2, res.TargetCopied, "%+v", res.TargetNotes)
	require.Equal(t, 1, res.TargetPresent)
	require.Equal(t, 1, res.TargetSkipped)
	require.Equal(t, "s3://old/station/Music/odd parts.mp3", res.TargetNotes[0].Source)
	require.Contains(t, res.TargetNotes[0].Reason, "not verified")
	for key, data := range files {
		if key == "Music/odd parts.mp3" || key == "Simon + Garfunkel.mp3" {
			continue
		}
		h, err := tgt.Head(context.Background(), "Old/"+key)
		require.NoError(t, err, key)
		require.Equal(t, sha(data), h.SHA256, key)
		c := objstore.NewCRC32C()
		c.Write(data)
		require.Equal(t, hex.EncodeToString(c.Sum(nil)), h.CRC32C, key)
		fi, err := os.Stat(filepath.Join(share, "Old", filepath.FromSlash(key)))
		require.NoError(t, err)
		require.True(t, h.Mtime.Equal(fi.ModTime()), "%s: the copy has the share file's mtime", key)
	}
	_, err = tgt.Head(context.Background(), "Old/Music/odd parts.mp3")
	require.ErrorIs(t, err, objstore.ErrNotFound, "no sha256 put on bytes never proven")

	// Rerun: nothing copied again; the unverified one, now read and
	// proven equal to the share's file, is copied.
	tgt.copies = nil
	again, err := Import(context.Background(), o)
	require.NoError(t, err)
	require.Equal(t, len(files), again.Identical)
	require.Equal(t, []string{"Old/Music/odd parts.mp3"}, tgt.copies)
	require.Equal(t, len(files)-1, again.TargetPresent)
	require.Equal(t, 1, again.TargetCopied)
}

func TestParseBucketURL(t *testing.T) {
	for _, c := range []struct{ in, bucket, prefix, err string }{
		{in: "s3://old", bucket: "old"},
		{in: "s3://old/", bucket: "old"},
		{in: "s3://old/station", bucket: "old", prefix: "station/"},
		{in: "s3://old/station/Music 100%/", bucket: "old", prefix: "station/Music 100%/"},
		{in: "s3://old/a/../b", err: `".."`},
		{in: "s3://old/a//b", err: "empty"},
		{in: "https://old/a", err: "want s3://"},
		{in: "s3:///a", err: "want s3://"},
		{in: "old/a", err: "want s3://"},
	} {
		t.Run(c.in, func(t *testing.T) {
			b, p, err := ParseBucketURL(c.in)
			if c.err != "" {
				require.ErrorContains(t, err, c.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.bucket, b)
			require.Equal(t, c.prefix, p)
		})
	}
}

func TestSourceOptions(t *testing.T) {
	target := objstore.S3Options{Endpoint: "http://minio:9000/", Bucket: "station", Prefix: "studio/", PathStyle: true,
		AccessKeyID: "AK", SecretAccessKey: "SK", Region: "eu-1"}
	for _, c := range []struct {
		name string
		from From
		same bool
		want objstore.S3Options
		err  string
	}{
		{name: "same endpoint by default", from: From{URL: "s3://old/x"}, same: true,
			want: objstore.S3Options{Endpoint: "http://minio:9000/", Bucket: "old", Prefix: "x/", PathStyle: true, AccessKeyID: "AK", SecretAccessKey: "SK", Region: "eu-1"}},
		{name: "the same endpoint named", from: From{URL: "s3://old", Endpoint: "http://minio:9000"}, same: true,
			want: objstore.S3Options{Endpoint: "http://minio:9000/", Bucket: "old", PathStyle: true, AccessKeyID: "AK", SecretAccessKey: "SK", Region: "eu-1"}},
		{name: "elsewhere", from: From{URL: "s3://old/x", Endpoint: "https://nas:9000/", CredentialsFile: "/etc/genesissync/old.cred"},
			want: objstore.S3Options{Endpoint: "https://nas:9000", Bucket: "old", Prefix: "x/", PathStyle: true, CredentialsFile: "/etc/genesissync/old.cred", Region: "eu-1"}},
		{name: "another prefix of the target's bucket", from: From{URL: "s3://station/old"}, same: true,
			want: objstore.S3Options{Endpoint: "http://minio:9000/", Bucket: "station", Prefix: "old/", PathStyle: true, AccessKeyID: "AK", SecretAccessKey: "SK", Region: "eu-1"}},
		{name: "the target itself", from: From{URL: "s3://station/studio"}, err: "overlaps"},
		{name: "below the target", from: From{URL: "s3://station/studio/Music"}, err: "overlaps"},
		{name: "above the target", from: From{URL: "s3://station"}, err: "overlaps"},
		{name: "the target's bucket elsewhere", from: From{URL: "s3://station/studio", Endpoint: "http://other:9000"},
			want: objstore.S3Options{Endpoint: "http://other:9000", Bucket: "station", Prefix: "studio/", PathStyle: true, AccessKeyID: "AK", SecretAccessKey: "SK", Region: "eu-1"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, same, err := SourceOptions(target, c.from)
			if c.err != "" {
				require.ErrorContains(t, err, c.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.same, same)
			require.Equal(t, c.want, got)
		})
	}

	t.Run("a target with several endpoints", func(t *testing.T) {
		several := target
		several.Endpoint = ""
		several.Endpoints = []objstore.S3Endpoint{{URL: "http://minio.lan:9000"}, {URL: "https://s3.example"}}
		got, same, err := SourceOptions(several, From{URL: "s3://old"})
		require.NoError(t, err)
		require.True(t, same)
		require.Equal(t, several.Endpoints, got.Endpoints, "read through the target's endpoints")
		got, same, err = SourceOptions(several, From{URL: "s3://old", Endpoint: "http://nas:9000"})
		require.NoError(t, err)
		require.False(t, same)
		require.Equal(t, "http://nas:9000", got.Endpoint)
		require.Nil(t, got.Endpoints, "the named endpoint alone")
	})
}
