package etag

import (
	"crypto/md5"
	"encoding/hex"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

const emptyMD5 = "d41d8cd98f00b204e9800998ecf8427e"

// refMultipart is the reference multipart ETag, written from S3's definition
// and independent of Prover: cut body into parts of part bytes (the last
// shorter), MD5 each, MD5 the concatenated digests, append "-N".
func refMultipart(body []byte, part int) string {
	var cat []byte
	n := 0
	for off := 0; off < len(body) || n == 0; off += part {
		end := min(off+part, len(body))
		sum := md5.Sum(body[off:end])
		cat = append(cat, sum[:]...)
		n++
	}
	sum := md5.Sum(cat)
	return hex.EncodeToString(sum[:]) + "-" + strconv.Itoa(n)
}

func refMD5(body []byte) string {
	sum := md5.Sum(body)
	return hex.EncodeToString(sum[:])
}

// corpus holds the pseudo-random bytes every test slices its content from.
var corpus = sync.OnceValue(func() []byte {
	b := make([]byte, 201*miB)
	r := rand.NewChaCha8([32]byte{'e', 't', 'a', 'g'})
	_, _ = r.Read(b)
	return b
})

// content returns size deterministic pseudo-random bytes, shared: callers
// copy before changing them.
func content(size int) []byte {
	if c := corpus(); size <= len(c) {
		return c[:size:size]
	}
	b := make([]byte, size)
	r := rand.NewChaCha8([32]byte{'e', 't', 'a', 'g'})
	_, _ = r.Read(b)
	return b
}

// feed writes body to w in chunks cycling through sizes, so that part
// boundaries fall inside writes.
func feed(t *testing.T, p *Prover, body []byte, sizes []int) {
	t.Helper()
	for i, off := 0, 0; off < len(body); i++ {
		end := min(off+sizes[i%len(sizes)], len(body))
		n, err := p.Write(body[off:end])
		require.NoError(t, err)
		require.Equal(t, end-off, n)
		off = end
	}
}

func mustParse(t *testing.T, s string) ETag {
	t.Helper()
	e, err := Parse(s)
	require.NoError(t, err)
	return e
}

func TestParse(t *testing.T) {
	const hx = "0123456789abcdef0123456789abcdef"
	for _, tc := range []struct {
		name  string
		in    string
		kind  Kind
		parts int
		str   string // String() when not Opaque
	}{
		{"quoted single-part", `"` + emptyMD5 + `"`, SinglePart, 0, emptyMD5},
		{"bare single-part", emptyMD5, SinglePart, 0, emptyMD5},
		{"uppercase hex", `"` + strings.ToUpper(hx) + `"`, SinglePart, 0, hx},
		{"mixed case multipart", "0123456789ABCDEF0123456789abcdef-3", Multipart, 3, hx + "-3"},
		{"surrounding spaces", " \t\"" + hx + "\" ", SinglePart, 0, hx},
		{"quoted multipart", `"` + hx + `-12"`, Multipart, 12, hx + "-12"},
		{"one part", hx + "-1", Multipart, 1, hx + "-1"},
		{"max parts", hx + "-10000", Multipart, 10000, hx + "-10000"},
		{"too many parts", hx + "-10001", Opaque, 0, ""},
		{"huge part count", hx + "-99999999999999999999", Opaque, 0, ""},
		{"zero parts", hx + "-0", Opaque, 0, ""},
		{"negative parts", hx + "--1", Opaque, 0, ""},
		{"plus sign", hx + "-+1", Opaque, 0, ""},
		{"leading zero", hx + "-01", Opaque, 0, ""},
		{"dash without count", hx + "-", Opaque, 0, ""},
		{"count with letter", hx + "-1a", Opaque, 0, ""},
		{"two dashes", hx + "-3-4", Opaque, 0, ""},
		{"count with space", hx + "- 3", Opaque, 0, ""},
		{"weak", `W/"` + hx + `"`, Opaque, 0, ""},
		{"weak lowercase", `w/"` + hx + `"`, Opaque, 0, ""},
		{"empty", "", Opaque, 0, ""},
		{"empty quotes", `""`, Opaque, 0, ""},
		{"lone quote", `"`, Opaque, 0, ""},
		{"unbalanced quote", `"` + hx, Opaque, 0, ""},
		{"inner quote", `"` + hx[:16] + `"` + hx[17:] + `"`, Opaque, 0, ""},
		{"double quoted", `""` + hx + `""`, Opaque, 0, ""},
		{"31 digits", hx[:31], Opaque, 0, ""},
		{"33 digits", hx + "0", Opaque, 0, ""},
		{"not hex", "g" + hx[1:], Opaque, 0, ""},
		{"sha256 length", hx + hx, Opaque, 0, ""},
		{"gcs-like base64", `"CJj0x6ms2PsCEAE="`, Opaque, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := Parse(tc.in)
			require.Equal(t, tc.kind, e.Kind)
			require.Equal(t, tc.in, e.Raw)
			if tc.kind == Opaque {
				require.ErrorIs(t, err, ErrMalformed)
				require.Equal(t, [16]byte{}, e.Digest)
				require.Zero(t, e.Parts)
				require.Equal(t, tc.in, e.String())
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.parts, e.Parts)
			require.Equal(t, tc.str, e.String())
			again, err := Parse(`"` + e.String() + `"`)
			require.NoError(t, err)
			require.Equal(t, e.Kind, again.Kind)
			require.Equal(t, e.Digest, again.Digest)
			require.Equal(t, e.Parts, again.Parts)
		})
	}
}

