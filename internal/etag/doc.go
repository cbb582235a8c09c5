// Package etag owns proving, from an S3 ETag, that a local file holds the
// same bytes as an object, while hashing the file once. It is for adopting a
// bucket filled by other tools (mc, rclone, the AWS CLI and SDKs, s3cmd,
// s5cmd, PHP apps through Flysystem), whose objects carry none of the
// appliance's own checksum metadata.
//
// # The two ETag forms
//
// An object written by one PUT has an ETag of 32 hex digits, the MD5 of its
// body. An object written by a multipart upload of N parts has
// hex(md5(md5(part1) || md5(part2) || ... || md5(partN))) + "-" + N, which
// depends on where the uploader cut the parts. Both hold only for objects
// stored without SSE-KMS or SSE-C; for those the ETag is no digest of the
// plaintext, and the caller, who sees the encryption headers, says so.
//
// Parse reads an ETag into one of the two forms or Opaque. PartSizes turns a
// multipart ETag's N and the object's size into the part sizes that could
// have produced it, from what the common uploaders compute (partsize.go
// names each formula's source), then round values. A Prover is the
// io.Writer the caller copies the file into; Result then says Equal,
// Differs or Unknown (see Verdict). Differs is kept apart from Unknown
// because a stale or hand-edited ETag on a gateway is possible: the caller
// decides what a difference means. A multipart mismatch never proves a
// difference: the uploader may have used a part size not tried.
//
// # What it must never do
//
//   - I/O of any kind: no files, no network, no logger, no clock. The caller
//     reads the file and the object's metadata and writes the logs.
//   - Claim Equal without a full match over exactly size bytes, or treat an
//     Opaque ETag, or one the caller said is not an MD5, as a digest.
//   - Buffer file data: memory stays constant whatever the file size.
//
// Equal means MD5-equal. That rules out accidental difference (a truncated
// copy, a changed tag, a re-encoded file) but not a collision crafted by
// someone who controls both the file and the object.
//
// # Concurrency
//
// Parse and PartSizes are pure functions, safe for concurrent use; ETag and
// Result are plain values. A Prover is owned by one goroutine.
package etag
