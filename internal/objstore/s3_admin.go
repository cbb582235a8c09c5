package objstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Versioning reports whether the bucket keeps object versions (status
// Enabled): a plain delete then only adds a delete marker and the data
// stays recoverable. Safe for concurrent use.
func (s *S3) Versioning(ctx context.Context) (bool, error) {
	if s.members != nil {
		return via(ctx, s, false, nil, func(ctx context.Context, e *S3) (bool, error) { return e.Versioning(ctx) })
	}

	out, err := s.client.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(s.opts.Bucket)})
	if err != nil {
		return false, fmt.Errorf("bucket %q versioning: %w", s.opts.Bucket, err)
	}
	return out.Status == s3types.BucketVersioningStatusEnabled, nil
}

// EnableVersioning turns versioning on for the bucket (tests, demo).
func (s *S3) EnableVersioning(ctx context.Context) error {
	if s.members != nil {
		return s.onEach(false, func(e *S3) error { return e.EnableVersioning(ctx) })
	}

	_, err := s.client.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
		Bucket:                  aws.String(s.opts.Bucket),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled},
	})
	if err != nil {
		return fmt.Errorf("bucket %q: enable versioning: %w", s.opts.Bucket, err)
	}
	return nil
}

// Copy copies the object at src to dst inside the bucket, server-side,
// keeping its metadata and Content-Type (MetadataDirective COPY). It copies
// exactly the version its HEAD of src saw: the copy is conditional on that
// ETag, and with ifMatch set the HEAD is too, so a src that is not ifMatch
// fails with ErrPreconditionFailed and nothing is written. A missing src is
// ErrNotFound. Objects over MaxCopySize are copied in parts (s3_copy.go),
// each conditional on the ETag; the result then has a multipart ETag and no
// tags. A process killed mid-copy leaves an open multipart upload on dst,
// which AbortStale aborts. The Object returned has the copy's ETag,
// VersionID and encryption and the source's size, metadata and
// Content-Type; LastModified only after a single CopyObject
// (CompleteMultipartUpload does not return it). Safe for concurrent use.
func (s *S3) Copy(ctx context.Context, src, dst, ifMatch string) (Object, error) {
	if s.members != nil {
		return via(ctx, s, true, nil, func(ctx context.Context, e *S3) (Object, error) { return e.Copy(ctx, src, dst, ifMatch) })
	}

	what := fmt.Sprintf("copy %q to %q", src, dst)
	for _, k := range []string{src, dst} {
		if err := checkKey(s.opts.Prefix, k); err != nil {
			return Object{}, fmt.Errorf("%s: %w", what, err)
		}
	}
	hin := &s3.HeadObjectInput{Bucket: aws.String(s.opts.Bucket), Key: aws.String(s.fullKey(src))}
	if ifMatch != "" {
		hin.IfMatch = aws.String(`"` + ifMatch + `"`)
	}
	head, err := s.client.HeadObject(ctx, hin)
	if err != nil {
		return Object{}, copyErr(ctx, what, err)
	}
	o := fromHead(dst, head)
	srcETag := o.ETag
	o.VersionID, o.LastModified, o.Encryption = "", time.Time{}, ""

	if o.Size > s.copyThreshold() {
		out, err := s.copyParts(ctx, partCopy{src: src, dst: dst, srcETag: srcETag, size: o.Size, create: copyHeaders(head)})
		if err != nil {
			return Object{}, copyErr(ctx, what+" in parts", err)
		}
		o.ETag, o.VersionID = unquote(aws.ToString(out.ETag)), aws.ToString(out.VersionId)
		o.Encryption = encryption(out.ServerSideEncryption, nil)
		s.log.Debug().Str("src", src).Str("dst", dst).Int64("size", o.Size).Str("etag", o.ETag).Msg("copy in parts")
		return o, nil
	}
	out, err := s.client.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket:            aws.String(s.opts.Bucket),
		Key:               aws.String(s.fullKey(dst)),
		CopySource:        aws.String(copySource(s.opts.Bucket, s.fullKey(src))),
		CopySourceIfMatch: aws.String(`"` + srcETag + `"`),
		MetadataDirective: s3types.MetadataDirectiveCopy,
	})
	if err != nil {
		return Object{}, copyErr(ctx, what, err)
	}
	o.VersionID = aws.ToString(out.VersionId)
	o.Encryption = encryption(out.ServerSideEncryption, out.SSECustomerAlgorithm)
	if out.CopyObjectResult != nil {
		o.ETag = unquote(aws.ToString(out.CopyObjectResult.ETag))
		o.LastModified = aws.ToTime(out.CopyObjectResult.LastModified)
	}
	s.log.Debug().Str("src", src).Str("dst", dst).Msg("copy")
	return o, nil
}

// MaxCopySize is the largest object one CopyObject may copy (S3's
// limit); Copy and ReplaceMetadata copy larger ones in parts
// (UploadPartCopy).
const MaxCopySize int64 = 5 << 30

// Metadata is what ReplaceMetadata gives an existing object: our user
// metadata (see PutInput) and its Content-Type.
type Metadata struct {
	SHA256      string // required: 64 lowercase hex digits
	CRC32C      string // optional: 8 lowercase hex digits
	Mtime       time.Time
	ContentType string // empty means ContentType(key)
}