// checkCandidates asserts the invariants every PartSizes result keeps.
func checkCandidates(t *testing.T, size int64, parts int, got []int64) {
	t.Helper()
	require.LessOrEqual(t, len(got), MaxCandidates)
	seen := map[int64]bool{}
	for _, p := range got {
		require.False(t, seen[p], "duplicate %d", p)
		seen[p] = true
		if parts == 1 {
			require.Equal(t, size, p)
			continue
		}
		require.Positive(t, p)
		require.Equal(t, int64(parts), ceilDiv(size, p), "part size %d gives %d parts, not %d", p, ceilDiv(size, p), parts)
	}
}

func TestPartSizes(t *testing.T) {
	const (
		big   = int64(60) << 30 // 60 GiB: over 10,000 parts of 5 MiB
		huge  = int64(100) << 30
		forum = int64(120864818840) // rclone's fs/chunksize test vector
	)
	for _, tc := range []struct {
		name  string
		size  int64
		parts int
		want  []int64 // must be present
		first int64   // if set, must be first
		full  bool    // must return MaxCandidates
		none  bool    // must return nil
	}{
		{name: "mc 40 MiB", size: 40 * miB, parts: 3, want: []int64{16 * miB}, first: 16 * miB},
		{name: "mc 100 MiB", size: 100 * miB, parts: 7, want: []int64{16 * miB, 15 * miB}, first: 16 * miB},
		{name: "minio-go test vector", size: 5243928576, parts: 313, want: []int64{16 * miB}, first: 16 * miB},
		{name: "mc huge file", size: huge, parts: int(ceilDiv(huge, 16*miB)), want: []int64{16 * miB}},
		{name: "mc over 160 GiB", size: 200 << 30, parts: int(ceilDiv(200<<30, 32*miB)), want: []int64{32 * miB}},
		{name: "mc pipe 528 MiB", size: 10 << 30, parts: int(ceilDiv(10<<30, 528*miB)), want: []int64{528 * miB}},
		{name: "rclone 1 GiB", size: 1 << 30, parts: 205, want: []int64{5 * miB}},
		{name: "rclone grown chunk", size: forum, parts: int(ceilDiv(forum, 12*miB)), want: []int64{12 * miB}},
		{name: "aws cli 8 MiB", size: 100*miB + 1, parts: 13, want: []int64{8 * miB}},
		{name: "aws cli doubled", size: huge, parts: int(ceilDiv(huge, 16*miB)), want: []int64{16 * miB}},
		{name: "sdk manager adjusted", size: big, parts: int(ceilDiv(big, big/10000+1)), want: []int64{big/10000 + 1}},
		{name: "php and crt ceil", size: big, parts: 10000, want: []int64{ceilDiv(big, 10000)}},
		{name: "transfermanager 8 MiB", size: 64*miB + 7, parts: 9, want: []int64{8 * miB}},
		{name: "s3cmd 15 MiB", size: 100*miB + 5, parts: 7, want: []int64{15 * miB, 16 * miB}},
		{name: "s5cmd 50 MiB", size: 1 << 30, parts: 21, want: []int64{50 * miB}},
		{name: "php 5 MiB", size: 20 * miB, parts: 4, want: []int64{5 * miB}},
		{name: "decimal MB part", size: 100 * mB, parts: 10, want: []int64{10 * mB, 10 * miB}},
		{name: "power of two MiB", size: 300 * miB, parts: 2, want: []int64{256 * miB, 150 * miB}},
		{name: "equal split", size: 1000003, parts: 7, want: []int64{ceilDiv(1000003, 7)}},
		{name: "wide range is bounded", size: 1 << 30, parts: 2, full: true},
		{name: "tiny parts", size: 10, parts: 10, want: []int64{1}},
		{name: "one part", size: 3 * miB, parts: 1, want: []int64{3 * miB}, first: 3 * miB},
		{name: "one empty part", size: 0, parts: 1, want: []int64{0}, first: 0},
		{name: "zero parts", size: 1 * miB, parts: 0, none: true},
		{name: "negative parts", size: 1 * miB, parts: -1, none: true},
		{name: "over 10000 parts", size: 1 << 40, parts: 10001, none: true},
		{name: "fewer bytes than parts", size: 3, parts: 4, none: true},
		{name: "empty in two parts", size: 0, parts: 2, none: true},
		{name: "negative size", size: -1, parts: 1, none: true},
		{name: "no integer part size", size: 10, parts: 4, want: []int64{3}}, // 3,3,3,1
		{name: "gap between counts", size: 11, parts: 5, none: true},         // p=2 gives 6 parts, p=3 gives 4
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := PartSizes(tc.size, tc.parts)
			checkCandidates(t, tc.size, tc.parts, got)
			if tc.none {
				require.Nil(t, got)
				return
			}
			require.NotEmpty(t, got)
			for _, w := range tc.want {
				require.Contains(t, got, w)
			}
			if tc.first != 0 || tc.name == "one empty part" {
				require.Equal(t, tc.first, got[0])
			}
			if tc.full {
				require.Len(t, got, MaxCandidates)
			}
		})
	}
}

