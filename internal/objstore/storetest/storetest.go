// Package storetest is the conformance suite every objstore.Store must pass.
// It is run against objstore.Memory and against a real MinIO; a new store
// implementation is done when Run passes on it.
//
// Run uses only the Store interface, plus ListMultipartUploads when the
// store has it (to prove that failed uploads leave no multipart upload
// behind). Its large-object cases use 12 MiB bodies: give S3 stores a
// PartSize of 5 MiB (objstore.MinPartSize) so that they span three parts.
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"genesissync/internal/objstore"
)

// LargeSize is the size of the suite's multipart-sized objects.
const LargeSize = 12 << 20

// listPageKeys exceeds S3's 1000-key listing page.
const listPageKeys = 1100

// MultipartLister is implemented by stores that can report open multipart
// uploads (objstore.S3).
type MultipartLister interface {
	ListMultipartUploads(ctx context.Context) ([]objstore.Upload, error)
}

// Run runs the conformance suite. newStore is called once per subtest and
// must return an empty store that nothing else uses; it registers its own
// cleanup with t.
func Run(t *testing.T, newStore func(t *testing.T) objstore.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s objstore.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"Overwrite", testOverwrite},
		{"Large", testLarge},
		{"ChecksumMismatch", testChecksumMismatch},
		{"SizeMismatch", testSizeMismatch},
		{"BodyError", testBodyError},
		{"Missing", testMissing},
		{"Delete", testDelete},
		{"ListPaging", testListPaging},
		{"ListPrefixAndOrder", testListPrefixAndOrder},
		{"ListStops", testListStops},
		{"Keys", testKeys},
		{"InvalidKeys", testInvalidKeys},
		{"CRC32C", testCRC32C},
		{"ConditionalPut", testConditionalPut},
		{"AwkwardKeys", testAwkwardKeys},
		{"Writer", testWriter},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

// data returns n deterministic pseudo-random bytes.
func data(seed uint64, n int) []byte {
	b := make([]byte, n)
	var s [32]byte
	s[0], s[1] = byte(seed), byte(seed>>8)
	_, _ = rand.NewChaCha8(s).Read(b)
	return b
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

var mtime = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.FixedZone("CET", 3600))

func input(key string, b []byte) objstore.PutInput {
	return objstore.PutInput{Key: key, Body: bytes.NewReader(b), Size: int64(len(b)), SHA256: sum(b), Mtime: mtime}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// requireObject checks the fields Head, Get and Put must agree on.
func requireObject(t *testing.T, want objstore.PutInput, got objstore.Object) {
	t.Helper()
	require.Equal(t, want.Key, got.Key)
	require.Equal(t, want.Size, got.Size)
	require.Equal(t, want.SHA256, got.SHA256)
	require.Equal(t, want.CRC32C, got.CRC32C)
	require.True(t, want.Mtime.Equal(got.Mtime), "mtime: want %s, got %s", want.Mtime, got.Mtime)
	require.NotEmpty(t, got.ETag)
	require.NotContains(t, got.ETag, `"`)
}

func requireContent(t *testing.T, s objstore.Store, key string, want []byte) objstore.Object {
	t.Helper()
	rc, o, err := s.Get(ctxT(t), key)
	require.NoError(t, err)
	defer rc.Close()
	got, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.Equal(t, len(want), len(got))
	require.Equal(t, sum(want), sum(got), "content of %q", key)
	return o
}

func requireAbsent(t *testing.T, s objstore.Store, key string) {
	t.Helper()
	_, err := s.Head(ctxT(t), key)
	require.ErrorIs(t, err, objstore.ErrNotFound, "object %q must not exist", key)
}

// requireNoOpenUploads checks, where the store can tell, that no multipart
// upload was left open.
func requireNoOpenUploads(t *testing.T, s objstore.Store) {
	t.Helper()
	ml, ok := s.(MultipartLister)
	if !ok {
		return // the store has no multipart uploads
	}
	ups, err := ml.ListMultipartUploads(ctxT(t))
	require.NoError(t, err)
	require.Empty(t, ups, "open multipart uploads")
}

func testRoundTrip(t *testing.T, s objstore.Store) {
	for _, size := range []int{0, 1, 100 << 10} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			b := data(uint64(size), size)
			in := input(fmt.Sprintf("dir/file-%d.mp3", size), b)
			put, err := s.Put(ctxT(t), in)
			require.NoError(t, err)
			requireObject(t, in, put)

			head, err := s.Head(ctxT(t), in.Key)
			require.NoError(t, err)
			requireObject(t, in, head)
			require.Equal(t, put.ETag, head.ETag)
			require.Equal(t, put.VersionID, head.VersionID)
			require.False(t, head.LastModified.IsZero())
			require.WithinDuration(t, time.Now(), head.LastModified, 10*time.Minute)

			got := requireContent(t, s, in.Key, b)
			requireObject(t, in, got)
			require.Equal(t, head.ETag, got.ETag)
			require.True(t, head.LastModified.Equal(got.LastModified))
		})
	}
}