// ReplaceMetadata gives the object at key new metadata by copying it onto
// itself server-side, only while it still has ETag ifMatch (else
// ErrPreconditionFailed, and the object is left as it was): the backfill
// of objects other tools wrote without our "sha256", once their bytes are
// proven equal to a local file. size is the object's size. Objects over
// MaxCopySize are copied in parts (s3_copy.go) after a HEAD confirms ETag
// and size; every part is conditional on ifMatch and the completion
// carries If-Match, so an object replaced at any point fails instead of
// being overwritten with the old bytes. A server that refuses If-Match on
// CompleteMultipartUpload fails these backfills; one that ignores it
// leaves the window between last part and completion open. Failures abort
// the upload as Copy's do. The copy is a new object with a new ETag, and on
// a versioned bucket the old version stays as a non-current one. The
// Object returned has the new ETag, VersionID, metadata, Content-Type and
// size; LastModified only after a single CopyObject. Safe for concurrent
// use.
func (s *S3) ReplaceMetadata(ctx context.Context, key, ifMatch string, size int64, m Metadata) (Object, error) {
	if s.members != nil {
		return via(ctx, s, true, nil, func(ctx context.Context, e *S3) (Object, error) { return e.ReplaceMetadata(ctx, key, ifMatch, size, m) })
	}

	what := fmt.Sprintf("replace metadata of %q", key)
	if err := checkKey(s.opts.Prefix, key); err != nil {
		return Object{}, fmt.Errorf("%s: %w", what, err)
	}
	switch {
	case !isLowerHexSHA256(m.SHA256):
		return Object{}, fmt.Errorf("%s: %w: sha256 %q is not 64 lowercase hex digits", what, ErrInvalidInput, m.SHA256)
	case m.CRC32C != "" && !isLowerHex(m.CRC32C, 4):
		return Object{}, fmt.Errorf("%s: %w: crc32c %q is not 8 lowercase hex digits", what, ErrInvalidInput, m.CRC32C)
	case ifMatch == "":
		return Object{}, fmt.Errorf("%s: %w: no ETag to match", what, ErrInvalidInput)
	case size < 0:
		return Object{}, fmt.Errorf("%s: %w: size %d", what, ErrInvalidInput, size)
	}
	ct := m.ContentType
	if ct == "" {
		ct = ContentType(key)
	}
	meta := putMetadata(PutInput{SHA256: m.SHA256, CRC32C: m.CRC32C, Mtime: m.Mtime})
	o := Object{Key: key, Size: size, ContentType: ct}
	applyMetadata(&o, meta)

	if size > s.copyThreshold() {
		if err := s.checkCopySource(ctx, key, ifMatch, size); err != nil {
			return Object{}, copyErr(ctx, what, err)
		}
		out, err := s.copyParts(ctx, partCopy{
			src: key, dst: key, srcETag: ifMatch, size: size, dstIfMatch: ifMatch,
			create: &s3.CreateMultipartUploadInput{Metadata: meta, ContentType: aws.String(ct)},
		})
		if err != nil {
			return Object{}, copyErr(ctx, what+" in parts", err)
		}
		o.ETag, o.VersionID = unquote(aws.ToString(out.ETag)), aws.ToString(out.VersionId)
		o.Encryption = encryption(out.ServerSideEncryption, nil)
		s.log.Debug().Str("key", key).Int64("size", size).Str("etag", o.ETag).Msg("metadata replaced in parts")
		return o, nil
	}
	out, err := s.client.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket:            aws.String(s.opts.Bucket),
		Key:               aws.String(s.fullKey(key)),
		CopySource:        aws.String(copySource(s.opts.Bucket, s.fullKey(key))),
		CopySourceIfMatch: aws.String(`"` + ifMatch + `"`),
		MetadataDirective: s3types.MetadataDirectiveReplace,
		Metadata:          meta,
		ContentType:       aws.String(ct),
	})
	if err != nil {
		return Object{}, copyErr(ctx, what, err)
	}
	o.VersionID = aws.ToString(out.VersionId)
	o.Encryption = encryption(out.ServerSideEncryption, out.SSECustomerAlgorithm)
	if out.CopyObjectResult != nil {
		o.ETag = unquote(aws.ToString(out.CopyObjectResult.ETag))
		o.LastModified = aws.ToTime(out.CopyObjectResult.LastModified)
	}
	s.log.Debug().Str("key", key).Str("etag", o.ETag).Msg("metadata replaced")
	return o, nil
}

// checkCopySource confirms, before a multipart copy starts, that key has
// ETag ifMatch (HEAD If-Match) and size bytes: parts cut to a wrong size
// would complete into a truncated object.
func (s *S3) checkCopySource(ctx context.Context, key, ifMatch string, size int64) error {
	head, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{
		Bucket:  aws.String(s.opts.Bucket),
		Key:     aws.String(s.fullKey(key)),
		IfMatch: aws.String(`"` + ifMatch + `"`),
	})
	if err != nil {
		return err
	}
	if got := aws.ToInt64(head.ContentLength); got != size {
		return fmt.Errorf("%w: the object is %d bytes, not %d", ErrInvalidInput, got, size)
	}
	return nil
}

// copySource is the URL-encoded "bucket/key" CopyObject wants: every byte
// outside RFC 3986's unreserved set percent-encoded, "/" kept, as the
// SDKs' own encoders do. Not url.PathEscape: it leaves "+" bare, which S3
// reads as a space.
func copySource(bucket, key string) string {
	return escapeCopyPath(bucket) + "/" + escapeCopyPath(key)
}

func escapeCopyPath(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '~', c == '/':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}