// TestToolFormulas checks the ported formulas against the values their own
// projects' tests assert (minio-go api_unit_test.go TestPartSize, rclone
// fs/chunksize/chunksize_test.go) and against the rules read in their
// sources.
func TestToolFormulas(t *testing.T) {
	toolPart := func(name string, size int64) int64 {
		for _, tl := range tools {
			if tl.name == name {
				return tl.part(size)
			}
		}
		t.Fatalf("no tool %q", name)
		return 0
	}
	for _, tc := range []struct {
		name string
		got  int64
		want int64
	}{
		{"minio-go 5243928576", toolPart("minio-go", 5243928576), 16777216},
		{"minio-go 5 TB", toolPart("minio-go", 5_000_000_000_000), 480 * miB},
		{"minio-go stream", toolPart("minio-go-stream", 0), 553648128},
		{"rclone default fits", toolPart("rclone", 10000*5*miB), 5 * miB},
		{"rclone one byte over", toolPart("rclone", 10000*5*miB+1), 6 * miB},
		{"rclone forum", toolPart("rclone", 120864818840), 12 * miB},
		{"rclone vector 9999 parts", rcloneChunkSize(1000000*miB, 9999, 100*miB), 101 * miB},
		{"rclone vector +1 byte", rcloneChunkSize(1000000*miB+1, 10000, 100*miB), 101 * miB},
		{"rclone vector 1 part", rcloneChunkSize(miB+1, 1, miB), 2 * miB},
		{"s3transfer fits", toolPart("s3transfer", 10000*8*miB), 8 * miB},
		{"s3transfer doubles", toolPart("s3transfer", 10000*8*miB+1), 16 * miB},
		{"s3transfer doubles twice", toolPart("s3transfer", 10000*16*miB+1), 32 * miB},
		{"sdk manager fits", toolPart("aws-sdk-go-manager", 10000*5*miB-1), 5 * miB},
		{"sdk manager adjusts at 10000", toolPart("aws-sdk-go-manager", 10000*5*miB), 5*miB + 1},
		{"transfermanager adjusts", toolPart("aws-sdk-go-transfermanager", 10000*8*miB), 8*miB + 1},
		{"crt small", toolPart("aws-crt", 20*miB), 8 * miB},
		{"crt ceil", toolPart("aws-crt", 10000*8*miB+1), 8*miB + 1},
		{"php small", toolPart("aws-sdk-php", 20*miB), 5 * miB},
		{"php ceil", toolPart("aws-sdk-php", 10000*5*miB+1), 5*miB + 1},
		{"s3cmd", toolPart("s3cmd", 1<<40), 15 * miB},
		{"s5cmd", toolPart("s5cmd", 1<<30), 50 * miB},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, tc.got)
		})
	}
}

