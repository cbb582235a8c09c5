package etag

const (
	miB = 1 << 20
	giB = 1 << 30
	mB  = 1000 * 1000

	// minUploadPart is S3's smallest part but the last (5 MiB); the SDKs
	// clamp to it.
	minUploadPart = 5 * miB
	// maxUploadPart is S3's largest part (5 GiB).
	maxUploadPart = 5 * giB
)

// MaxCandidates bounds the part sizes PartSizes returns, and so the running
// MD5 states a Prover keeps: each candidate costs one more MD5 pass over the
// file.
const MaxCandidates = 16

// tool is one uploader's choice of part size for a file of a known size, as
// its source computes it. Only the ones whose result gives the ETag's part
// count matter; the others are discarded by the range check.
type tool struct {
	name string
	part func(size int64) int64
}

// tools lists the uploaders that fill the buckets the appliance adopts, in
// the order PartSizes tries them. Each comment names the source read.
var tools = []tool{
	// mc (cp, mirror) leaves PartSize 0 unless --part-size or
	// MC_UPLOAD_MULTIPART_SIZE is set, so minio-go's OptimalPartInfo
	// (api-put-object-common.go) picks it: size/10000 (integer division),
	// rounded up to a multiple of minPartSize, 16 MiB (constants.go). Files
	// up to 16 MiB are one PUT.
	{"minio-go", func(size int64) int64 { return roundUp(max(size/MaxParts, 1), 16*miB) }},
	// mc pipe, and minio-go for a stream of unknown size: OptimalPartInfo(-1,
	// 0), which sizes parts for 5 TiB: 528 MiB.
	{"minio-go-stream", func(int64) int64 { return roundUp((5<<40)/MaxParts, 16*miB) }},
	// rclone's s3 backend: chunk_size defaults to 5 MiB (backend/s3/s3.go,
	// minChunkSize); fs/chunksize.Calculator grows it for files over 10,000
	// chunks. Files up to upload_cutoff (200 MiB) are one PUT.
	{"rclone", func(size int64) int64 { return rcloneChunkSize(size, MaxParts, 5*miB) }},
	// The AWS CLI (awscli/customizations/s3/transferconfig.py) and boto3 run
	// s3transfer with multipart_chunksize 8 MiB and the same threshold;
	// s3transfer's ChunksizeAdjuster (s3transfer/utils.py) doubles it until
	// the file fits in 10,000 parts.
	{"s3transfer", func(size int64) int64 { return s3transferChunkSize(size, 8*miB) }},
	// aws-sdk-go-v2 feature/s3/manager (and v1 s3manager): PartSize 5 MiB;
	// for a seekable body of size/PartSize >= 10,000 parts it becomes
	// size/10000 + 1 (upload.go, initSize).
	{"aws-sdk-go-manager", func(size int64) int64 { return sdkGoPartSize(size, 5*miB) }},
	// aws-sdk-go-v2 feature/s3/transfermanager: PartSizeBytes 8 MiB,
	// threshold 16 MiB (api_client.go), the same +1 adjustment
	// (api_op_UploadObject.go).
	{"aws-sdk-go-transfermanager", func(size int64) int64 { return sdkGoPartSize(size, 8*miB) }},
	// The AWS CRT S3 client (the AWS CLI's crt transfer client, boto3 with
	// CRT): 8 MiB, raised to ceil(size/10000) (aws-c-s3 source/s3_util.c,
	// aws_s3_calculate_optimal_mpu_part_size_and_num_parts).
	{"aws-crt", func(size int64) int64 { return max(8*miB, ceilDiv(size, MaxParts)) }},
	// The AWS PHP SDK's MultipartUploader (src/S3/MultipartUploader.php,
	// determinePartSize): part_size 5 MiB, raised to ceil(size/10000).
	// Flysystem's AwsS3V3Adapter calls S3Client::upload, whose ObjectUploader
	// (src/S3/ObjectUploader.php) sets no part_size and a 16 MiB
	// mup_threshold; AzuraCast's adapter extends it without changing either.
	{"aws-sdk-php", func(size int64) int64 { return max(minUploadPart, ceilDiv(size, MaxParts)) }},
	// s3cmd: multipart_chunk_size_mb = 15 (S3/Config.py), in MiB
	// (S3/MultiPart.py); it refuses files over 10,000 chunks instead of
	// growing the chunk.
	{"s3cmd", func(int64) int64 { return 15 * miB }},
	// s5cmd: --part-size 50 MiB (command/cp.go) through aws-sdk-go's
	// s3manager, which adds the same +1 adjustment.
	{"s5cmd", func(size int64) int64 { return sdkGoPartSize(size, 50*miB) }},
}