// ConditionalDeleter is a Store that deletes only the version its caller
// saw (objstore.S3.DeleteIfMatch).
type ConditionalDeleter interface {
	DeleteIfMatch(ctx context.Context, key, etag string) error
}

// RunConditionalDelete checks, on a store whose server honors If-Match
// on DeleteObject (not every one does: MinIO ignores it), that a delete
// with another ETag is refused and leaves the object, that one with its
// ETag removes it, and that one of an absent key succeeds.
func RunConditionalDelete(t *testing.T, s objstore.Store) {
	d, ok := s.(ConditionalDeleter)
	if !ok {
		t.Fatalf("%T has no DeleteIfMatch", s)
	}
	put, err := s.Put(ctxT(t), input("deleted by another.mp3", data(11, 100)))
	require.NoError(t, err)
	err = d.DeleteIfMatch(ctxT(t), "deleted by another.mp3", "0123456789abcdef0123456789abcdef")
	require.ErrorIs(t, err, objstore.ErrPreconditionFailed, "a delete of a version not seen")
	requireContent(t, s, "deleted by another.mp3", data(11, 100))
	require.NoError(t, d.DeleteIfMatch(ctxT(t), "deleted by another.mp3", put.ETag))
	requireAbsent(t, s, "deleted by another.mp3")
	require.NoError(t, d.DeleteIfMatch(ctxT(t), "never there.mp3", put.ETag), "an absent key is deleted already")
}

// testWriter: the appliance that wrote an object is in its metadata,
// and a name that could not be an appliance's is refused.
func testWriter(t *testing.T, s objstore.Store) {
	in := input("studio-b.mp3", data(7, 500))
	in.Writer = "studio-b"
	put, err := s.Put(ctxT(t), in)
	require.NoError(t, err)
	require.Equal(t, "studio-b", put.Writer)
	head, err := s.Head(ctxT(t), in.Key)
	require.NoError(t, err)
	require.Equal(t, "studio-b", head.Writer)
	got := requireContent(t, s, in.Key, data(7, 500))
	require.Equal(t, "studio-b", got.Writer)

	plain, err := s.Put(ctxT(t), input("plain.mp3", data(8, 10)))
	require.NoError(t, err)
	require.Empty(t, plain.Writer)

	for _, bad := range []string{"Studio B", "../x", "studio_b"} {
		in := input("bad.mp3", data(9, 10))
		in.Writer = bad
		_, err := s.Put(ctxT(t), in)
		require.ErrorIs(t, err, objstore.ErrInvalidInput, bad)
	}
}

func testOverwrite(t *testing.T, s objstore.Store) {
	v1, v2 := data(1, 1000), data(2, 2000)
	_, err := s.Put(ctxT(t), input("song.mp3", v1))
	require.NoError(t, err)
	in := input("song.mp3", v2)
	in.Mtime = mtime.Add(time.Hour)
	_, err = s.Put(ctxT(t), in)
	require.NoError(t, err)
	o := requireContent(t, s, "song.mp3", v2)
	requireObject(t, in, o)
}