func TestProverMultipart(t *testing.T) {
	mixed := []int{1, 7, miB + 3, 64<<10 - 1, 4096}
	for _, tc := range []struct {
		name   string
		size   int
		part   int // the uploader's part size
		chunks []int
		source string
	}{
		{"mc 40 MiB", 40 * miB, 16 * miB, mixed, "minio-go"},
		{"mc 100 MiB", 100 * miB, 16 * miB, mixed, "minio-go"},
		{"rclone 5 MiB chunks", 201 * miB, 5 * miB, mixed, "rclone"},
		{"aws cli 8 MiB", 50*miB + 123, 8 * miB, mixed, "s3transfer"},
		{"s3cmd 15 MiB", 100*miB + 5, 15 * miB, mixed, "s3cmd"},
		{"php 5 MiB exact multiple", 20 * miB, 5 * miB, mixed, "rclone"},
		{"decimal 10 MB", 95 * mB, 10 * mB, mixed, "mb-multiple"},
		{"1-byte writes", 2*miB + 3, miB, []int{1}, "power-of-two-mib"},
		{"7-byte writes", 11*miB + 1, 5 * miB, []int{7}, "rclone"},
		{"1 MiB+3 writes", 40 * miB, 16 * miB, []int{miB + 3}, "minio-go"},
		{"one write", 40 * miB, 16 * miB, []int{40 * miB}, "minio-go"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			body := content(tc.size)
			remote := mustParse(t, `"`+refMultipart(body, tc.part)+`"`)
			require.Equal(t, int(ceilDiv(int64(tc.size), int64(tc.part))), remote.Parts)
			require.Contains(t, PartSizes(int64(tc.size), remote.Parts), int64(tc.part))

			p := NewProver(int64(tc.size), remote, true)
			feed(t, p, body, tc.chunks)
			r := p.Result()
			require.Equal(t, Equal, r.Verdict, "%+v", r)
			require.Equal(t, ReasonMultipartMatch, r.Reason)
			require.Equal(t, int64(tc.part), r.PartSize)
			require.Equal(t, tc.source, r.PartSource)
			require.Positive(t, r.Candidates)
			require.Equal(t, refMD5(body), p.MD5())
		})
	}
}