// PartSizes returns the part sizes that could have produced a multipart
// ETag of parts parts for an object of size bytes, most likely first, at
// most MaxCandidates of them, without duplicates.
//
// Every returned p satisfies ceil(size/p) == parts: p lies in
// [ceil(size/parts), floor((size-1)/(parts-1))]. In that range, in this
// order, it returns
//
//  1. the part size each known uploader (see tools) computes for size;
//  2. the powers of two of MiB, which cover s3transfer's doubling and the
//     round values people configure (64 MiB, 128 MiB, ...);
//  3. ceil(size/parts), the part size of an uploader that splits into a
//     chosen number of equal parts;
//  4. the multiples of 1 MiB and of 1 MB (10^6: mc and rclone read "64MB"
//     as decimal) nearest to size/parts, interleaved by distance, MiB first
//     on a tie.
//
// For parts == 1 it returns []int64{size}: the one part is the whole body,
// whatever part size the uploader had configured. It returns nil when no
// part size fits (parts < 1, parts > MaxParts, size < 0, fewer bytes than
// parts), and then a multipart ETag proves nothing.
//
// PartSizes is a pure function, safe for concurrent use.
func PartSizes(size int64, parts int) []int64 {
	if size < 0 || parts < 1 || parts > MaxParts {
		return nil
	}
	if parts == 1 {
		return []int64{size}
	}
	n := int64(parts)
	if size < n {
		return nil
	}
	c := collector{lo: ceilDiv(size, n), hi: (size - 1) / (n - 1)}
	if c.lo > c.hi {
		return nil
	}
	for _, t := range tools {
		c.add(t.part(size))
	}
	for p := int64(miB); p <= c.hi && !c.full(); p *= 2 {
		c.add(p)
		if p > c.hi/2 {
			break
		}
	}
	c.add(c.lo)
	c.addMultiples()
	return c.out
}

// collector gathers candidates in [lo, hi], in order, up to MaxCandidates.
type collector struct {
	lo, hi int64
	out    []int64
}

func (c *collector) full() bool { return len(c.out) >= MaxCandidates }

func (c *collector) add(p int64) {
	if c.full() || p < c.lo || p > c.hi {
		return
	}
	for _, q := range c.out {
		if q == p {
			return
		}
	}
	c.out = append(c.out, p)
}

// addMultiples adds multiples of 1 MiB and of 1 MB upwards from lo, nearest
// first, until the range or the list is exhausted.
func (c *collector) addMultiples() {
	next := func(p, unit int64) (int64, bool) {
		if p > c.hi-unit {
			return 0, false
		}
		return p + unit, true
	}
	a, aok := roundUpChecked(c.lo, miB)
	b, bok := roundUpChecked(c.lo, mB)
	aok, bok = aok && a <= c.hi, bok && b <= c.hi
	for !c.full() && (aok || bok) {
		if aok && (!bok || a <= b) {
			c.add(a)
			a, aok = next(a, miB)
		} else {
			c.add(b)
			b, bok = next(b, mB)
		}
	}
}

// rcloneChunkSize is rclone's fs/chunksize.Calculator for a known size.
func rcloneChunkSize(size int64, maxParts int, chunk int64) int64 {
	m := int64(maxParts)
	required := size / chunk
	if required < m || (required == m && size%chunk == 0) {
		return chunk
	}
	minChunk := size / m
	if r := minChunk % miB; r != 0 {
		minChunk += miB - r
	}
	if size/minChunk == m && size%m != 0 {
		minChunk += miB
	}
	return minChunk
}

// s3transferChunkSize is s3transfer's ChunksizeAdjuster.adjust_chunksize for
// a known size: double until ceil(size/chunk) <= 10,000, then clamp to
// S3's part limits.
func s3transferChunkSize(size, chunk int64) int64 {
	for ceilDiv(size, chunk) > MaxParts {
		chunk *= 2
	}
	return min(max(chunk, minUploadPart), maxUploadPart)
}

// sdkGoPartSize is the aws-sdk-go uploaders' adjustment: when size/part
// reaches 10,000 the part becomes size/10000 + 1.
func sdkGoPartSize(size, part int64) int64 {
	if size/part >= MaxParts {
		return size/MaxParts + 1
	}
	return part
}

// ceilDiv is ceil(a/b) for a >= 0, b > 0, without overflow.
func ceilDiv(a, b int64) int64 {
	if a == 0 {
		return 0
	}
	return (a-1)/b + 1
}

// roundUp rounds p >= 0 up to a multiple of unit. Callers pass values far
// below the int64 limit; roundUpChecked is for the ones that may not be.
func roundUp(p, unit int64) int64 { return ceilDiv(p, unit) * unit }

func roundUpChecked(p, unit int64) (int64, bool) {
	q := ceilDiv(p, unit)
	if q > (1<<63-1)/unit {
		return 0, false
	}
	return q * unit, true
}

// partSource names where candidate p for an object of size bytes in parts
// parts came from, for logs: the first tool whose formula gives it, else the
// generic rule that put it in the list.
func partSource(size int64, parts int, p int64) string {
	if parts == 1 {
		return "whole-body"
	}
	for _, t := range tools {
		if t.part(size) == p {
			return t.name
		}
	}
	switch {
	case p%miB == 0 && p&(p-1) == 0:
		return "power-of-two-mib"
	case p == ceilDiv(size, int64(parts)):
		return "equal-split"
	case p%miB == 0:
		return "mib-multiple"
	case p%mB == 0:
		return "mb-multiple"
	default:
		return "unknown"
	}
}
