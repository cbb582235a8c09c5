// Package objstore owns GenesisSync's access to object storage: the Store
// interface the rest of the appliance programs against, the S3
// implementation (AWS S3, MinIO, any S3-compatible store) and an in-memory
// implementation for unit tests of pure logic.
//
// It is the only package that imports aws-sdk-go-v2. Everything above it sees
// keys relative to a store prefix, Object values, ErrNotFound and the
// classification IsRetryable; nothing above it sees an SDK type.
//
// # What a Store promises
//
//   - Put stores a whole object or nothing. If the body fails, is shorter or
//     longer than PutInput.Size, or hashes to something other than
//     PutInput.CRC32C (else PutInput.SHA256), Put fails, no object is
//     created or replaced, and (for S3) no multipart upload is left open:
//     the transfer manager aborts it, and Put aborts it again by its upload
//     ID as a second line of defence.
//   - Every object carries user metadata "sha256" (lowercase hex), "crc32c"
//     when the caller gave one, and the source file's "mtime" (RFC 3339 with
//     nanoseconds). Single-part uploads (Size < PartSize) also send the
//     SHA-256 as x-amz-checksum-sha256, so the server verifies what it
//     stores; multipart uploads send a CRC-32C with every part (S3 COMPOSITE
//     checksum), and the whole body is verified locally before completion.
//   - Over plain http:// PUT bodies go as UNSIGNED-PAYLOAD unless
//     S3Options.SignPayload; the checksum headers are signed either way.
//   - List walks every object under prefix in lexical (UTF-8 byte) order,
//     page by page, without holding a whole listing in memory.
//   - Delete is idempotent.
//
// # Retries
//
// The SDK's standard retryer (S3Options.MaxAttempts, exponential backoff
// with jitter) is the one retry layer for requests, each part of a
// multipart upload included. Its client-side retry quota is disabled so
// that an outage does not turn into fast failures of unrelated requests.
// Nothing in this package loops over an SDK call, and callers must not
// either. Callers use IsRetryable to decide whether the operation is worth
// scheduling again later (network, timeouts, 5xx, throttling) or must be
// reported (access denied, missing bucket, bad credentials, checksum
// mismatch, cancelled).
//
// # What it must never do
//
//   - log or return a secret: credentials are passed to the SDK and never
//     formatted; errors carry the operation and the key, never a signature;
//   - leave a partial object, or an open multipart upload, behind a failed
//     Put;
//   - treat a missing object as an empty one: absence is ErrNotFound;
//   - interpret keys: names are checked at the border by keymap, not here
//     (objstore only refuses the empty key, invalid UTF-8 and keys longer than
//     S3's 1024 bytes).
//
// # Concurrency
//
// All Store methods of S3 and Memory are safe for concurrent use. The S3
// type shares one HTTP connection pool and one transfer manager between all
// calls. A multipart Put buffers up to (PartConcurrency+1)×PartSize bytes,
// so callers bound the number of concurrent Puts (the transfer package
// does).
//
// # What the transfer manager does (feature/s3/transfermanager v0.5.4)
//
// Put relies on these facts, read from its source and pinned by TestS3/Facts
// (s3_facts_test.go); re-check them when upgrading:
//
//   - It reads the first MultipartUploadThreshold bytes into memory; a body
//     that ends before that goes up in one PutObject (body errors before then
//     create nothing), otherwise a multipart upload starts.
//   - It aborts a multipart upload whose body, part or completion fails, on
//     the caller's context unless FailTimeout is set: NewS3 sets it, and Put
//     aborts once more.
//   - When its abort fails it formats the cause with %v, dropping it from
//     the errors.Is chain; Put re-attaches a cancellation. It logs a failed
//     CompleteMultipartUpload with the standard library's log.Printf, which
//     cannot be routed to zerolog.
//   - Its default checksum is CRC32 (per part, composite). NewS3 sets CRC32C
//     for parts, and Put sets SHA256 for single-part uploads, where the
//     caller's SHA-256 is sent as is.
//   - A caller's ChecksumSHA256 goes to PutObject for single-part uploads
//     but to CompleteMultipartUpload for multipart ones, where S3 expects
//     the composite checksum; so Put sets it only when Size < PartSize.
//   - It checks no whole-object checksum for multipart uploads, only each
//     part against a checksum it computed from the same bytes; hence the
//     local verification.
//
// # Known limits of S3-compatible stores
//
// A HEAD request has no error body, so Head on a missing bucket cannot be told
// apart from Head on a missing key: both are ErrNotFound. Ping reports a
// missing bucket. MinIO lists open multipart uploads bucket-wide only from
// an in-memory cache of uploads started since that node started (and expires
// stale uploads itself after 24 h by default), and treats a
// ListMultipartUploads prefix as an exact key; ListMultipartUploads and
// AbortStale therefore list bucket-wide and filter by the store prefix here.
// MinIO does not list both an object "a/b" and an object "a/b/c"; a share
// cannot hold both either, and the conformance suite does not ask for it.
package objstore