func TestProverVerdicts(t *testing.T) {
	body := content(40 * miB)
	multi := refMultipart(body, 16*miB)
	changed := append([]byte(nil), body...)
	changed[len(changed)/2] ^= 1
	odd := content(100 * miB) // cut at 13 MiB + 1: no candidate has it
	oddETag := refMultipart(odd, 13*miB+1)

	for _, tc := range []struct {
		name    string
		size    int64
		etag    string
		isMD5   bool
		body    []byte
		verdict Verdict
		reason  string
		part    int64
	}{
		{"single-part equal", 40 * miB, refMD5(body), true, body, Equal, ReasonMD5Match, 0},
		{"single-part one byte differs", 40 * miB, refMD5(body), true, changed, Differs, ReasonMD5Mismatch, 0},
		{"single-part not an MD5", 40 * miB, refMD5(body), false, body, Unknown, ReasonNotMD5, 0},
		{"multipart one byte differs", 40 * miB, multi, true, changed, Unknown, ReasonNoMatch, 0},
		{"multipart not an MD5", 40 * miB, multi, false, body, Unknown, ReasonNotMD5, 0},
		{"multipart unknown part size", 100 * miB, oddETag, true, odd, Unknown, ReasonNoMatch, 0},
		{"multipart wrong part count", 40 * miB, strings.TrimSuffix(multi, "-3") + "-4", true, body, Unknown, ReasonNoMatch, 0},
		{"one-part multipart", 40 * miB, refMultipart(body, 40*miB), true, body, Equal, ReasonMultipartMatch, 40 * miB},
		{"one-part multipart differs", 40 * miB, refMultipart(body, 40*miB), true, changed, Differs, ReasonMD5Mismatch, 0},
		{"empty single-part", 0, emptyMD5, true, nil, Equal, ReasonMD5Match, 0},
		{"empty one-part multipart", 0, refMultipart(nil, 5*miB), true, nil, Equal, ReasonMultipartMatch, 0},
		{"empty against non-empty MD5", 0, refMD5(body), true, nil, Differs, ReasonMD5Mismatch, 0},
		{"opaque", 40 * miB, `W/"` + refMD5(body) + `"`, true, body, Unknown, ReasonOpaque, 0},
		{"zero ETag", 40 * miB, "", true, body, Unknown, ReasonOpaque, 0},
		{"short file", 40*miB + 1, refMD5(body), true, body, Differs, ReasonLength, 0},
		{"long file", 40*miB - 1, refMD5(body), true, body, Differs, ReasonLength, 0},
		{"long file opaque ETag", 40*miB - 1, "", false, body, Differs, ReasonLength, 0},
		{"no part size fits", 5000, refMD5(nil) + "-10000", true, content(5000), Unknown, ReasonNoPartSize, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			remote, _ := Parse(tc.etag)
			p := NewProver(tc.size, remote, tc.isMD5)
			feed(t, p, tc.body, []int{miB + 3, 7})
			r := p.Result()
			require.Equal(t, tc.verdict, r.Verdict, "%+v", r)
			require.Equal(t, tc.reason, r.Reason)
			require.Equal(t, tc.part, r.PartSize)
			require.Equal(t, refMD5(tc.body), p.MD5())
		})
	}
}

func TestProverAfterResult(t *testing.T) {
	body := content(3 * miB)
	p := NewProver(int64(len(body)), mustParse(t, refMD5(body)), true)
	_, err := p.Write(body)
	require.NoError(t, err)
	first := p.Result()
	require.Equal(t, Equal, first.Verdict)

	n, err := p.Write([]byte("more"))
	require.ErrorIs(t, err, ErrFinished)
	require.Zero(t, n)
	require.Equal(t, first, p.Result())
	require.Equal(t, refMD5(body), p.MD5())
}

func TestProverCandidateBound(t *testing.T) {
	// Two parts of a 1 GiB file: the widest range, so the most candidates.
	size := int64(1 << 30)
	remote := ETag{Kind: Multipart, Parts: 2}
	p := NewProver(size, remote, true)
	require.Len(t, p.cands, MaxCandidates)
	require.Empty(t, NewProver(size, remote, false).cands, "no part hashing when the ETag is no MD5")
	require.Empty(t, NewProver(size, ETag{Kind: Multipart, Parts: 1}, true).cands, "one part needs only the whole MD5")
}

func TestStrings(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{Opaque.String(), "opaque"},
		{SinglePart.String(), "single-part"},
		{Multipart.String(), "multipart"},
		{Unknown.String(), "unknown"},
		{Equal.String(), "equal"},
		{Differs.String(), "differs"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			require.Equal(t, tc.want, tc.got)
		})
	}
}

// BenchmarkProver measures the cost per byte for the ETag shapes that give
// few and many candidates.
func BenchmarkProver(b *testing.B) {
	for _, bc := range []struct {
		name  string
		size  int
		parts int
	}{
		{"md5 only", 64 * miB, 0},
		{"mc 64 MiB 4 parts", 64 * miB, 4},
		{"64 MiB 2 parts", 64 * miB, 2},
		{"rclone 64 MiB 13 parts", 64 * miB, 13},
	} {
		b.Run(bc.name, func(b *testing.B) {
			body := content(bc.size)
			remote := ETag{Kind: SinglePart}
			if bc.parts > 0 {
				remote = ETag{Kind: Multipart, Parts: bc.parts}
			}
			b.SetBytes(int64(bc.size))
			for b.Loop() {
				p := NewProver(int64(bc.size), remote, true)
				for off := 0; off < len(body); off += 1 << 20 {
					_, _ = p.Write(body[off:min(off+1<<20, len(body))])
				}
				r := p.Result()
				b.ReportMetric(float64(r.Candidates), "candidates")
			}
		})
	}
}