func testLarge(t *testing.T, s objstore.Store) {
	b := data(3, LargeSize)
	in := input("big/show.wav", b)
	put, err := s.Put(ctxT(t), in)
	require.NoError(t, err)
	requireObject(t, in, put)
	head, err := s.Head(ctxT(t), in.Key)
	require.NoError(t, err)
	requireObject(t, in, head)
	require.Equal(t, put.ETag, head.ETag)
	o := requireContent(t, s, in.Key, b)
	requireObject(t, in, o)
	requireNoOpenUploads(t, s)
}

// testChecksumMismatch: a body that does not hash to the declared SHA-256
// is refused, single-part and multipart, and an existing object survives.
func testChecksumMismatch(t *testing.T, s objstore.Store) {
	for _, size := range []int{10 << 10, LargeSize} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			key := fmt.Sprintf("mismatch-%d.mp3", size)
			old := data(4, 100)
			_, err := s.Put(ctxT(t), input(key, old))
			require.NoError(t, err)

			b := data(5, size)
			in := input(key, b)
			in.SHA256 = sum([]byte("something else"))
			_, err = s.Put(ctxT(t), in)
			require.Error(t, err)
			require.ErrorIs(t, err, objstore.ErrChecksumMismatch)
			require.False(t, objstore.IsRetryable(err))
			require.Contains(t, err.Error(), key)

			requireContent(t, s, key, old)
			requireNoOpenUploads(t, s)
		})
	}
}

// testSizeMismatch: a body longer or shorter than declared (the file changed
// while it was read) is refused and leaves nothing.
func testSizeMismatch(t *testing.T, s objstore.Store) {
	tests := []struct {
		name     string
		actual   int
		declared int
	}{
		{"short", 1000, 2000},
		{"long", 2000, 1000},
		{"short-large", LargeSize - 1, LargeSize},
		{"long-large", LargeSize + 1, LargeSize},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := data(6, tc.actual)
			key := "size-" + tc.name
			_, err := s.Put(ctxT(t), objstore.PutInput{
				Key: key, Body: bytes.NewReader(b), Size: int64(tc.declared), SHA256: sum(b[:min(tc.actual, tc.declared)]),
			})
			require.ErrorIs(t, err, objstore.ErrSizeMismatch)
			require.False(t, objstore.IsRetryable(err))
			requireAbsent(t, s, key)
			requireNoOpenUploads(t, s)
		})
	}
}

var errBoom = errors.New("disk read failed")

// failingReader yields n bytes of r, then fails.
type failingReader struct {
	r io.Reader
	n int64
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errBoom
	}
	if int64(len(p)) > f.n {
		p = p[:f.n]
	}
	n, err := f.r.Read(p)
	f.n -= int64(n)
	return n, err
}

// testBodyError: a body that fails part-way leaves no object and no open
// multipart upload, including after parts were uploaded.
func testBodyError(t *testing.T, s objstore.Store) {
	tests := []struct {
		name       string
		size, fail int
	}{
		{"first-byte", 1000, 0},
		{"small", 64 << 10, 1 << 10},
		{"multipart", LargeSize, 7 << 20}, // after the first 5 MiB part
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := data(7, tc.size)
			key := "broken-" + tc.name
			_, err := s.Put(ctxT(t), objstore.PutInput{
				Key: key, Body: &failingReader{r: bytes.NewReader(b), n: int64(tc.fail)},
				Size: int64(tc.size), SHA256: sum(b), Mtime: mtime,
			})
			require.ErrorIs(t, err, errBoom)
			require.Contains(t, err.Error(), key)
			requireAbsent(t, s, key)
			requireNoOpenUploads(t, s)
		})
	}
}

func testMissing(t *testing.T, s objstore.Store) {
	_, err := s.Head(ctxT(t), "nope/missing.mp3")
	require.ErrorIs(t, err, objstore.ErrNotFound)
	require.False(t, objstore.IsRetryable(err))
	require.Contains(t, err.Error(), "nope/missing.mp3")

	rc, _, err := s.Get(ctxT(t), "nope/missing.mp3")
	require.ErrorIs(t, err, objstore.ErrNotFound)
	require.Nil(t, rc)
}

