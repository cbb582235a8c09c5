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
	out, err := s.client.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(s.opts.Bucket)})
	if err != nil {
		return false, fmt.Errorf("bucket %q versioning: %w", s.opts.Bucket, err)
	}
	return out.Status == s3types.BucketVersioningStatusEnabled, nil
}

// EnableVersioning turns versioning on for the bucket (tests, demo).
func (s *S3) EnableVersioning(ctx context.Context) error {
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
// keeping its metadata. If ifMatch is not empty the copy happens only
// while src still has that ETag (else an error, not retryable). Objects
// over 5 GiB need a multipart copy, which this does not do yet: S3
// refuses them with a clear error. Safe for concurrent use.
func (s *S3) Copy(ctx context.Context, src, dst, ifMatch string) (Object, error) {
	for _, k := range []string{src, dst} {
		if err := checkKey(s.opts.Prefix, k); err != nil {
			return Object{}, fmt.Errorf("copy %q to %q: %w", src, dst, err)
		}
	}
	in := &s3.CopyObjectInput{
		Bucket:            aws.String(s.opts.Bucket),
		Key:               aws.String(s.fullKey(dst)),
		CopySource:        aws.String(copySource(s.opts.Bucket, s.fullKey(src))),
		MetadataDirective: s3types.MetadataDirectiveCopy,
	}
	if ifMatch != "" {
		in.CopySourceIfMatch = aws.String(`"` + ifMatch + `"`)
	}
	out, err := s.client.CopyObject(ctx, in)
	if err != nil {
		return Object{}, s.readErr("copy", src, err)
	}
	o := Object{Key: dst, VersionID: aws.ToString(out.VersionId)}
	if out.CopyObjectResult != nil {
		o.ETag = unquote(aws.ToString(out.CopyObjectResult.ETag))
		o.LastModified = aws.ToTime(out.CopyObjectResult.LastModified)
	}
	s.log.Debug().Str("src", src).Str("dst", dst).Msg("copy")
	return o, nil
}

// MaxCopySize is the largest object one CopyObject may copy (S3's
// limit); larger ones need a multipart copy (UploadPartCopy).
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
// itself server-side (CopyObject with MetadataDirective REPLACE), only
// while it still has ETag ifMatch (else ErrPreconditionFailed): the
// backfill of objects that other tools wrote without our "sha256", once
// their bytes are proven equal to a local file. The bytes are not sent
// again. The copy is a new object: its ETag changes (a multipart
// object's becomes a single-part one on most servers), and on a versioned
// bucket the old version stays as a non-current version. size is the
// object's size; objects over MaxCopySize are refused (no multipart copy
// yet). Safe for concurrent use.
func (s *S3) ReplaceMetadata(ctx context.Context, key, ifMatch string, size int64, m Metadata) (Object, error) {
	if err := checkKey(s.opts.Prefix, key); err != nil {
		return Object{}, fmt.Errorf("replace metadata of %q: %w", key, err)
	}
	switch {
	case !isLowerHexSHA256(m.SHA256):
		return Object{}, fmt.Errorf("replace metadata of %q: %w: sha256 %q is not 64 lowercase hex digits", key, ErrInvalidInput, m.SHA256)
	case m.CRC32C != "" && !isLowerHex(m.CRC32C, 4):
		return Object{}, fmt.Errorf("replace metadata of %q: %w: crc32c %q is not 8 lowercase hex digits", key, ErrInvalidInput, m.CRC32C)
	case ifMatch == "":
		return Object{}, fmt.Errorf("replace metadata of %q: %w: no ETag to match", key, ErrInvalidInput)
	case size > MaxCopySize:
		return Object{}, fmt.Errorf("replace metadata of %q: %d bytes is over the %d of one CopyObject (multipart copy not done yet)", key, size, MaxCopySize)
	}
	ct := m.ContentType
	if ct == "" {
		ct = ContentType(key)
	}
	in := &s3.CopyObjectInput{
		Bucket:            aws.String(s.opts.Bucket),
		Key:               aws.String(s.fullKey(key)),
		CopySource:        aws.String(copySource(s.opts.Bucket, s.fullKey(key))),
		CopySourceIfMatch: aws.String(`"` + ifMatch + `"`),
		MetadataDirective: s3types.MetadataDirectiveReplace,
		Metadata:          putMetadata(PutInput{SHA256: m.SHA256, CRC32C: m.CRC32C, Mtime: m.Mtime}),
		ContentType:       aws.String(ct),
	}
	out, err := s.client.CopyObject(ctx, in)
	if err != nil {
		if isPreconditionFailure(err) {
			return Object{}, fmt.Errorf("replace metadata of %q: %w: %w", key, ErrPreconditionFailed, err)
		}
		return Object{}, s.readErr("replace metadata of", key, err)
	}
	o := Object{Key: key, Size: size, VersionID: aws.ToString(out.VersionId), ContentType: ct}
	if out.CopyObjectResult != nil {
		o.ETag = unquote(aws.ToString(out.CopyObjectResult.ETag))
		o.LastModified = aws.ToTime(out.CopyObjectResult.LastModified)
	}
	applyMetadata(&o, in.Metadata)
	s.log.Debug().Str("key", key).Str("etag", o.ETag).Msg("metadata replaced")
	return o, nil
}

// copySource is the URL-encoded "bucket/key" CopyObject wants: every byte
// outside RFC 3986's unreserved set percent-encoded, "/" kept, as the
// SDKs' own encoders do. (url.PathEscape leaves "+", "&", "=", ",", ";",
// ":", "@" and "$" as they are, and S3 reads a bare "+" there as a
// space: "Simon + Garfunkel.mp3" would name another object.)
func copySource(bucket, key string) string {
	return escapeCopyPath(bucket) + "/" + escapeCopyPath(key)
}

// escapeCopyPath percent-encodes s for x-amz-copy-source, keeping "/".
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