func testDelete(t *testing.T, s objstore.Store) {
	_, err := s.Put(ctxT(t), input("del/me.mp3", data(8, 10)))
	require.NoError(t, err)
	require.NoError(t, s.Delete(ctxT(t), "del/me.mp3"))
	requireAbsent(t, s, "del/me.mp3")
	require.NoError(t, s.Delete(ctxT(t), "del/me.mp3"), "second delete")
	require.NoError(t, s.Delete(ctxT(t), "del/never-was.mp3"))
}

func listAll(t *testing.T, s objstore.Store, prefix string) []objstore.Object {
	t.Helper()
	var got []objstore.Object
	require.NoError(t, s.List(ctxT(t), prefix, func(o objstore.Object) error {
		got = append(got, o)
		return nil
	}))
	return got
}

func keysOf(objs []objstore.Object) []string {
	keys := make([]string, len(objs))
	for i, o := range objs {
		keys[i] = o.Key
	}
	return keys
}

// putMany uploads small objects with a few workers.
func putMany(t *testing.T, s objstore.Store, keys []string) {
	t.Helper()
	ctx := ctxT(t)
	jobs := make(chan string)
	errs := make(chan error, len(keys))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for k := range jobs {
				_, err := s.Put(ctx, input(k, []byte(k)))
				errs <- err
			}
		})
	}
	for _, k := range keys {
		jobs <- k
	}
	close(jobs)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

// testListPaging lists more keys than one S3 page holds.
func testListPaging(t *testing.T, s objstore.Store) {
	want := make([]string, listPageKeys)
	for i := range want {
		want[i] = fmt.Sprintf("page/%05d.mp3", i)
	}
	putMany(t, s, append(want, "pagf", "pag", "other/x.mp3"))

	got := listAll(t, s, "page/")
	require.Equal(t, want, keysOf(got))
	for _, o := range got {
		require.Equal(t, int64(len(o.Key)), o.Size)
		require.NotEmpty(t, o.ETag)
		require.False(t, o.LastModified.IsZero())
	}
	require.Len(t, listAll(t, s, ""), listPageKeys+3)
}

func testListPrefixAndOrder(t *testing.T, s objstore.Store) {
	// No key is also a "folder" of another ("a/b" and "a/b/c"): a share
	// cannot hold both, and MinIO does not list both.
	keys := []string{"a/b", "a/bc", "a/bd/c", "a/B", "a-b", "a0", "b", "a/é", "a/z", "a/ä"}
	putMany(t, s, keys)
	sorted := append([]string(nil), keys...)
	sort.Strings(sorted) // byte order, which is S3's UTF-8 binary order

	tests := []struct {
		prefix string
		want   []string
	}{
		{"", sorted},
		{"a/", []string{"a/B", "a/b", "a/bc", "a/bd/c", "a/z", "a/ä", "a/é"}},
		{"a/b", []string{"a/b", "a/bc", "a/bd/c"}},
		{"a/bd/", []string{"a/bd/c"}},
		{"c", nil},
	}
	for _, tc := range tests {
		t.Run(tc.prefix, func(t *testing.T) {
			got := listAll(t, s, tc.prefix)
			if tc.want == nil {
				require.Empty(t, got)
				return
			}
			require.Equal(t, tc.want, keysOf(got))
		})
	}
}

func testListStops(t *testing.T, s objstore.Store) {
	putMany(t, s, []string{"s/1", "s/2", "s/3"})
	stop := errors.New("enough")
	var calls int
	err := s.List(ctxT(t), "s/", func(objstore.Object) error {
		calls++
		return stop
	})
	require.ErrorIs(t, err, stop)
	require.Equal(t, 1, calls)
}

// testKeys: keys are opaque UTF-8, spaces and URL-special characters
// included.
func testKeys(t *testing.T, s objstore.Store) {
	keys := []string{
		"with space/a b.mp3",
		"  leading and trailing  ",
		"Müsik/Grüße — ça.mp3",
		"日本語/曲.flac",
		"emoji 🎵.wav",
		"plus+sign/a+b.mp3",
		"percent%20and%2Fslash.mp3",
		"amp&query?hash#.mp3",
		"quote'\"<xml>.mp3",
		"tab\tkey.mp3",
	}
	for i, k := range keys {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			b := data(uint64(100+i), 100+i)
			in := input(k, b)
			_, err := s.Put(ctxT(t), in)
			require.NoError(t, err, "put %q", k)
			head, err := s.Head(ctxT(t), k)
			require.NoError(t, err)
			requireObject(t, in, head)
			requireContent(t, s, k, b)
		})
	}
	got := keysOf(listAll(t, s, ""))
	want := append([]string(nil), keys...)
	sort.Strings(want)
	require.Equal(t, want, got)
	for _, k := range keys {
		require.NoError(t, s.Delete(ctxT(t), k))
		requireAbsent(t, s, k)
	}
	require.Empty(t, listAll(t, s, ""))
}

func testInvalidKeys(t *testing.T, s objstore.Store) {
	for _, k := range []string{"", "bad\xffutf8", strings.Repeat("k", 1025)} {
		_, err := s.Put(ctxT(t), input(k, []byte("x")))
		require.ErrorIs(t, err, objstore.ErrInvalidKey, "put %q", k)
		_, err = s.Head(ctxT(t), k)
		require.ErrorIs(t, err, objstore.ErrInvalidKey, "head %q", k)
		require.ErrorIs(t, s.Delete(ctxT(t), k), objstore.ErrInvalidKey, "delete %q", k)
	}
	_, err := s.Put(ctxT(t), objstore.PutInput{Key: "k", Body: strings.NewReader("x"), Size: 1, SHA256: "ABC"})
	require.ErrorIs(t, err, objstore.ErrInvalidInput)
	_, err = s.Put(ctxT(t), objstore.PutInput{Key: "k", Size: 1, SHA256: sum([]byte("x"))})
	require.ErrorIs(t, err, objstore.ErrInvalidInput)
	requireAbsent(t, s, "k")
}

func crc(b []byte) string {
	h := objstore.NewCRC32C()
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// testCRC32C: a Put with a CRC-32C stores it, and checks the body against
// it (a wrong one fails the Put and writes nothing).
func testCRC32C(t *testing.T, s objstore.Store) {
	for _, size := range []int{1000, LargeSize} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			b := data(31, size)
			in := input("crc/ok", b)
			in.CRC32C = crc(b)
			o, err := s.Put(ctxT(t), in)
			require.NoError(t, err)
			requireObject(t, in, o)
			h, err := s.Head(ctxT(t), "crc/ok")
			require.NoError(t, err)
			requireObject(t, in, h)

			bad := input("crc/bad", b)
			bad.CRC32C = crc(data(32, size))
			_, err = s.Put(ctxT(t), bad)
			require.ErrorIs(t, err, objstore.ErrChecksumMismatch)
			requireAbsent(t, s, "crc/bad")
			requireNoOpenUploads(t, s)
		})
	}
}

// testConditionalPut: IfAbsent and IfMatch are decided when the object is
// published, for single-part and multipart objects alike, and a refused
// write changes nothing.
func testConditionalPut(t *testing.T, s objstore.Store) {
	for _, size := range []int{1000, LargeSize} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			key := fmt.Sprintf("cond/%d", size)
			put := func(seed uint64, ifAbsent bool, ifMatch string) (objstore.Object, error) {
				in := input(key, data(seed, size))
				in.IfAbsent, in.IfMatch = ifAbsent, ifMatch
				return s.Put(ctxT(t), in)
			}
			_, err := put(1, true, "x")
			require.ErrorIs(t, err, objstore.ErrInvalidInput, "both conditions")
			_, err = put(1, false, "0123456789abcdef0123456789abcdef")
			require.ErrorIs(t, err, objstore.ErrPreconditionFailed, "IfMatch on an absent key")
			requireAbsent(t, s, key)
			first, err := put(1, true, "")
			require.NoError(t, err, "IfAbsent on an absent key")
			_, err = put(2, true, "")
			require.ErrorIs(t, err, objstore.ErrPreconditionFailed, "IfAbsent on an existing key")
			require.False(t, objstore.IsRetryable(err))
			_, err = put(3, false, "0123456789abcdef0123456789abcdef")
			require.ErrorIs(t, err, objstore.ErrPreconditionFailed, "IfMatch with another ETag")
			requireContent(t, s, key, data(1, size))
			second, err := put(4, false, first.ETag)
			require.NoError(t, err, "IfMatch with the current ETag")
			require.NotEqual(t, first.ETag, second.ETag)
			_, err = put(5, false, first.ETag)
			require.ErrorIs(t, err, objstore.ErrPreconditionFailed, "IfMatch with a replaced ETag")
			requireContent(t, s, key, data(4, size))
			requireNoOpenUploads(t, s)
		})
	}
}

// awkwardKeys are keys whose bytes URL encoders, form decoders and S3
// servers disagree about: "+" (a space to a form decoder), "%" with and
// without two hex digits after it (a decoder that runs once too often,
// or on a raw key, turns "%2B" into "+" and fails on "100%.txt"),
// spaces, RFC 3986 sub-delimiters and ":" "@" (left unescaped by
// url.PathEscape), and non-ASCII letters in both Unicode normal forms
// (a store must keep bytes, not normalize them).
var awkwardKeys = []string{
	"awk/plus/a+b.mp3",
	"awk/plus/+lead and trail+",
	"awk/plus/Simon + Garfunkel.mp3",
	"awk/percent/100%.txt",
	"awk/percent/100%",
	"awk/percent/%",
	"awk/percent/%zz%g%.mp3",
	"awk/percent/%2B.mp3",
	"awk/percent/a%2Bb%20c%2Fd%25e.mp3",
	"awk/percent/%%25%%.mp3",
	"awk/space/a b.mp3",
	"awk/space/two  spaces and trailing ",
	"awk/space/ leading",
	"awk/delims/(live).mp3",
	"awk/delims/a&b=c,d;e:f@g$h.mp3",
	"awk/delims/( ) & = , ; : @ $.mp3",
	"awk/letters/é ü.mp3",             // NFC: U+00E9, U+00FC
	"awk/letters/e\u0301 u\u0308.mp3", // NFD: e + U+0301, u + U+0308
	"awk/mix/Beyoncé + Jay-Z (100% live) @ Zürich; 2=1, a&b $5.mp3",
}

// testAwkwardKeys: each awkward key round-trips byte for byte through Put,
// Head, Get, List (with the key itself as the prefix, and of the whole
// folder) and Delete.
func testAwkwardKeys(t *testing.T, s objstore.Store) {
	for i, k := range awkwardKeys {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			b := data(uint64(200+i), 50+i)
			in := input(k, b)
			put, err := s.Put(ctxT(t), in)
			require.NoError(t, err, "put %q", k)
			requireObject(t, in, put)
			head, err := s.Head(ctxT(t), k)
			require.NoError(t, err, "head %q", k)
			requireObject(t, in, head)
			got := requireContent(t, s, k, b)
			requireObject(t, in, got)
			// Other keys may extend k ("100%" and "100%.txt"); they sort
			// after it.
			listed := listAll(t, s, k)
			require.NotEmpty(t, listed, "list with prefix %q", k)
			require.Equal(t, []byte(k), []byte(listed[0].Key), "listed key of %q", k)
			for _, o := range listed {
				require.True(t, strings.HasPrefix(o.Key, k), "list with prefix %q returned %q", k, o.Key)
			}
			require.Equal(t, int64(len(b)), listed[0].Size)
			require.Equal(t, put.ETag, listed[0].ETag, "listed ETag of %q", k)
		})
	}
	want := append([]string(nil), awkwardKeys...)
	sort.Strings(want)
	got := keysOf(listAll(t, s, "awk/"))
	require.Equal(t, len(want), len(got), "listed %q", got)
	for i := range want {
		require.Equal(t, []byte(want[i]), []byte(got[i]), "listed key %d", i)
	}
	for _, k := range awkwardKeys {
		require.NoError(t, s.Delete(ctxT(t), k), "delete %q", k)
		requireAbsent(t, s, k)
	}
	require.Empty(t, keysOf(listAll(t, s, "awk/")))
}
